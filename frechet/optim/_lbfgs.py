"""L-BFGS as a pure GradientTransformation: the curvature history lives in the state.

The pair (s, y) of the previous step is formed at the next call from the parameters and
gradients kept in the state (s = params - prev_params, y = grads - prev_grads), so `update`
needs nothing but its arguments. Pairs with s.y <= 0 (no positive curvature) are skipped.
The direction is the two-loop recursion (Nocedal & Wright, Algorithm 7.4) with the initial
scaling gamma = s.y / y.y of the newest pair; the step length comes from a backtracking
Armijo line search on `value_fn`, or is a fixed `learning_rate` (a float or a schedule).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

import frechet
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
    def one(h, x):
        pushed = np.concatenate([h[1:], np.expand_dims(x, 0)], axis=0)
        return np.where(accept, pushed, h)
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


def _backtrack(value_fn, params, direction, f0, slope, c1, decrease, max_steps):
    """The first t in 1, decrease, decrease**2, ... with f(x + t d) <= f0 + c1 t slope (the
    last one tried after max_steps). A frechet.while_loop, so it also runs staged."""
    def trial(t):
        return value_fn(tree_map(lambda p, d: p + t * d, params, direction))

    def cond(c):
        t, ft, k = c
        return np.logical_and(ft > f0 + c1 * t * slope, k < max_steps)

    def body(c):
        t, _, k = c
        t = t * decrease
        return t, trial(t), k + 1

    one = np.ones(())
    t, _, _ = frechet.while_loop(cond, body, (one, trial(one), np.zeros((), np.int64)))
    return t


def lbfgs(learning_rate=None, memory_size: int = 10, c1=1e-4, decrease=0.5,
          max_linesearch_steps: int = 30) -> GradientTransformation:
    """Limited-memory BFGS with a backtracking (Armijo) line search.

    `update(grads, state, params, value_fn=f)` returns `t * d`, d = -H g from the last
    `memory_size` curvature pairs and t the first of 1, decrease, decrease**2, ... with
    f(params + t d) <= f(params) + c1 t g.d. With `learning_rate` given, t is that value (or
    schedule) and no `value_fn` is needed. `value=f(params)` saves one evaluation. Every step
    is NumPy operations plus a `frechet.while_loop`, so an unrolled L-BFGS loop is
    differentiable (the accepted step length is piecewise constant: zero derivative).

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
        accept = np.logical_and(state.count > 0, sy > 0)
        s_hist, y_hist = _push(state.s_history, s, accept), _push(state.y_history, y, accept)
        rho_new = np.where(accept, 1.0 / np.where(accept, sy, 1.0), 0.0)
        rho = np.where(accept, np.concatenate([state.rho[1:], np.reshape(rho_new, (1,))]),
                       state.rho)
        yy = tree_vdot(_slot(y_hist, -1), _slot(y_hist, -1))
        has = rho[-1] > 0
        gamma = np.where(has, 1.0 / (np.where(has, rho[-1], 1.0) * np.where(has, yy, 1.0)), 1.0)
        d = tree_map(lambda r: -r, _two_loop(grads, s_hist, y_hist, rho, memory_size, gamma))
        if learning_rate is None:
            f0 = value_fn(params) if value is None else value
            t = _backtrack(value_fn, params, d, f0, tree_vdot(grads, d), c1, decrease,
                           max_linesearch_steps)
        else:
            t = learning_rate(state.count) if callable(learning_rate) else learning_rate
        updates = tree_map(lambda x: t * x, d)
        return updates, LbfgsState(state.count + 1, params, grads, s_hist, y_hist, rho)

    return GradientTransformation(init, update)
