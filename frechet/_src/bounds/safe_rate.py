"""SafeRate (Streeter and Dillon): gradient steps whose size comes from a verified quadratic
upper bound of the loss along the step, so the loss never increases.

At parameters x with gradient g and direction v = -g, taylor_bound encloses
h(eta) = f(x + eta v) over [0, eta_max] by h(0) + h'(0) eta + I eta^2; the step minimises the
upper quadratic h(0) + h'(0) eta + I_hi eta^2 over [0, eta_max], so
f(x + eta v) <= that quadratic <= h(0) = f(x). eta_max doubles when the step reaches at least
half of it and halves otherwise.
"""

from __future__ import annotations

from frechet._src.bounds.mm import UniversalMM


class SafeRate(UniversalMM):
    """A learning-rate-free optimiser for a loss of a pytree of float64 arrays: the universal
    MM optimiser with one step size for all parameters.

    Example:
      >>> opt = SafeRate(loss)
      >>> params, info = opt.step(params)       # info: loss, eta, eta_max, bound
    """

    def __init__(self, loss, eta_max: float = 1.0):
        super().__init__(loss, "all", eta_max)

    def step(self, params):
        new, info = super().step(params)
        return new, {"loss": info["loss"], "eta": float(info["alpha"][0]),
                     "eta_max": float(info["alpha_max"][0]), "bound": info["bound"]}


def minimize(loss, params, steps: int = 100, eta_max: float = 1.0, method: str = "saferate",
             blocks: str = "leaves"):
    """`steps` steps of SafeRate (method="saferate") or of the universal MM optimiser
    (method="mm", with its `blocks`): (params, the losses seen, one per step and the last)."""
    if method == "saferate":
        opt = SafeRate(loss, eta_max)
    elif method == "mm":
        opt = UniversalMM(loss, blocks, eta_max)
    else:
        raise ValueError(f"minimize: method must be 'saferate' or 'mm', got {method!r}")
    history = []
    for _ in range(steps):
        params, info = opt.step(params)
        history.append(info["loss"])
    history.append(float(loss(params)))
    return params, history
