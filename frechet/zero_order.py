"""Zero-order (evolution-strategies) gradient estimates of black-box functions.

Re-exported by `frechet.implicit`. `f` is only ever called on plain NumPy values, so it may
be anything: a simulator, SciPy, a subprocess. Note: given another library's array (a PyTorch
tensor), theta and the noise are copied to the host explicitly, f is called on NumPy values as
always, and the estimate is copied back into theta's library and device.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from frechet.extend import Tracer, is_foreign, to_host, to_library

METHODS = ("naive", "forward", "antithetic")


def _validate(f, sigma, num_samples, method, noise):
    if not callable(f):
        raise TypeError(f"pass a function f(theta) -> scalar to zero_order_grad; got {f!r}.")
    if isinstance(sigma, Tracer) or not np.isscalar(sigma) or not sigma > 0:
        raise ValueError(f"pass a positive number sigma (the perturbation scale) to "
                         f"zero_order_grad; got {sigma!r}.")
    if (not isinstance(num_samples, (int, np.integer)) or isinstance(num_samples, bool)
            or num_samples < 1):
        raise ValueError(f"pass a positive integer num_samples to zero_order_grad; got "
                         f"{num_samples!r}.")
    if method not in METHODS:
        raise ValueError(f"pass method= one of {', '.join(map(repr, METHODS))} to "
                         f"zero_order_grad; got {method!r}.")
    if noise is not None and isinstance(noise, Tracer):
        raise TypeError("pass noise as a plain array: zero_order_grad does not differentiate "
                        "through its samples.")


def _value(f, x) -> float:
    v = np.asarray(f(x))
    if v.size != 1:
        raise ValueError(f"make f return a scalar: zero_order_grad estimates the gradient of "
                         f"a scalar function, and f returned shape {v.shape}.")
    return float(v.reshape(()))


def zero_order_grad(f: Callable, sigma: float, num_samples: int, method: str = "naive",
                    noise=None, seed=None) -> Callable:
    """A Monte-Carlo estimate of grad f from values of f at Gaussian perturbations.

    With u_1, ..., u_N the noise rows (N = num_samples, each of theta's shape, unit variance)
    and s = sigma, the estimate at theta is
      naive:      mean_i f(theta + s u_i) u_i / s
      forward:    mean_i (f(theta + s u_i) - f(theta)) u_i / s
      antithetic: mean_i (f(theta + s u_i) - f(theta - s u_i)) u_i / (2 s)
    each an unbiased estimate of the gradient of the Gaussian smoothing E f(theta + s u),
    u ~ N(0, I). The forward baseline f(theta) and the antithetic pairs lower the variance
    (for a quadratic f the antithetic estimate is exactly (U^T U / N) grad f(theta)).

    Args:
      f: the black-box function, called on plain arrays of theta's shape; returns a scalar.
      sigma: the perturbation scale (> 0).
      num_samples: N, the number of noise rows (function evaluations: N naive, N + 1
        forward, 2N antithetic).
      method: "naive", "forward" or "antithetic".
      noise: optional array of shape (num_samples, *theta.shape): the rows u_i to use (fixed
        noise makes the estimate deterministic and testable). Default: fresh standard normal
        rows on every call, from `numpy.random.default_rng(seed)`.
      seed: the seed (or Generator) for the default noise.

    Returns:
      A function of theta (an array or a float) returning the estimate, of theta's shape.
      Its argument must be a plain value: the estimate is not differentiable in theta (use
      it as the backward rule of a `frechet.custom_vjp` to differentiate through f).

    Example:
      >>> g = zero_order_grad(lambda x: np.sum(3.0 * x), 0.1, 2, "antithetic",
      ...                     noise=np.array([[1.0, 1.0], [1.0, -1.0]]))
      >>> g(np.zeros(2))
      array([3., 3.])
    """
    _validate(f, sigma, num_samples, method, noise)
    rng = np.random.default_rng(seed) if noise is None else None

    def estimate(theta):
        if isinstance(theta, Tracer):
            raise TypeError("pass theta as a plain value: zero_order_grad calls f on plain "
                            "values and its estimate is not differentiable in theta; to use "
                            "it as f's gradient, make it the backward rule of a "
                            "frechet.custom_vjp.")
        like = theta if is_foreign(theta) else None
        if like is not None:                # explicit copies: f takes NumPy values
            theta = to_host(theta)
        theta = np.asarray(theta, dtype=np.result_type(theta, np.float64))
        shape = (num_samples,) + theta.shape
        u = rng.standard_normal(shape) if noise is None else np.asarray(to_host(noise),
                                                                         theta.dtype)
        if u.shape != shape:
            raise ValueError(f"pass noise of shape (num_samples, *theta.shape) = {shape} to "
                             f"zero_order_grad; got {u.shape}.")
        if method == "naive":
            w = [_value(f, theta + sigma * ui) / sigma for ui in u]
        elif method == "forward":
            f0 = _value(f, theta)
            w = [(_value(f, theta + sigma * ui) - f0) / sigma for ui in u]
        else:
            w = [(_value(f, theta + sigma * ui) - _value(f, theta - sigma * ui)) / (2 * sigma)
                 for ui in u]
        out = np.tensordot(np.asarray(w), u, axes=1) / num_samples
        return out if like is None else to_library(out, like)

    return estimate
