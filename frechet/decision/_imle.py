"""Implicit maximum-likelihood estimation (I-MLE; Niepert, Minervini and Franceschi 2021),
PyEPO's `implicitMLE`: perturb-and-MAP with Sum-of-Gamma noise, and a finite-difference
backward pass that re-solves the same perturbed costs shifted along the upstream gradient."""

from __future__ import annotations

import numpy as np

from frechet.decision._oracle import Oracle
from frechet.decision._sampling import Layer, draw_like


class ImplicitMLE(Layer):
    """The I-MLE layer; make one with `imle(...)`. Final.

    Calling it on costs (B, d) returns the mean solution over `num_samples` perturbed costs
    c_hat + sigma xi (xi Sum-of-Gamma noise, one batched solve). Backward, for an upstream
    gradient g: s mean_n (w*(c_hat + sigma xi_n + s lam g) - w*(c_hat + sigma xi_n)) / lam,
    with the forward's noise (one more batched solve); s = oracle.sense.value (PyEPO's signs).
    Fresh noise on every call, under `jit` too.
    """

    def __init__(self, oracle: Oracle, sigma: float, lam: float, num_samples: int, kappa: float,
                 terms: int, seed):
        for name, value in (("sigma", sigma), ("lam", lam), ("kappa", kappa)):
            if not value > 0:
                raise ValueError(f"pass {name} > 0; got {value!r}")
        for name, value in (("num_samples", num_samples), ("terms", terms)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"pass a positive integer {name}; got {value!r}")
        self.oracle, self.sigma, self.lam = oracle, float(sigma), float(lam)
        self.num_samples, self.kappa, self.terms = int(num_samples), float(kappa), int(terms)
        self.rng = np.random.default_rng(seed)
        self._make_layer()

    def draw(self, shape) -> np.ndarray:
        """Sum-of-Gamma noise of shape (num_samples,) + shape: (sum_{i=1}^{terms}
        Gamma(1/kappa, scale kappa/i) - log terms) / kappa (kappa of them sum to about a
        standard Gumbel)."""
        size = (self.num_samples,) + tuple(shape)
        total = sum(self.rng.gamma(1.0 / self.kappa, self.kappa / i, size)
                    for i in range(1, self.terms + 1))
        return (total - np.log(self.terms)) / self.kappa

    def _fwd(self, costs):
        noisy = costs + self.sigma * draw_like(self, costs)
        sols, _ = self.oracle.solve(noisy)
        return np.mean(sols, axis=0), (noisy, sols)

    def _bwd(self, res, g):
        noisy, sols = res
        s = self.oracle.sense.value
        shifted, _ = self.oracle.solve(noisy + s * self.lam * g)
        return (s * np.mean(shifted - sols, axis=0) / self.lam,)

    def __repr__(self):
        return f"imle({self.oracle!r}, sigma={self.sigma}, lam={self.lam}, " \
               f"num_samples={self.num_samples}, kappa={self.kappa})"


def imle(oracle: Oracle, sigma: float = 1.0, lam: float = 10.0, num_samples: int = 10,
         kappa: float = 5.0, terms: int = 10, seed=None) -> ImplicitMLE:
    """The I-MLE layer of `oracle` (PyEPO's `implicitMLE` defaults, one-sided difference).

    Args:
      oracle: the problem's Oracle.
      sigma: the noise temperature.
      lam: the finite-difference step along the upstream gradient.
      num_samples: perturbations per call (solved in one oracle call).
      kappa, terms: the Sum-of-Gamma noise's kappa and number of Gamma terms.
      seed: an int, a numpy Generator or None.

    Returns:
      An ImplicitMLE: a function of costs with a custom_vjp.

    Example:
      >>> import numpy as np, frechet as fr
      >>> from frechet.decision import Argmax
      >>> layer = imle(Argmax(), sigma=0.1, lam=4.0, num_samples=1, seed=0)
      >>> layer(np.array([2.0, 0.0]))
      array([1., 0.])
      >>> fr.grad(lambda c: layer(c)[0])(np.array([2.0, 0.0]))   # [2, 0] - 4 e0 flips it
      array([ 0.25, -0.25])
    """
    return ImplicitMLE(oracle, sigma, lam, num_samples, kappa, terms, seed)
