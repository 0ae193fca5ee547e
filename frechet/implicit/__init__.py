"""frechet.implicit: derivatives of solvers' outputs by the implicit function theorem.

`custom_root(optimality_fun)` and `custom_fixed_point(fixed_point_fun)` decorate a solver
`solver(init_params, *args, **kwargs) -> sol`. The solver runs on plain values (SciPy, Python
loops, anything) and is never differentiated; the derivative of sol with respect to every
argument after init_params comes from the equation sol satisfies, through a linear solve
with one of frechet.linalg's solvers (re-exported here). Conventions: docs/implicit.md.
`prox` (proximal operators) with `ProximalGradient` and `BlockCoordinateDescent` give FPAD
for proximal splitting. `zero_order_grad` (from frechet.zero_order) estimates gradients of
black-box functions.
"""

from frechet.implicit import prox
from frechet.implicit._api import custom_fixed_point, custom_root
from frechet.implicit._proximal import BlockCoordinateDescent, ProximalGradient
from frechet.linalg import CG, GMRES, LSQR, BiCGStab, Cholesky, Dense, Neumann, NormalCG
from frechet.zero_order import zero_order_grad

__all__ = ["CG", "GMRES", "LSQR", "BiCGStab", "BlockCoordinateDescent", "Cholesky", "Dense",
           "Neumann", "NormalCG", "ProximalGradient", "custom_fixed_point", "custom_root", "prox",
           "zero_order_grad"]
