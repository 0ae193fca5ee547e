"""ProximalGradient and BlockCoordinateDescent: proximal splitting solvers whose solutions are
differentiated through their own fixed-point map (FPAD) or by unrolling the loop.

The iteration is one NumPy function, run on plain values (implicit mode: never
differentiated, inside custom_fixed_point's solver) or on traced values (implicit=False: the
Python loop over frechet operations is differentiated). In implicit mode the fixed-point map
is the solver's own step with the step sizes it used (pinned): for ProximalGradient

    T(x) = prox(x - eta grad fun(x, *args), hp, eta),

for BlockCoordinateDescent one sweep over the blocks. The step sizes are found at run time
(backtracking, curvature), so they travel as a second output of the solver, `eta`, whose map
is stop_gradient(eta): its rows of (I - dT/dsol) are the identity with a zero right-hand
side, and under jit the derivative uses the step sizes of the current call, not of the trace.
"""

from __future__ import annotations

import warnings

import numpy as np

import frechet as fr
from frechet import extend as fx
from frechet.implicit import prox as _prox
from frechet.implicit._api import custom_fixed_point

# penalties whose solution has a zero Jacobian off its support (where it is zero)
_SUPPORT_PROX = (_prox.l1, _prox.group_l1, _prox.elastic_net, _prox.nonnegative)


def _check_options(cls, maxiter, tol, support_only, prox):
    if int(maxiter) != maxiter or maxiter < 1:
        raise ValueError(f"pass maxiter to {cls} as a positive integer; got {maxiter!r}")
    if not tol >= 0:
        raise ValueError(f"pass tol to {cls} as a non-negative number; got {tol!r}")
    if support_only and prox not in _SUPPORT_PROX:
        raise ValueError(
            f"drop support_only=True for {getattr(prox, '__name__', prox)!s}, or use one of "
            f"prox.l1, group_l1, elastic_net, nonnegative: support_only sets the Jacobian to "
            f"zero where the solution is zero, right only for those penalties")


def _not_converged(cls, res, tol, maxiter):
    res = "(traced)" if isinstance(res, fx.Tracer) else f"{float(res):.3g}"
    warnings.warn(f"{cls} did not converge: fixed-point residual {res} > tol {tol:.3g} "
                  f"after {maxiter} iterations; raise maxiter or tol. Its derivative is taken "
                  f"at the point it returned", RuntimeWarning, stacklevel=4)


class _Splitting:
    """Abstract: run() in implicit or unrolled mode around the subclass's _iterate/_step."""

    def _iterate(self, x, hp, args):            # -> (x, eta), on plain or traced values
        raise NotImplementedError

    def _step(self, x, eta, hp, args):          # the fixed-point map, with step sizes eta
        raise NotImplementedError

    def _grad(self, x, args):
        return fr.grad(self.fun)(x, *args)

    def _default_solve(self):
        # tol=0 (run all maxiter steps): maxiter truncated FPAD steps, no residual target
        return fr.linalg.Neumann(maxiter=self.maxiter, tol=self.tol or None)

    def run(self, init, hyperparams_prox, *args):
        """The solution of min_x fun(x, *args) + g(x, hyperparams_prox), from init.

        Differentiable in hyperparams_prox and in every inexact argument of args (not in
        init: zero derivative in implicit mode).
        """
        if not self.implicit:
            try:
                return self._iterate(init, hyperparams_prox, args)[0]
            except fr.ConcretizationError as e:
                raise fr.ConcretizationError(
                    f"use implicit=True, or (ProximalGradient) pass stepsize= and tol=0, to "
                    f"run {type(self).__name__}(implicit=False) under vmap or make_program: "
                    f"the unrolled loop tests values (backtracking, the stopping test, the "
                    f"curvature check), which a batched or staged value cannot answer "
                    f"({e})") from e

        def fixed_point(sol, hp, *args):
            x, eta = sol
            eta = fr.stop_gradient(eta)
            return self._masked(x, self._step(x, eta, hp, args)), eta

        @custom_fixed_point(fixed_point, solve=self.solve or self._default_solve())
        def solver(init, hp, *args):
            x, eta = self._iterate(init[0], hp, args)
            return np.asarray(x), np.asarray(eta, dtype=np.result_type(x))

        x0 = init if isinstance(init, fx.Tracer) or fx.is_foreign(init) else np.asarray(init)
        eta0 = np.zeros(np.shape(x0), dtype=np.result_type(fx.spec_of(x0).dtype, 1.0))
        x, _ = solver((x0, eta0), hyperparams_prox, *args)
        return self._masked(x, x)

    def _masked(self, x, y):
        """y, zero with zero derivative where x is zero (support_only), else y."""
        if not self.support_only:
            return y
        return np.where(fr.stop_gradient(x) != 0, y, 0.0 * y)


