"""Complex numbers follow JAX's convention: the VJP is the transpose of the real-linear JVP
under the bilinear pairing Re(sum(a*b)); grad of a real function of z is dL/dx - i dL/dy."""

import numpy as np

import frechet as fr


def test_abs_squared_convention():
    g = fr.grad(lambda z: np.abs(z) ** 2)(3.0 + 4.0j)
    assert np.isclose(g, 6.0 - 8.0j)
    g2 = fr.grad(lambda z: np.real(z * np.conj(z)))(3.0 + 4.0j)
    assert np.isclose(g2, 6.0 - 8.0j)


def test_holomorphic_grad():
    z = 0.3 + 0.7j
    assert np.isclose(fr.grad(np.sin, holomorphic=True)(z), np.cos(z))
    J = fr.jacfwd(lambda z: z ** 3, holomorphic=True)(np.array([1 + 1j, 2 - 1j]))
    np.testing.assert_allclose(J, np.diag(3 * np.array([1 + 1j, 2 - 1j]) ** 2))


def test_non_holomorphic_as_real_map():
    # f(z) = conj(z) * z.real as a map R^2 -> R^2, against split-real finite differences
    def f(z):
        return np.conj(z) * np.real(z)
    z0 = 0.4 - 0.9j
    _, L = fr.linearize(f, z0)
    eps = 1e-7
    for d in (1.0, 1j):
        fd = (f(z0 + eps * d) - f(z0 - eps * d)) / (2 * eps)
        assert np.isclose(L(np.complex128(d)), fd)


def test_real_input_complex_intermediate():
    g = fr.grad(lambda x: np.abs(np.exp(1j * x) * (1 + x)))(0.5)
    assert np.isclose(g, 1.0)


def test_complex_matrix_loss():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))

    def loss(X):
        R = A @ X - np.eye(3)
        return np.real(np.sum(R * np.conj(R)))
    X = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    g = fr.grad(loss)(X)
    # loss = ||AX - I||_F^2; dL/dx - i dL/dy = 2 conj(A^H (AX - I))
    np.testing.assert_allclose(g, 2 * np.conj(A.conj().T @ (A @ X - np.eye(3))), rtol=1e-12)


def test_docs_complex_linear_algebra_and_fft_examples():
    # docs/complex.md, "Linear algebra and FFT"
    rng = np.random.default_rng(0)
    X = rng.standard_normal(5) + 1j * rng.standard_normal(5)
    g = fr.grad(lambda X: np.sum(np.fft.irfft(X) ** 2))(X)
    assert g[0].imag == 0 and g[-1].imag == 0          # DC and Nyquist (n = 8)
    A = X[:4].reshape(2, 2) + np.eye(2)
    u, _, vh = np.linalg.svd(A)
    np.testing.assert_allclose(fr.grad(lambda A: np.linalg.norm(A, "nuc"))(A), np.conj(u @ vh),
                               rtol=1e-12)
    np.testing.assert_allclose(fr.grad(np.linalg.det, holomorphic=True)(A),
                               np.linalg.det(A) * np.linalg.inv(A).T, rtol=1e-12)
