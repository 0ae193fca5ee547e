"""Perturbed optimisers and the perturbed Fenchel-Young loss against closed forms.

Closed forms used (Berthet et al. 2020, section 2): with standard Gumbel noise, the perturbed
argmax is softmax(theta / sigma) and F(theta) = E[max_i (theta_i + sigma G_i)] =
sigma logsumexp(theta / sigma) + sigma euler_gamma; with normal noise and two items,
P(argmax = 0) = Phi((theta_0 - theta_1) / (sigma sqrt 2)). Tolerances are a few Monte Carlo
standard errors (fixed seeds, so each run is deterministic).
"""

import numpy as np
import pytest
import scipy.special
import scipy.stats

import frechet as fr
from frechet.decision import Argmax, Oracle, Sense, ShortestPath, fenchel_young, perturbed

THETA = np.array([-0.6, 1.9, -0.2, 1.1, -1.0])     # google-research/perturbations' README


class Argmin(Oracle):
    """The one-hot argmin: the minimisation twin of Argmax."""

    sense, num_cost = Sense.MIN, None

    def solve_numpy(self, costs):
        return np.eye(costs.shape[1])[np.argmin(costs, axis=1)]


def assert_within(got, want, bound):
    """|got - want| <= bound elementwise (bound: a few standard errors, per element)."""
    err = np.abs(np.asarray(got) - want)
    assert np.all(err <= bound), f"errors {err} exceed bounds {bound}"


def softmax_jacobian(p, sigma):
    return (np.diag(p) - np.outer(p, p)) / sigma


def test_gumbel_perturbed_argmax_is_softmax():
    sigma, n = 0.5, 200_000
    layer = perturbed(Argmax(), sigma=sigma, noise="gumbel", num_samples=n, seed=0)
    p = scipy.special.softmax(THETA / sigma)
    mean = layer(THETA)
    assert_within(mean, p, 4 * np.sqrt(p * (1 - p) / n))
    # the score-function VJP against softmax's VJP (the estimator's noise is larger)
    g = np.array([0.3, -1.0, 0.5, 2.0, 0.0])
    vjp = fr.grad(lambda t: np.sum(layer(t) * g))(THETA)
    want = softmax_jacobian(p, sigma) @ g
    np.testing.assert_allclose(vjp, want, atol=0.05 * np.max(np.abs(want)))


def test_gumbel_perturbed_argmax_batched():
    sigma, n = 1.0, 100_000
    thetas = np.stack([THETA, -THETA, 0.3 * THETA])
    layer = perturbed(Argmax(), sigma=sigma, noise="gumbel", num_samples=n, seed=1)
    p = scipy.special.softmax(thetas / sigma, axis=1)
    assert_within(layer(thetas), p, 4 * np.sqrt(p * (1 - p) / n))


@pytest.mark.parametrize("multiplicative", [False, True])
def test_normal_perturbed_two_items_closed_form(multiplicative):
    sigma, n = 0.7, 400_000
    theta = np.array([1.3, 0.9])
    layer = perturbed(Argmax(), sigma=sigma, noise="normal", num_samples=n, seed=2,
                      multiplicative=multiplicative)
    # multiplicative: theta_i exp(sigma Z_i - sigma^2/2), so compare log theta
    u = np.log(theta) if multiplicative else theta
    q = scipy.stats.norm.cdf((u[0] - u[1]) / (sigma * np.sqrt(2)))
    np.testing.assert_allclose(layer(theta), [q, 1 - q], atol=4 * np.sqrt(q * (1 - q) / n))
    dq = scipy.stats.norm.pdf((u[0] - u[1]) / (sigma * np.sqrt(2))) / (sigma * np.sqrt(2))
    want = np.array([dq, -dq]) / (theta if multiplicative else 1.0)
    got = fr.grad(lambda t: layer(t)[0])(theta)
    np.testing.assert_allclose(got, want, rtol=0.05)


