"""frechet.linalg: linear solves as differentiable operators.

`solve(A, b, solver=...)` with A an array, a SciPy sparse matrix, a LinearMap or a function
v -> A v, differentiable in b and in everything A depends on (its transpose is a solve with
A^T). Solvers: Dense(), Cholesky(), CG(), GMRES(), BiCGStab(), LSQR(), NormalCG(),
Neumann(maxiter, alpha), SparseDirect(). Each takes `tol` (relative residual), `maxiter` and
`ridge` (it solves (A + ridge I) x = b), and warns, naming the residual, when it does not
converge.
"""

from frechet._src.lax.linear_solve import (
    CG,
    GMRES,
    LSQR,
    BiCGStab,
    Cholesky,
    Dense,
    Neumann,
    NormalCG,
    SparseDirect,
    solve,
)

__all__ = ["CG", "GMRES", "LSQR", "BiCGStab", "Cholesky", "Dense", "Neumann", "NormalCG",
           "SparseDirect", "solve"]
