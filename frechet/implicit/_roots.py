"""custom_root and custom_fixed_point: derivatives of a solver's output by the implicit
function theorem, written in frechet operations.

At a root sol of F(sol, theta) = 0, dF/dsol dsol + dF/dtheta dtheta = 0, so the JVP solves

    A x = -B t,    A = dF/dsol (as a function v -> A v, never a matrix unless the linear
                   solver forms one),  B t = dF/dtheta t,

with frechet.linalg.solve, whose rules differentiate and transpose the solve. The rule is the
JVP rule of the primitive that runs the solver on concrete values (see _solver_call.py):
forward mode applies it, reverse mode transposes the linear program it records (a transposed
solve, then the transpose of B), and because every step is a frechet operation, second and
higher derivatives, vmap and jit go through it like any other function.
"""

from __future__ import annotations

import functools

import numpy as np

import frechet as fr
from frechet import extend as fx
from frechet.implicit._pytrees import flatten, ravel, unflatten, unraveler
from frechet.implicit._solver_call import SolverCall, run_solver

DENSE_UP_TO = 500   # default linear solver: Dense up to this many unknowns, Krylov above


def _dtype(x) -> np.dtype:
    """x's dtype as NumPy's (a torch tensor's torch.float32 is float32)."""
    return fx.spec_of(x).dtype if fx.is_foreign(x) else np.result_type(x)


def _inexact(x) -> bool:
    return np.issubdtype(_dtype(x), np.inexact)


def _is_dynamic(x) -> bool:
    """Arguments that carry derivatives or may be traced: tracers and inexact arrays/numbers
    (another library's too). Everything else (integers, strings, functions, None) reaches the
    solver unchanged."""
    if isinstance(x, fx.Tracer):
        return True
    return (isinstance(x, (np.ndarray, np.generic, float, complex)) or fx.is_foreign(x)) \
        and _inexact(x)


def _split(args, kwargs):
    """(dynamic leaves, rebuild) where rebuild(leaves) gives back (args, kwargs)."""
    leaves, treedef = flatten((args, kwargs))
    where = [i for i, x in enumerate(leaves) if _is_dynamic(x)]

    def rebuild(dyn):
        full = list(leaves)
        for i, d in zip(where, dyn):
            full[i] = d
        return unflatten(treedef, full)
    return [leaves[i] for i in where], rebuild


def _sol_specs(init_params):
    leaves, treedef = flatten(init_params)
    if not leaves:
        raise TypeError("pass init_params as an array or a pytree of arrays (it gives the "
                        "solution's structure and shapes); it has no leaves")
    specs = []
    for x in leaves:
        dt = _dtype(x)
        specs.append((np.shape(x), dt if np.issubdtype(dt, np.inexact) else np.dtype(np.float64)))
    return leaves, treedef, specs


def _calling(fun, what):
    """fun, with a TypeError from the call itself (a signature that does not fit) explained."""
    @functools.wraps(fun)
    def call(sol, *args, **kwargs):
        try:
            return fun(sol, *args, **kwargs)
        except TypeError as e:
            raise TypeError(
                f"{what} is called as {what}(sol, *args, **kwargs) with the arguments the solver "
                f"got after init_params; make its signature fit ({e})") from e
    return call


class _Problem:
    """The implicit equation at one call: F, the arguments, and the linear solver choice."""

    def __init__(self, fun, fixed_point, solve, symmetric, rebuild, sol_def, sol_specs):
        self.fun, self.fixed_point = fun, fixed_point
        self.solve, self.symmetric = solve, symmetric
        self.rebuild, self.sol_def = rebuild, sol_def
        self.unravel, self.n = unraveler(sol_specs)

    def f(self, sol, dyn):
        args, kwargs = self.rebuild(list(dyn))
        # sol (and other arguments) may be another library's concrete arrays: the NumPy code
        # of fun computes on them with that library's functions
        return fx.call_on_library(self.fun, sol, *args, **kwargs)

    def _flat(self, out, what):
        leaves, _ = flatten(out)
        size = sum(int(np.prod(np.shape(x))) for x in leaves)
        if size != self.n:
            raise fr.ShapeError(f"return {self.n} numbers from {what} (one equation per unknown "
                                f"of the solution); it returned {size}")
        return ravel([fr.numpy.asarray(x) for x in leaves])

    def solver(self):
        if self.solve is not None:
            return self.solve
        if self.n <= DENSE_UP_TO:
            return fr.linalg.Dense()
        return fr.linalg.CG() if self.symmetric else fr.linalg.GMRES()

    def tangent(self, sol, dyn, tdyn):
        """The solution's tangent for argument tangents tdyn (None: no derivative)."""
        diff = [i for i, (d, t) in enumerate(zip(dyn, tdyn)) if t is not None and _inexact(d)]
        if not diff:
            return None
        what = "fixed_point_fun" if self.fixed_point else "optimality_fun"

        def of_args(*ds):
            full = list(dyn)
            for i, d in zip(diff, ds):
                full[i] = d
            return self._flat(self.f(sol, full), what)
        _, bt = fr.jvp(of_args, tuple(dyn[i] for i in diff), tuple(tdyn[i] for i in diff))

        def of_sol(s):
            return self._flat(self.f(s, dyn), what)

        def matvec(v):      # dF/dsol v, or (I - dT/dsol) v for a fixed point
            _, t = fr.jvp(of_sol, (sol,), (unflatten(self.sol_def, self.unravel(v)),))
            return v - t if self.fixed_point else t
        x = fr.linalg.solve(matvec, bt if self.fixed_point else -bt, self.solver())
        return unflatten(self.sol_def, self.unravel(x))


def solve_implicitly(solver, fun, fixed_point, solve, has_aux, symmetric,
                     init_params, args, kwargs):
    """solver(init_params, *args, **kwargs) with its derivative from fun's implicit equation."""
    init_leaves, init_def, sol_specs = _sol_specs(init_params)
    dyn, rebuild = _split(args, kwargs)
    problem = _Problem(_calling(fun, "fixed_point_fun" if fixed_point else "optimality_fun"),
                       fixed_point, solve, symmetric, rebuild, init_def, sol_specs)
    call = SolverCall(solver, has_aux, len(init_leaves), init_def, sol_specs, rebuild, problem)
    out = run_solver(call, list(init_leaves) + list(dyn))
    sol = unflatten(init_def, out[:len(sol_specs)])
    return (sol, unflatten(call.aux_def, out[len(sol_specs):])) if has_aux else sol