def test_multiplicative_perturbation_keeps_mean_and_sign():
    layer = perturbed(ShortestPath((2, 2)), sigma=0.4, noise="normal", num_samples=200_000,
                      multiplicative=True, seed=3)
    c = np.array([0.5, 2.0, 1.0, 3.0])
    z = layer.draw(c.shape)
    eta = layer.perturb(c, z)
    assert np.all(eta > 0)
    se = c * np.sqrt(np.expm1(0.4 ** 2) / z.shape[0])
    assert_within(np.mean(eta, axis=0), c, 4 * se)


def test_fenchel_young_gumbel_argmax_is_shifted_cross_entropy():
    """With Gumbel noise on Argmax and true solution e_k, E[loss] = F(theta) - theta_k =
    sigma * cross_entropy(softmax(theta / sigma), k) + sigma * euler_gamma (PyEPO's loss
    leaves out Omega(e_k) = -sigma euler_gamma), and E[gradient] = softmax(theta / sigma) - e_k."""
    sigma, n, k = 0.8, 200_000, 3
    layer = perturbed(Argmax(), sigma=sigma, noise="gumbel", num_samples=n, seed=4)
    target = np.eye(5)[k]
    p = scipy.special.softmax(THETA / sigma)
    cross_entropy = -np.log(p[k])
    loss = fenchel_young(THETA, target, layer)
    se = sigma * np.pi / np.sqrt(6 * n)          # the max of Gumbels is Gumbel(scale sigma)
    np.testing.assert_allclose(loss, sigma * cross_entropy + sigma * np.euler_gamma, atol=4 * se)
    g = fr.grad(lambda t: fenchel_young(t, target, layer))(THETA)
    assert_within(g, p - target, 4 * np.sqrt(p * (1 - p) / n) + 1e-12)


def test_fenchel_young_min_is_negated_max():
    """Argmin on -theta is Argmax on theta; with symmetric (normal) noise the losses agree in
    expectation and the gradients are negated (PyEPO's convention for max problems)."""
    sigma, n = 1.0, 200_000
    target = np.eye(5)[1]
    loss_max = fenchel_young(THETA, target, perturbed(Argmax(), sigma, "normal", n, seed=5))
    loss_min = fenchel_young(-THETA, target, perturbed(Argmin(), sigma, "normal", n, seed=6))
    np.testing.assert_allclose(loss_max, loss_min, atol=0.02)
    g_max = fr.grad(lambda t: fenchel_young(t, target, perturbed(Argmax(), sigma, "normal", n,
                                                                    seed=7)))(THETA)
    g_min = fr.grad(lambda t: fenchel_young(t, target, perturbed(Argmin(), sigma, "normal", n,
                                                                    seed=8)))(-THETA)
    np.testing.assert_allclose(g_max, -g_min, atol=0.01)
    assert loss_max > 0 and g_max[1] < 0          # the target's cost is pushed up (max problem)


def test_fenchel_young_gradient_on_shortest_path():
    """Batch of shortest paths: the gradient is w*(c) - mean perturbed solution, the mean
    computed here from the same draws (seeded generators) by the plain oracle."""
    oracle = ShortestPath((3, 3))
    rng = np.random.default_rng(9)
    pred, true = rng.uniform(size=(4, 12)), rng.uniform(size=(4, 12))
    true_sol = oracle.solve(true)[0]
    g = fr.grad(lambda c: np.sum(fenchel_young(c, true_sol, perturbed(oracle, 0.3, "normal",
                                                                       7, seed=10))))(pred)
    z = np.random.default_rng(10).standard_normal((7, 4, 12))
    mean = np.mean(oracle.solve(pred + 0.3 * z)[0], axis=0)
    np.testing.assert_allclose(g, true_sol - mean, atol=1e-12)


