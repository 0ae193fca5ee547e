import numpy as np
import pytest

import frechet
from frechet.zero_order import zero_order_grad

A = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
B = np.array([1.0, -2.0, 0.5])
THETA = np.array([0.3, -0.1, 0.2])


def quadratic(x):
    assert type(x) is np.ndarray     # f only ever sees plain values
    return 0.5 * x @ A @ x + B @ x


def quadratic_grad(x):
    return A @ x + B


def basis_noise(d):
    """Rows +-sqrt(d) e_i: mean zero and U^T U / N = I exactly."""
    e = np.sqrt(d) * np.eye(d)
    return np.concatenate([e, -e])


@pytest.mark.parametrize("method", ["naive", "forward", "antithetic"])
def test_linear_function_is_exact_with_balanced_noise(method):
    a = np.array([[1.0, -2.0], [0.5, 4.0]])
    f = lambda x: float(np.sum(a * x) + 7.0)
    g = zero_order_grad(f, 0.3, 8, method, noise=basis_noise(4).reshape(8, 2, 2))
    np.testing.assert_allclose(g(np.ones((2, 2))), a, rtol=1e-12, atol=1e-12)


def test_antithetic_on_a_quadratic_is_the_sample_second_moment_times_the_gradient():
    u = np.random.default_rng(1).standard_normal((5, 3))
    g = zero_order_grad(quadratic, 0.7, 5, "antithetic", noise=u)
    np.testing.assert_allclose(g(THETA), u.T @ u / 5 @ quadratic_grad(THETA), rtol=1e-12)


def test_forward_and_naive_follow_their_formulas_with_given_noise():
    u = np.random.default_rng(2).standard_normal((4, 3))
    s = 0.2
    fp = np.array([quadratic(THETA + s * r) for r in u])
    naive = zero_order_grad(quadratic, s, 4, "naive", noise=u)(THETA)
    forward = zero_order_grad(quadratic, s, 4, "forward", noise=u)(THETA)
    np.testing.assert_allclose(naive, (fp / s) @ u / 4, rtol=1e-12)
    np.testing.assert_allclose(forward, ((fp - quadratic(THETA)) / s) @ u / 4, rtol=1e-12)


@pytest.mark.parametrize("method,n", [("naive", 40000), ("forward", 20000),
                                      ("antithetic", 20000)])
def test_random_noise_estimates_the_gradient_of_a_quadratic(method, n):
    g = zero_order_grad(quadratic, 0.5, n, method, seed=3)(THETA)
    np.testing.assert_allclose(g, quadratic_grad(THETA), atol=0.1 * np.linalg.norm(
        quadratic_grad(THETA)))


def test_seed_makes_random_noise_reproducible_and_scalars_work():
    f = lambda x: np.sin(x)
    g1 = zero_order_grad(f, 0.1, 2000, "antithetic", seed=7)(0.5)
    g2 = zero_order_grad(f, 0.1, 2000, "antithetic", seed=7)(0.5)
    assert g1.shape == () and g1 == g2
    assert abs(g1 - np.cos(0.5)) < 0.1


def test_errors_lead_with_the_fix():
    with pytest.raises(ValueError, match="pass a positive number sigma"):
        zero_order_grad(quadratic, 0.0, 3)
    with pytest.raises(ValueError, match="pass a positive integer num_samples"):
        zero_order_grad(quadratic, 1.0, 0)
    with pytest.raises(ValueError, match="pass method= one of"):
        zero_order_grad(quadratic, 1.0, 3, "central")
    with pytest.raises(ValueError, match=r"pass noise of shape \(num_samples, \*theta.shape\)"):
        zero_order_grad(quadratic, 1.0, 3, noise=np.zeros((3, 2)))(THETA)
    with pytest.raises(ValueError, match="make f return a scalar"):
        zero_order_grad(lambda x: x, 1.0, 2, noise=np.ones((2, 3)))(THETA)
    g = zero_order_grad(quadratic, 1.0, 2, noise=np.ones((2, 3)))
    with pytest.raises(TypeError, match="pass theta as a plain value"):
        frechet.grad(lambda t: np.sum(g(t)))(THETA)
