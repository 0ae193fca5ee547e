"""A universal majorization-minimization optimiser (Streeter, "Universal Majorization-Minimization
Algorithms"): gradient steps with one step size per block of parameters, chosen by minimising a
verified quadratic upper bound of the loss, so the loss never increases.

At parameters x with gradient g, block k moves along its own part of -g by alpha_k:
x(alpha) = x - sum_k alpha_k g_k, alpha in the box [0, alpha_max]^m. taylor_bound encloses
h(alpha) = f(x(alpha)) over that box to degree 1: h(alpha) lies in
h(0) + c . alpha + <R, alpha alpha^T> with R an interval matrix. Every alpha_k alpha_l is >= 0 on
the box, so U(alpha) = h(0) + c . alpha + alpha^T R_hi alpha bounds h from above, with
U(0) = h(0): minimising U over the box (coordinate descent, which never increases U) gives
f(x(alpha)) <= U(alpha) <= f(x). Each alpha_max doubles when its step reaches at least half of
it and halves otherwise. One block for everything is SafeRate.
"""

from __future__ import annotations

import numpy as np

from frechet._src import tree
from frechet._src.api.api import value_and_grad
from frechet._src.bounds.taylor_bound import taylor_bound

BLOCKS = ("leaves", "elements", "all")


class UniversalMM:
    """A learning-rate-free optimiser for a loss of a pytree of float64 arrays.

    blocks: "leaves" (a step size per leaf, e.g. per weight matrix; the default), "elements"
    (one per scalar parameter: a verified diagonal preconditioner, for small models: the bound
    carries m^2 coefficients per intermediate element) or "all" (one step size: SafeRate).

    Example:
      >>> opt = UniversalMM(loss)
      >>> params, info = opt.step(params)     # info: loss, bound, alpha, alpha_max
    """

    def __init__(self, loss, blocks: str = "leaves", alpha_max: float = 1.0, sweeps: int = 200):
        if blocks not in BLOCKS:
            raise ValueError(f"UniversalMM: blocks must be one of {BLOCKS}, got {blocks!r}")
        self.loss, self.blocks, self.sweeps = loss, blocks, sweeps
        self.alpha_max = None                   # per block, set at the first step
        self._initial = float(alpha_max)
        self._value_and_grad = value_and_grad(loss)

    def _block_sizes(self, leaves):
        if self.blocks == "all":
            return None
        if self.blocks == "leaves":
            return [1] * len(leaves)
        return [np.size(v) for v in leaves]

    def step(self, params):
        leaves, treedef = tree.flatten(params)
        value, grads = self._value_and_grad(params)
        value = float(value)
        x = [np.asarray(v, dtype=np.float64) for v in leaves]
        v = [-np.asarray(g, dtype=np.float64) for g in tree.flatten(grads)[0]]
        sizes = self._block_sizes(x)
        m = 1 if sizes is None else sum(sizes)
        if self.alpha_max is None or self.alpha_max.shape != (m,):
            self.alpha_max = np.full(m, self._initial)
        if not any(np.any(d) for d in v):
            return params, {"loss": value, "bound": value, "alpha": np.zeros(m),
                            "alpha_max": self.alpha_max.copy()}
        offsets = np.cumsum([0] + (sizes or [1]))

        def moved(alpha):
            if self.blocks == "all":
                return [a + alpha[0] * d for a, d in zip(x, v)]
            if self.blocks == "leaves":
                return [a + alpha[i] * d for i, (a, d) in enumerate(zip(x, v))]
            return [a + alpha[offsets[i]:offsets[i + 1]].reshape(a.shape) * d
                    for i, (a, d) in enumerate(zip(x, v))]

        def along(alpha):
            return self.loss(tree.unflatten(treedef, moved(alpha)))
        enc = taylor_bound(along, np.zeros(m), (0.0, self.alpha_max), 1)
        c = np.asarray(enc.coefficients[1], dtype=np.float64)
        r = np.asarray(enc.remainder[1], dtype=np.float64)
        alpha = np.zeros(m)
        if np.all(np.isfinite(r)) and np.all(np.isfinite(c)):
            alpha = minimise_box_quadratic(c, 0.5 * (r + r.T), self.alpha_max, self.sweeps)
        bound = float(enc.upper(alpha))
        if not bound <= value:                  # rounding at a stationary point: stay
            alpha, bound = np.zeros(m), value
        new = tree.unflatten(treedef, moved(alpha))
        self.alpha_max = np.where(alpha >= 0.5 * self.alpha_max, 2.0 * self.alpha_max,
                                  0.5 * self.alpha_max)
        return new, {"loss": value, "bound": bound, "alpha": alpha,
                     "alpha_max": self.alpha_max.copy()}


def minimise_box_quadratic(c, q, top, sweeps):
    """A minimiser of c . a + a^T q a (q symmetric) over the box [0, top], by exact coordinate
    descent from 0 (each move never increases the value, so the result is <= its value at 0)."""
    a = np.zeros_like(c)
    for _ in range(sweeps):
        old = a.copy()
        for k in range(c.shape[0]):
            b = c[k] + 2.0 * (q[k] @ a - q[k, k] * a[k])
            if q[k, k] > 0:
                a[k] = min(max(-b / (2.0 * q[k, k]), 0.0), top[k])
            else:                               # concave or linear along k: an end
                a[k] = top[k] if q[k, k] * top[k] ** 2 + b * top[k] < 0 else 0.0
        if np.max(np.abs(a - old)) <= 1e-12 * np.max(top):
            break
    return a