class ProximalGradient(_Splitting):
    """Proximal gradient (ISTA, FISTA when accelerate) for min_x fun(x, *args) + g(x, hp).

    Args:
      fun: the smooth part, fun(x, *args) -> a number (written in NumPy; frechet gives its
        gradient).
      prox: prox(x, hyperparams, scaling) of g, e.g. frechet.implicit.prox.l1.
      stepsize: a fixed step (at most 1/L for an L-smooth fun), or None: backtracking line
        search (start 1, halve until the quadratic upper bound holds; the step never grows).
      maxiter: iterations at most.
      tol: stop when |T(x) - x| / eta <= tol (the gradient mapping's norm).
      accelerate: FISTA's momentum (the fixed-point map stays the plain prox-gradient step).
      implicit: True (default): the derivative of the solution by custom_fixed_point on the
        prox-gradient step with the step size the run used; False: differentiate the loop
        itself (unrolled; its derivative also depends on init and on maxiter).
      solve: the linear solver of (I - dT/dx) v = b; default Neumann(maxiter, tol=tol)
        (Neumann(maxiter) when tol=0), fixed-point automatic differentiation (FPAD): O(n)
        memory, forward or reverse.
      support_only: for l1, group_l1, elastic_net and nonnegative: the Jacobian is set to
        exactly zero where the solution is zero and the fixed-point map is restricted to the
        support (off-support rows of the system are the identity with zero right-hand side).

    Example:
      >>> import numpy as np
      >>> import frechet as fr
      >>> from frechet.implicit import ProximalGradient, prox
      >>> X, y = np.eye(3), np.array([3.0, -0.5, 2.0])
      >>> pg = ProximalGradient(lambda w, X, y: 0.5 * np.sum((X @ w - y) ** 2), prox.l1)
      >>> np.round(pg.run(np.zeros(3), 1.0, X, y), 6)        # soft-threshold of y at 1
      array([2., 0., 1.])
      >>> float(np.round(fr.grad(lambda lam: pg.run(np.zeros(3), lam, X, y).sum())(1.0), 6))
      -2.0
    """

    def __init__(self, fun, prox, stepsize=None, maxiter=500, tol=1e-8, accelerate=True,
                 implicit=True, solve=None, support_only=False):
        _check_options("ProximalGradient", maxiter, tol, support_only, prox)
        if stepsize is not None and not stepsize > 0:
            raise ValueError(f"pass stepsize as a positive number, or None for backtracking; "
                             f"got {stepsize!r}")
        self.fun, self.prox, self.stepsize = fun, prox, stepsize
        self.maxiter, self.tol, self.accelerate = int(maxiter), tol, accelerate
        self.implicit, self.solve, self.support_only = implicit, solve, support_only

    def _step(self, x, eta, hp, args):
        return self.prox(x - eta * self._grad(x, args), hp, eta)

    def _backtrack(self, y, fy, gy, eta, hp, args):
        """The prox step from y, halving eta until fun lies under its quadratic model."""
        for _ in range(60):
            x = self.prox(y - eta * gy, hp, eta)
            d = x - y
            # Note: the slack of a few ulps of fun keeps rounding near the solution from
            # halving eta for ever
            if self.stepsize is not None or (
                    self.fun(x, *args) - fy - np.sum(gy * d) - np.sum(d * d) / (2 * eta)
                    <= 1e-14 * (1 + np.abs(fy))):
                return x, eta
            eta = eta / 2
        return x, eta

    def _iterate(self, x, hp, args):
        eta = 1.0 if self.stepsize is None else self.stepsize
        y, t, res = x, 1.0, np.inf
        for _ in range(self.maxiter):
            fy, gy = fr.value_and_grad(self.fun)(y, *args)
            x_new, eta = self._backtrack(y, fy, gy, eta, hp, args)
            if self.accelerate:
                t_new = (1 + np.sqrt(1 + 4 * t * t)) / 2
                y = x_new + ((t - 1) / t_new) * (x_new - x)
                t = t_new
            else:
                y = x_new
            step, x = x_new - x, x_new
            if self.tol == 0:       # no test on values: the loop is vmap-able unrolled
                continue
            res = np.sqrt(np.sum(fr.stop_gradient(step) ** 2)) / eta
            if res <= self.tol:
                break
        else:
            if self.tol > 0:
                _not_converged("ProximalGradient", res, self.tol, self.maxiter)
        return x, eta + 0.0 * x


