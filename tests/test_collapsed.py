"""Collapsed Taylor mode (frechet.laplacian, frechet.second_order) against Hessians, composed
with grad (a physics-informed loss), jit and vmap."""

import numpy as np

import frechet as fr

RNG = np.random.default_rng(0)
W1, B1, W2 = RNG.standard_normal((8, 3)), RNG.standard_normal(8), RNG.standard_normal(8)


def u(x, w1=W1):
    return W2 @ np.tanh(w1 @ x + B1) + np.sin(x[0]) * x[1] ** 2 + np.exp(x).sum() / (2 + x[2])


def test_laplacian_is_the_trace_of_the_hessian():
    for x in (RNG.standard_normal(3), np.array([0.1, -0.4, 0.7])):
        np.testing.assert_allclose(fr.laplacian(u)(x), np.trace(fr.hessian(u)(x)), rtol=1e-12)
    # vector outputs: one Laplacian per output
    def v(x):
        return np.stack([u(x), np.prod(x) * np.cos(x[1])])
    x = RNG.standard_normal(3)
    H = fr.jacfwd(fr.jacrev(v))(x)
    np.testing.assert_allclose(fr.laplacian(v)(x), np.trace(H, axis1=1, axis2=2), rtol=1e-12)


def test_second_order_operators_with_drift():
    x, sigma, b = RNG.standard_normal(3), RNG.standard_normal((3, 2)), RNG.standard_normal(3)
    H, g = fr.hessian(u)(x), fr.grad(u)(x)
    got = fr.second_order(u, sigma.T, b)(x)         # tr(sigma sigma^T H) + b . grad u
    np.testing.assert_allclose(got, np.trace(sigma @ sigma.T @ H) + g @ b, rtol=1e-12)


def test_gradient_of_a_pde_residual_loss():
    xs = RNG.standard_normal((4, 3))

    def loss(w1):
        lap = fr.vmap(fr.laplacian(lambda x: u(x, w1)))(xs)
        return np.sum((lap - 1.0) ** 2)
    g = fr.grad(loss)(W1)
    d = RNG.standard_normal(W1.shape)
    eps = 1e-6
    fd = (loss(W1 + eps * d) - loss(W1 - eps * d)) / (2 * eps)
    np.testing.assert_allclose(np.sum(g * d), fd, rtol=1e-6)
    jg = fr.jit(fr.grad(loss))
    jg(W1)
    np.testing.assert_allclose(jg(W1), g, rtol=1e-11)
