"""Perturbed optimisers (Berthet et al. 2020) and the perturbed Fenchel-Young loss.

With Z a noise sample and sigma its scale, the perturbed costs are c_hat + sigma Z (additive)
or c_hat * exp(sigma Z - sigma^2 / 2) (multiplicative, mean- and sign-preserving; normal
noise only). The perturbed optimiser is the mean solution E[w*(perturbed costs)], estimated
from `num_samples` draws solved in one batched oracle call. Its derivative is the
score-function estimator E[w* <score(Z), .>] / sigma (score = Z for normal noise,
1 - exp(-Z) for standard Gumbel noise; divided by c_hat elementwise when multiplicative),
with InferOpt's leave-one-out baseline when num_samples >= 2 (still unbiased).

The Fenchel-Young loss uses F(c_hat) = E[opt_w (perturbed costs)^T w] and needs no score:
its gradient is the pathwise (Danskin) one, s (w*(c) - E[w* of the perturbed costs])
(times exp(sigma Z - sigma^2 / 2) inside the mean when multiplicative).
"""

from __future__ import annotations

import numpy as np

import frechet as fr
from frechet.decision._oracle import Oracle
from frechet.decision._sampling import Layer, draw_like

NOISES = ("normal", "gumbel")


class Perturbed(Layer):
    """A perturbed optimiser; make one with `perturbed(...)`. Final.

    Calling it on costs (B, d) (or (d,)) returns the mean perturbed solution (B, d). Every
    call draws fresh noise from its generator (an int seed makes the sequence reproducible),
    also in code compiled by `jit`, and independently per example under `vmap`.
    """

    def __init__(self, oracle: Oracle, sigma: float, noise: str, num_samples: int, seed,
                 multiplicative: bool):
        _check_perturbed(sigma, noise, num_samples, multiplicative)
        self.oracle, self.sigma, self.noise = oracle, float(sigma), noise
        self.num_samples, self.multiplicative = int(num_samples), bool(multiplicative)
        self.rng = np.random.default_rng(seed)
        self._make_layer()

    def draw(self, shape) -> np.ndarray:
        """Standard noise of shape (num_samples,) + shape."""
        size = (self.num_samples,) + tuple(shape)
        if self.noise == "normal":
            return self.rng.standard_normal(size)
        return self.rng.gumbel(size=size)

    def perturb(self, costs, z):
        """The perturbed costs (num_samples,) + costs.shape for noise z."""
        if self.multiplicative:
            return costs * np.exp(self.sigma * z - 0.5 * self.sigma ** 2)
        return costs + self.sigma * z

    def _score(self, costs, z):
        score = z if self.noise == "normal" else 1.0 - np.exp(-z)
        return score / costs if self.multiplicative else score

    def _fwd(self, costs):
        z = draw_like(self, costs)
        sols, _ = self.oracle.solve(self.perturb(costs, z))
        return np.mean(sols, axis=0), (costs, z, sols)

    def _bwd(self, res, g):
        costs, z, sols = res
        if self.num_samples >= 2:       # leave-one-out baseline: unbiased, lower variance
            centred = (sols - np.mean(sols, axis=0)) * (self.num_samples / (self.num_samples - 1))
        else:
            centred = sols
        inner = np.sum(centred * g, axis=-1, keepdims=True)
        return (np.mean(self._score(costs, z) * inner, axis=0) / self.sigma,)

    def __repr__(self):
        kind = "multiplicative" if self.multiplicative else "additive"
        return f"perturbed({self.oracle!r}, sigma={self.sigma}, noise={self.noise!r}, " \
               f"num_samples={self.num_samples}, {kind})"


def perturbed(oracle: Oracle, sigma: float = 1.0, noise: str = "normal",
              num_samples: int = 1, seed=None, multiplicative: bool = False) -> Perturbed:
    """The perturbed optimiser of `oracle`: costs -> mean solution under random costs.

    Args:
      oracle: the problem's Oracle.
      sigma: the noise scale (commensurate with the costs' scale).
      noise: "normal" or "gumbel" (standard Gumbel, location 0, scale 1).
      num_samples: draws per call (all solved in one oracle call).
      seed: an int, a numpy Generator, or None.
      multiplicative: perturb c_hat * exp(sigma Z - sigma^2 / 2) instead of c_hat + sigma Z.

    Returns:
      A Perturbed: a function of costs with a score-function custom_vjp.

    Example:
      >>> import numpy as np
      >>> from frechet.decision import Argmax
      >>> layer = perturbed(Argmax(), sigma=0.5, noise="gumbel", num_samples=100000, seed=0)
      >>> np.round(layer(np.array([0.0, 0.5])), 2)        # softmax([0, 1]) = [0.27, 0.73]
      array([0.27, 0.73])
    """
    return Perturbed(oracle, sigma, noise, num_samples, seed, multiplicative)


def fenchel_young(pred_cost, true_sol, layer: Perturbed):
    """The perturbed Fenchel-Young loss (PyEPO's PFYL), one value per instance.

    Minimisation: c_hat^T w*(c) - F(c_hat) with F(c_hat) = E[min_w (perturbed c_hat)^T w];
    maximisation: F(c_hat) - c_hat^T w*(c). The constant Omega(w*(c)) of the textbook loss is
    left out (as PyEPO does), so the minimum is not zero in general. Gradient:
    s (w*(c) - E[w*(perturbed c_hat)]), estimated with the layer's num_samples draws.

    Args:
      pred_cost: (B, d) or (d,) predicted costs.
      true_sol: the true optimal solutions, same shape.
      layer: a Perturbed (its oracle, noise, sigma, samples and generator are used).

    Returns:
      The losses, shape (B,) (or a scalar).

    Example:
      >>> import numpy as np
      >>> from frechet.decision import Argmax
      >>> layer = perturbed(Argmax(), sigma=1.0, noise="gumbel", num_samples=200000, seed=0)
      >>> theta = np.array([1.0, 2.0])        # E loss = logsumexp(theta) + euler_gamma - 1
      >>> round(float(fenchel_young(theta, np.array([1.0, 0.0]), layer)), 2)
      1.89
    """
    if np.shape(true_sol) != np.shape(pred_cost):
        raise fr.ShapeError(f"pass true_sol with pred_cost's shape {np.shape(pred_cost)}; got "
                            f"{np.shape(true_sol)}")
    z = draw_like(layer, pred_cost)
    _, objs = layer.oracle.solve(layer.perturb(pred_cost, z))
    s = layer.oracle.sense.value
    return s * (np.sum(pred_cost * true_sol, axis=-1) - np.mean(objs, axis=0))


def _check_perturbed(sigma, noise, num_samples, multiplicative):
    if not sigma > 0:
        raise ValueError(f"pass sigma > 0; got {sigma!r}")
    if noise not in NOISES:
        raise ValueError(f"pass noise='normal' or noise='gumbel'; got {noise!r}")
    if not isinstance(num_samples, (int, np.integer)) or num_samples < 1:
        raise ValueError(f"pass a positive integer num_samples; got {num_samples!r}")
    if multiplicative and noise != "normal":
        raise ValueError("pass noise='normal' with multiplicative=True: the factor "
                         "exp(sigma Z - sigma^2 / 2) has mean 1 for normal noise only")