class BlockCoordinateDescent(_Splitting):
    """Cyclic block coordinate descent for min_x fun(x, *args) + g(x, hp), g separable.

    The blocks are the coordinates of a 1-D x, or the rows of a 2-D x (with prox.group_l1,
    one group per row). Block i steps x_i <- prox(x_i - eta_i grad_i fun(x), hp, eta_i) with
    eta_i = 1 / L_i, L_i the largest eigenvalue of fun's Hessian block at init (exact for
    quadratic losses such as the Lasso's). Each block update evaluates fun's full gradient,
    so a sweep costs one gradient per block: meant for Lasso-type problems of modest size.

    Args:
      fun, block_prox: as ProximalGradient's fun and prox; block_prox must be separable over
        the blocks (l1, elastic_net, group_l1 by rows, box, nonnegative).
      maxiter: sweeps at most.
      tol: stop when a sweep moves x by at most tol (Euclidean norm).
      implicit, solve, support_only: as ProximalGradient's; the fixed-point map is one sweep.

    Example:
      >>> import numpy as np
      >>> from frechet.implicit import BlockCoordinateDescent, prox
      >>> X, y = np.array([[1.0, 0.5], [0.0, 1.0]]), np.array([2.0, 1.0])
      >>> bcd = BlockCoordinateDescent(lambda w, X, y: 0.5 * np.sum((X @ w - y) ** 2), prox.l1)
      >>> np.round(bcd.run(np.zeros(2), 0.1, X, y), 6)
      array([1.425, 0.95 ])
    """

    def __init__(self, fun, block_prox, maxiter=500, tol=1e-8, implicit=True, solve=None,
                 support_only=False):
        _check_options("BlockCoordinateDescent", maxiter, tol, support_only, block_prox)
        self.fun, self.prox = fun, block_prox
        self.maxiter, self.tol = int(maxiter), tol
        self.implicit, self.solve, self.support_only = implicit, solve, support_only

    def _stepsizes(self, x, args):
        """eta of x's shape: 1 / (largest eigenvalue of each block of fun's Hessian at x)."""
        x = fr.stop_gradient(x)
        h = fr.hessian(self.fun)(x, *[fr.stop_gradient(a) for a in args])
        if np.ndim(x) == 1:
            lips = np.diagonal(h)
        elif np.ndim(x) == 2:
            g, k = np.shape(x)
            h = np.reshape(h, (g, k, g, k))
            lips = np.stack([np.max(np.linalg.eigvalsh(h[i, :, i, :])) for i in range(g)])
        else:
            raise fr.ShapeError(f"pass init to BlockCoordinateDescent as a 1-D (blocks: "
                                f"coordinates) or 2-D (blocks: rows) array; got shape "
                                f"{np.shape(x)}")
        if not np.all(lips > 0):
            raise ValueError("BlockCoordinateDescent needs fun to be strictly convex in each "
                             "block (positive Hessian blocks at init); use ProximalGradient")
        eta = 1.0 / lips
        return eta if np.ndim(x) == 1 else np.broadcast_to(eta[:, None], np.shape(x))

    def _step(self, x, eta, hp, args):
        """One cyclic sweep over the blocks."""
        n = np.shape(x)[0]
        rows = np.arange(n).reshape((n,) + (1,) * (np.ndim(x) - 1))
        for i in range(n):
            z = self.prox(x - eta * self._grad(x, args), hp, eta)
            x = np.where(rows == i, z, x)
        return x

    def _iterate(self, x, hp, args):
        eta = self._stepsizes(x, args)
        res = np.inf
        for _ in range(self.maxiter):
            x_new = self._step(x, eta, hp, args)
            res = np.sqrt(np.sum(fr.stop_gradient(x_new - x) ** 2))
            x = x_new
            if res <= self.tol:
                break
        else:
            if self.tol > 0:
                _not_converged("BlockCoordinateDescent", res, self.tol, self.maxiter)
        return x, eta + 0.0 * x
