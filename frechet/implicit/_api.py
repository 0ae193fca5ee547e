"""The public decorators of frechet.implicit."""

from __future__ import annotations

import functools

from frechet.implicit._roots import solve_implicitly


def custom_root(optimality_fun, solve=None, has_aux=False, symmetric=False):
    """Decorate a solver so that its output is differentiated as a root of optimality_fun.

    The decorated `solver(init_params, *args, **kwargs)` returns sol (or (sol, aux) with
    has_aux) with optimality_fun(sol, *args, **kwargs) == 0. The solver runs on plain NumPy
    values and is never differentiated (on another library's arrays, torch tensors, its NumPy
    code computes with that library: docs/backends.md). The JVP of sol solves
    (dF/dsol) x = -(dF/dargs) t (F = optimality_fun, applied to sol as a function, a matrix
    only if the linear solver forms one); reverse mode is its transpose. The rule is applied at whatever point the solver
    returned, and it is made of frechet operations, so grad(grad(...)), jvp(grad(...)),
    hessian, jacfwd/jacrev, vmap and jit all go through it.

    Every argument after init_params that is an inexact array, number or traced value is
    differentiable (pytrees such as dicts of them too); integers, strings, functions and other
    objects reach the solver and optimality_fun unchanged. The derivative with respect to
    init_params is exactly zero.

    Args:
      optimality_fun: F(sol, *args, **kwargs), a pytree with as many numbers as sol (for an
        argmin, the gradient of the objective in sol).
      solve: a frechet.linalg solver for the linear systems (Dense(), CG(), GMRES(),
        Neumann(k), ...). Default: Dense() up to 500 unknowns, else CG() when symmetric,
        GMRES() otherwise.
      has_aux: the *solver* returns (sol, aux); aux (a pytree of arrays) is passed through
        with no derivative. optimality_fun never returns aux.
      symmetric: dF/dsol is symmetric (F is a gradient): large systems use CG.

    Returns:
      A decorator; the decorated solver has the solver's signature.

    Example:
      >>> import numpy as np
      >>> import frechet as fr
      >>> import frechet.implicit
      >>> def ridge_grad(w, lam, X, y):          # gradient of 0.5|Xw - y|^2 + 0.5 lam |w|^2
      ...     return X.T @ (X @ w - y) + lam * w
      >>> @fr.implicit.custom_root(ridge_grad)
      ... def ridge(init, lam, X, y):            # any solver: here NumPy's
      ...     return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)
      >>> X, y = np.eye(2), np.array([1.0, 2.0])
      >>> float(fr.grad(lambda lam: ridge(np.zeros(2), lam, X, y).sum())(1.0))  # -3/(1 + lam)^2
      -0.75
    """
    def decorator(solver):
        @functools.wraps(solver)
        def solved(init_params, *args, **kwargs):
            return solve_implicitly(solver, optimality_fun, False, solve, has_aux, symmetric,
                                    init_params, args, kwargs)
        return solved
    return decorator


def custom_fixed_point(fixed_point_fun, solve=None, has_aux=False):
    """Decorate a solver so that its output is differentiated as a fixed point of
    fixed_point_fun: sol = T(sol, *args, **kwargs).

    As custom_root, with the pinned convention that the linear systems are

        (I - dT/dsol) v = b,

    so solve=Neumann(k) (alpha = 1) is fixed-point automatic differentiation (FPAD): k
    steps of the fixed-point map's derivative, v = sum_{j<k} (dT/dsol)^j b.

    Args:
      fixed_point_fun: T(sol, *args, **kwargs), a pytree with sol's number of entries.
      solve: a frechet.linalg solver (default as custom_root's, non-symmetric).
      has_aux: the solver returns (sol, aux); aux has no derivative.

    Returns:
      A decorator; the decorated solver has the solver's signature.

    Example:
      >>> import numpy as np
      >>> import frechet as fr
      >>> import frechet.implicit
      >>> def T(x, a):                         # x = a cos(x)
      ...     return a * np.cos(x)
      >>> @fr.implicit.custom_fixed_point(T)
      ... def iterate(x, a):
      ...     for _ in range(100):
      ...         x = T(x, a)
      ...     return x
      >>> x = iterate(0.0, 0.5)
      >>> d = fr.grad(lambda a: iterate(0.0, a))(0.5)     # cos(x) / (1 + a sin(x))
      >>> bool(abs(d - np.cos(x) / (1 + 0.5 * np.sin(x))) < 1e-12)
      True
    """
    def decorator(solver):
        @functools.wraps(solver)
        def solved(init_params, *args, **kwargs):
            return solve_implicitly(solver, fixed_point_fun, True, solve, has_aux, False,
                                    init_params, args, kwargs)
        return solved
    return decorator
