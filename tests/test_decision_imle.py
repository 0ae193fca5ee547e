"""I-MLE: the Sum-of-Gamma noise against its moments, and the backward pass as the exact
gradient of its finite-difference interpolation (central differences, same noise)."""

import numpy as np
import pytest

import frechet as fr
from frechet.decision import Argmax, Knapsack, ShortestPath, imle


def test_sum_of_gamma_moments():
    """kappa independent Sum-of-Gamma draws (s terms) sum to H_s - log s in mean and
    sum_{i<=s} 1/i^2 in variance (a standard Gumbel's euler_gamma and pi^2/6 as s -> inf)."""
    kappa, terms, n = 5, 10, 400_000
    layer = imle(Argmax(), kappa=kappa, terms=terms, num_samples=n, seed=0)
    total = np.sum(layer.draw((kappa,)), axis=1)
    i = np.arange(1, terms + 1)
    mean, var = np.sum(1.0 / i) - np.log(terms), np.sum(1.0 / i ** 2)
    assert abs(np.mean(total) - mean) < 4 * np.sqrt(var / n)
    assert abs(np.var(total) / var - 1) < 0.02


@pytest.mark.parametrize("oracle", [ShortestPath((3, 3)), Knapsack([3.0, 4, 5, 6, 2], 9.0),
                                    Argmax()], ids=repr)
def test_backward_is_the_gradient_of_the_interpolation(oracle):
    """With the forward's noise xi_n: grad = gradient of
    phi(c) = s mean_n (z*(c + sigma xi_n + s lam g) - z*(c + sigma xi_n)) / lam."""
    d = oracle.num_cost or 5
    rng = np.random.default_rng(1)
    pred, g = rng.uniform(0.5, 2.0, (4, d)), rng.normal(size=(4, d))
    sigma, lam, s = 0.5, 3.0, oracle.sense.value
    layer = imle(oracle, sigma=sigma, lam=lam, num_samples=6, seed=2)
    grad = fr.grad(lambda c: np.sum(layer(c) * g))(pred)
    xi = imle(oracle, num_samples=6, seed=2).draw(pred.shape)     # the same draws

    def phi(c):
        base = c + sigma * xi
        return s * np.sum(oracle.solve(base + s * lam * g)[1] - oracle.solve(base)[1]) / (
            lam * xi.shape[0])
    h, direction = 1e-6, rng.normal(size=pred.shape)
    fd = (phi(pred + h * direction) - phi(pred - h * direction)) / (2 * h)
    np.testing.assert_allclose(np.sum(grad * direction), fd, rtol=1e-6, atol=1e-9)
    assert np.any(grad != 0)
    forward = imle(oracle, sigma=sigma, num_samples=6, seed=2)(pred)     # fresh: same draws
    np.testing.assert_allclose(forward, np.mean(oracle.solve(pred + sigma * xi)[0], axis=0))


def test_validation():
    with pytest.raises(ValueError, match="lam > 0"):
        imle(Argmax(), lam=0.0)
    with pytest.raises(ValueError, match="positive integer num_samples"):
        imle(Argmax(), num_samples=0)
