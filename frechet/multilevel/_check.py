"""check(engine): every hypergradient against the exact one and against finite differences."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

import frechet
from frechet import linalg
from frechet.implicit import custom_root
from frechet.multilevel._trees import ravel


def _newton(f, x0, tol, maxiter):
    """Minimise f (a function of a flat vector, plain values) by damped Newton steps."""
    x = np.asarray(x0, dtype=float)
    for _ in range(maxiter):
        g = np.asarray(frechet.grad(f)(x), dtype=float)
        if np.linalg.norm(g) <= tol * (1.0 + np.linalg.norm(x)):
            return x, True
        H = np.asarray(frechet.hessian(f)(x), dtype=float).reshape(x.size, x.size)
        d = np.linalg.lstsq(H, g, rcond=None)[0]
        fx, t = float(f(x)), 1.0
        while t > 1e-12 and not float(f(x - t * d)) <= fx + 1e-14 * abs(fx):
            t /= 2
        x = x - t * d
    g = np.asarray(frechet.grad(f)(x), dtype=float)
    return x, bool(np.linalg.norm(g) <= tol * (1.0 + np.linalg.norm(x)))


class _Exact:
    """Responses that re-solve each lower problem to tolerance (Newton) and differentiate it
    implicitly (custom_root with a dense solve)."""

    def __init__(self, engine, tol, maxiter):
        self.engine, self.tol, self.maxiter = engine, tol, maxiter

    def __call__(self, name, env):
        engine = self.engine

        def objective(p, env):
            return engine._total(name, p, env, self)

        def optimality(p, env):
            return frechet.grad(objective)(p, env)

        @custom_root(optimality, solve=linalg.Dense(), symmetric=True)
        def solve(init, env):
            x0, unravel = ravel(init)
            x, ok = _newton(lambda x: objective(unravel(x), env), x0, self.tol, self.maxiter)
            if not ok:
                warnings.warn(f"check: the Newton solve of problem {name!r} did not reach "
                              f"tol={self.tol} in {self.maxiter} steps; raise maxiter or "
                              f"loosen tol.", RuntimeWarning, stacklevel=2)
            return unravel(x)

        return solve(engine.params[name], engine._env_for(name, env))


@dataclasses.dataclass(frozen=True)
class CheckRow:
    """One problem: its hypergradient, the exact one and finite differences (flat vectors,
    fd None when skipped), and the errors of the first against the others."""

    problem: str
    method: str
    error_vs_exact: float
    error_vs_fd: float
    ok: bool
    hypergradient: np.ndarray
    exact: np.ndarray
    fd: np.ndarray | None


@dataclasses.dataclass(frozen=True)
class CheckReport:
    """The rows of check(): errors max|g - ref| / max(max|ref|, 1)."""

    rows: tuple
    rtol: float

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def __str__(self):
        head = f"{'problem':<14} {'method (of the problems below)':<44} {'vs exact':>10} " \
               f"{'vs FD':>10}  ok"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            lines.append(f"{r.problem:<14} {r.method:<44} {r.error_vs_exact:>10.2e} "
                         f"{r.error_vs_fd:>10.2e}  {'yes' if r.ok else 'NO'}")
        return "\n".join(lines)


def _rel(a, b):
    # Note: relative to max(|ref|_inf, 1), so a hypergradient that is zero at an optimum
    # is compared absolutely, not relatively to rounding noise.
    scale = max(float(np.max(np.abs(b))) if b.size else 0.0, 1.0)
    return float(np.max(np.abs(a - b))) / scale if a.size else 0.0


def _central(f, x, h):
    g = np.zeros_like(x)
    for i in range(x.size):
        step = h * max(1.0, abs(x[i]))
        e = np.zeros_like(x)
        e[i] = step
        g[i] = (float(f(x + e)) - float(f(x - e))) / (2 * step)
    return g


def _row(engine, name, exact, rtol, fd_step, fd_max_size):
    x0, unravel = ravel(engine.params[name])
    g = ravel(engine.hypergradient(name))[0]
    ref = ravel(frechet.grad(lambda p: engine.total_loss(name, p, exact))(
        engine.params[name]))[0]
    fd, err_fd = None, float("nan")
    if x0.size <= fd_max_size:
        fd = _central(lambda x: engine.total_loss(name, unravel(x), exact), x0, fd_step)
        err_fd = _rel(g, fd)
    below = engine.graph.descendants[name]
    method = ", ".join(f"{n}: {engine.problems[n].method!r}" for n in below) or "-"
    err = _rel(g, ref)
    return CheckRow(name, method, err, err_fd, err <= rtol, g, ref, fd)


def check(engine, rtol: float = 1e-6, tol: float = 1e-12, maxiter: int = 100,
          fd_step: float = 1e-5, fd_max_size: int = 50, verbose: bool = True) -> CheckReport:
    """Compare every problem's hypergradient with the exact one and with finite differences.

    Exact: each problem below is re-solved by Newton's method to `tol` (nested: a middle
    problem's Newton solve re-solves its lowers at every step) and differentiated
    implicitly. Finite differences: central differences of the problem's loss as a
    function of its parameters, lowers re-solved the same way (problems with at most
    `fd_max_size` parameters; NaN otherwise). Newton assumes small problems with
    positive-definite Hessians at the solutions.

    Args:
      engine: an Engine, at its current state.
      rtol: a row is ok when its error vs exact is at most rtol.
      tol, maxiter: the Newton solves' gradient tolerance and step limit.
      fd_step: the relative finite-difference step.
      fd_max_size: skip finite differences above this many parameters.
      verbose: print the table.

    Returns:
      A CheckReport (its rows, `ok`, and `str()` the table).

    Example:
      >>> import numpy as np
      >>> from frechet import optim
      >>> from frechet.multilevel import Engine, Neumann, Problem, check
      >>> inner = Problem("inner", lambda w, lam, batch: np.sum((w - lam) ** 2),
      ...                 np.array([0.5]), optim.sgd(0.25), method=Neumann(40, 0.25))
      >>> outer = Problem("outer", lambda lam, w, batch: np.sum((w - 1.0) ** 2),
      ...                 np.array([0.5]), optim.sgd(0.25))
      >>> engine = Engine([outer, inner], upper_to_lower={"outer": ["inner"]},
      ...                 lower_to_upper={"inner": ["outer"]})
      >>> report = check(engine, verbose=False)
      >>> [(r.problem, r.ok) for r in report.rows]
      [('outer', True), ('inner', True)]
    """
    exact = _Exact(engine, tol, maxiter)
    rows = [_row(engine, name, exact, rtol, fd_step, fd_max_size)
            for name in engine.graph.order]
    report = CheckReport(tuple(rows), rtol)
    if verbose:
        print(report)
    return report
