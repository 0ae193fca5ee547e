"""L-BFGS as a pure GradientTransformation: the curvature history lives in the state.

The pair (s, y) of the previous step is formed at the next call from the parameters and
gradients kept in the state (s = params - prev_params, y = grads - prev_grads), so `update`
needs nothing but its arguments. Pairs with s.y <= 0 (no positive curvature) are skipped.
The direction is the two-loop recursion (Nocedal & Wright, Algorithm 7.4) with the initial
scaling gamma = s.y / y.y of the newest pair; the step length comes from a weak-Wolfe
line search on `value_fn`, or is a fixed `learning_rate` (a float or a schedule).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

import frechet
from frechet.extend import numpy_for
from frechet.optim._base import (
    GradientTransformation,
    require_params,
    step_count,
    tree_map,
    tree_vdot,
    zeros_like,
)


class LbfgsState(NamedTuple):
    count: Any
    prev_params: Any
    prev_grads: Any
    s_history: Any     # pytree like params, each leaf with a leading axis of memory_size
    y_history: Any
    rho: Any           # (memory_size,): 1 / s.y per pair, 0 for an empty or skipped slot


def _slot(hist, i):
    return tree_map(lambda h: h[i], hist)


def _push(hist, new, accept):
    xnp = numpy_for(hist, new, accept)

    def one(h, x):
        pushed = xnp.concatenate([h[1:], xnp.expand_dims(x, 0)], axis=0)
        return xnp.where(accept, pushed, h)
    return tree_map(one, hist, new)


def _two_loop(grads, s_hist, y_hist, rho, memory_size, gamma):
    """H g by the two-loop recursion; slots with rho = 0 leave the result unchanged."""
    q, alphas = grads, []
    for i in range(memory_size - 1, -1, -1):
        a = rho[i] * tree_vdot(_slot(s_hist, i), q)
        q = tree_map(lambda x, y, a=a: x - a * y, q, _slot(y_hist, i))
        alphas.append(a)
    r = tree_map(lambda x: gamma * x, q)
    for i, a in zip(range(memory_size), reversed(alphas)):
        b = rho[i] * tree_vdot(_slot(y_hist, i), r)
        r = tree_map(lambda x, s, c=a - b: x + c * s, r, _slot(s_hist, i))
    return r


def _wolfe(value_fn, params, direction, f0, slope, c1, c2, max_steps):
    """A step t satisfying the weak Wolfe conditions, by bisection from t = 1 (Lewis and
    Overton): f(x + t d) <= f0 + c1 t slope and g(x + t d).d >= c2 slope. The curvature
    condition keeps s.y > 0, so every accepted step adds a curvature pair. The step is a
    Python float chosen by comparisons, so its derivative is zero; the comparisons read
    values, so the search runs eagerly (a Python loop, eager fori_loop or scan)."""
    lo, hi, t = 0.0, np.inf, 1.0
    for _ in range(max_steps):
        x = tree_map(lambda p, d, t=t: p + t * d, params, direction)
        ft, gt = frechet.value_and_grad(value_fn)(x)
        if bool(ft > f0 + c1 * t * slope):
            hi = t
        elif bool(tree_vdot(gt, direction) < c2 * slope):
            lo = t
        else:
            return t
        t = 0.5 * (lo + hi) if hi < np.inf else 2.0 * lo
    return lo if lo > 0 else t      # the search ran out: the last step known to decrease f


def lbfgs(learning_rate=None, memory_size: int = 10, c1=1e-4, c2=0.9,
          max_linesearch_steps: int = 40) -> GradientTransformation:
    """Limited-memory BFGS with a weak-Wolfe line search.

    `update(grads, state, params, value_fn=f)` returns `t * d`, d = -H g from the last
    `memory_size` curvature pairs and t from a bisection search starting at 1 for
    f(params + t d) <= f(params) + c1 t g.d and grad f(params + t d).d >= c2 g.d. With
    `learning_rate` given, t is that value (or schedule), no `value_fn` is needed and the
    update is NumPy operations only (so it also runs staged, in jit or a staged scan).
    `value=f(params)` saves one evaluation. An unrolled L-BFGS loop is differentiable; the
    line search's step length is piecewise constant, so its derivative is zero.

    Example:
      >>> f = lambda x: np.sum((x - 3.0) ** 2)
      >>> opt, x = lbfgs(), np.zeros(2)
      >>> state = opt.init(x)
      >>> for _ in range(3):
      ...     u, state = opt.update(frechet.grad(f)(x), state, x, value_fn=f)
      ...     x = x + u
      >>> x
      array([3., 3.])
    """
    if not isinstance(memory_size, (int, np.integer)) or memory_size < 1:
        raise ValueError(f"pass a positive integer memory_size to lbfgs; got {memory_size!r}.")

    def init(params):
        hist = tree_map(lambda p: np.zeros((memory_size,) + np.shape(p)), params)
        return LbfgsState(step_count(), zeros_like(params), zeros_like(params), hist, hist,
                          np.zeros(memory_size))

    def update(grads, state, params=None, *, value_fn=None, value=None, **extra):
        require_params(params, "lbfgs")
        if learning_rate is None and value_fn is None:
            raise ValueError("pass value_fn=<the objective> to lbfgs's update (its line search "
                             "evaluates it), or build it with lbfgs(learning_rate=...).")
        s = tree_map(lambda p, q: p - q, params, state.prev_params)
        y = tree_map(lambda g, h: g - h, grads, state.prev_grads)
        sy = tree_vdot(s, y)
        xnp = numpy_for(sy, state)
        accept = xnp.logical_and(state.count > 0, sy > 0)
        s_hist, y_hist = _push(state.s_history, s, accept), _push(state.y_history, y, accept)
        rho_new = xnp.where(accept, 1.0 / xnp.where(accept, sy, 1.0), 0.0)
        rho = xnp.where(accept, xnp.concatenate([state.rho[1:], xnp.reshape(rho_new, (1,))]),
                        state.rho)
        yy = tree_vdot(_slot(y_hist, -1), _slot(y_hist, -1))
        has = rho[-1] > 0
        gamma = xnp.where(has, 1.0 / (xnp.where(has, rho[-1], 1.0) * xnp.where(has, yy, 1.0)),
                          1.0)
        d = tree_map(lambda r: -r, _two_loop(grads, s_hist, y_hist, rho, memory_size, gamma))
        if learning_rate is None:
            f0 = value_fn(params) if value is None else value
            t = _wolfe(value_fn, params, d, f0, tree_vdot(grads, d), c1, c2,
                       max_linesearch_steps)
        else:
            t = learning_rate(state.count) if callable(learning_rate) else learning_rate
        updates = tree_map(lambda x: t * x, d)
        return updates, LbfgsState(state.count + 1, params, grads, s_hist, y_hist, rho)

    return GradientTransformation(init, update)