def test_perturbed_validation():
    with pytest.raises(ValueError, match="noise='normal' or noise='gumbel'"):
        perturbed(Argmax(), noise="cauchy")
    with pytest.raises(ValueError, match="sigma > 0"):
        perturbed(Argmax(), sigma=0.0)
    with pytest.raises(ValueError, match="positive integer num_samples"):
        perturbed(Argmax(), num_samples=0)
    with pytest.raises(ValueError, match="multiplicative=True"):
        perturbed(Argmax(), noise="gumbel", multiplicative=True)
    with pytest.raises(fr.ShapeError, match="true_sol with pred_cost's shape"):
        fenchel_young(np.zeros((2, 3)), np.zeros(3), perturbed(Argmax()))


@pytest.mark.parametrize("num_samples", [1, 2, 3])
def test_score_function_estimator_is_unbiased_for_few_samples(num_samples):
    """The VJP with 1-3 samples (the leave-one-out baseline from 2 on), averaged over many
    independent rows of a batch, against the two-item normal closed form."""
    sigma, rows = 0.7, 60_000
    theta = np.array([1.3, 0.9])
    layer = perturbed(Argmax(), sigma=sigma, noise="normal", num_samples=num_samples, seed=11)
    per_row = fr.grad(lambda t: np.sum(layer(t)[:, 0]))(np.tile(theta, (rows, 1)))
    dq = scipy.stats.norm.pdf((theta[0] - theta[1]) / (sigma * np.sqrt(2))) / (sigma * np.sqrt(2))
    se = np.std(per_row, axis=0) / np.sqrt(rows)
    assert_within(np.mean(per_row, axis=0), [dq, -dq], 4 * se)


@pytest.mark.parametrize("multiplicative", [False, True])
def test_fenchel_young_gradient_with_fixed_noise(multiplicative):
    """With the noise fixed (a freshly seeded layer per evaluation) the estimate is piecewise
    linear in c_hat; its gradient (pathwise: w* - mean of w_n, times exp(sigma Z - sigma^2/2)
    when multiplicative) against central differences."""
    oracle = ShortestPath((3, 3))
    rng = np.random.default_rng(12)
    pred, true = rng.uniform(0.5, 2.0, (4, 12)), rng.uniform(0.5, 2.0, (4, 12))
    true_sol = oracle.solve(true)[0]

    def f(c):
        layer = perturbed(oracle, 0.4, "normal", 5, seed=13, multiplicative=multiplicative)
        return np.sum(fenchel_young(c, true_sol, layer))
    g = fr.grad(f)(pred)
    direction, h = rng.normal(size=pred.shape), 1e-6
    fd = (f(pred + h * direction) - f(pred - h * direction)) / (2 * h)
    np.testing.assert_allclose(np.sum(g * direction), fd, rtol=1e-6)


def test_noise_is_fresh_under_jit_and_independent_under_vmap():
    """The noise is drawn by a primitive when the program runs: compiled code draws afresh
    on every call, vmap draws per example; both still estimate softmax (Gumbel)."""
    sigma, n = 1.0, 50_000
    layer = perturbed(Argmax(), sigma=sigma, noise="gumbel", num_samples=n, seed=14)
    p = scipy.special.softmax(THETA / sigma)
    jitted = fr.jit(lambda t: layer(t))
    first, second = jitted(THETA), jitted(THETA)
    assert np.any(first != second)
    for mean in (first, second):
        assert_within(mean, p, 4 * np.sqrt(p * (1 - p) / n))
    rows = fr.vmap(lambda t: layer(t))(np.stack([THETA, THETA]))
    assert np.any(rows[0] != rows[1])
    assert_within(rows, p, 4 * np.sqrt(p * (1 - p) / n))
    g = np.array([0.3, -1.0, 0.5, 2.0, 0.0])
    grad = fr.jit(fr.grad(lambda t: np.sum(layer(t) * g)))
    want = softmax_jacobian(p, sigma) @ g
    np.testing.assert_allclose(grad(THETA), want, atol=0.1 * np.max(np.abs(want)))
    assert np.any(grad(THETA) != grad(THETA))
