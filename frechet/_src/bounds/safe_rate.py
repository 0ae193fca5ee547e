"""SafeRate (Streeter and Dillon): gradient steps whose size comes from a verified quadratic
upper bound of the loss along the step, so the loss never increases.

At parameters x with gradient g and direction v = -g, taylor_bound encloses
h(eta) = f(x + eta v) over [0, eta_max] by h(0) + h'(0) eta + I eta^2; the step minimises the
upper quadratic h(0) + h'(0) eta + I_hi eta^2 over [0, eta_max], so
f(x + eta v) <= that quadratic <= h(0) = f(x). eta_max doubles when the step reaches at least
half of it and halves otherwise.
"""

from __future__ import annotations

import numpy as np

from frechet._src import tree
from frechet._src.bounds.taylor_bound import taylor_bound


class SafeRate:
    """A learning-rate-free optimiser for a loss of a pytree of float64 arrays.

    Example:
      >>> opt = SafeRate(loss)
      >>> params, info = opt.step(params)       # info: loss, eta, eta_max, bound
    """

    def __init__(self, loss, eta_max: float = 1.0):
        from frechet import value_and_grad
        self.loss = loss
        self.eta_max = float(eta_max)
        self._value_and_grad = value_and_grad(loss)

    def step(self, params):
        leaves, treedef = tree.flatten(params)
        value, grads = self._value_and_grad(params)
        g_leaves = tree.flatten(grads)[0]
        x = [np.asarray(v, dtype=np.float64) for v in leaves]
        v = [-np.asarray(gl, dtype=np.float64) for gl in g_leaves]
        if not any(np.any(d) for d in v):
            return params, {"loss": float(value), "eta": 0.0, "eta_max": self.eta_max,
                            "bound": float(value)}

        def along(eta):
            return self.loss(tree.unflatten(treedef, [a + eta * d for a, d in zip(x, v)]))
        enc = taylor_bound(along, 0.0, (0.0, self.eta_max), 1)
        c1 = float(enc.coefficients[1])
        curvature = float(enc.remainder[1])
        if curvature > 0:
            eta = min(max(-c1 / (2 * curvature), 0.0), self.eta_max)
        else:                           # the bound decreases all the way
            eta = self.eta_max if c1 < 0 else 0.0
        bound = float(enc.upper(eta))
        if bound > float(value):        # rounding at a stationary point: stay
            eta, bound = 0.0, float(value)
        new = tree.unflatten(treedef, [a + eta * d for a, d in zip(x, v)])
        self.eta_max = self.eta_max * 2.0 if eta >= 0.5 * self.eta_max else self.eta_max / 2.0
        return new, {"loss": float(value), "eta": eta, "eta_max": self.eta_max,
                     "bound": bound, "c1": c1}


def minimize(loss, params, steps: int = 100, eta_max: float = 1.0, method: str = "saferate",
             blocks: str = "leaves"):
    """`steps` steps of SafeRate (method="saferate") or of the universal MM optimiser
    (method="mm", with its `blocks`): (params, the losses seen, one per step and the last)."""
    if method == "saferate":
        opt = SafeRate(loss, eta_max)
    elif method == "mm":
        from frechet._src.bounds.mm import UniversalMM
        opt = UniversalMM(loss, blocks, eta_max)
    else:
        raise ValueError(f"minimize: method must be 'saferate' or 'mm', got {method!r}")
    history = []
    for _ in range(steps):
        params, info = opt.step(params)
        history.append(info["loss"])
    history.append(float(loss(params)))
    return params, history
