"""frechet.numpy.linalg beyond the op records: degenerate cases and NumPy's conventions."""

import numpy as np
import pytest

import frechet as fr


def test_singular_matrix_raises_numpys_error_in_the_derivative():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    sign, logdet = np.linalg.slogdet(a)
    assert sign == 0 and logdet == -np.inf
    with pytest.raises(np.linalg.LinAlgError, match="Singular"):
        fr.grad(lambda a: np.linalg.slogdet(a)[1])(a)
    with pytest.raises(np.linalg.LinAlgError, match="Singular"):
        fr.grad(lambda a: np.sum(np.linalg.inv(a)))(a)


def test_shapes_like_numpy():
    with pytest.raises(np.linalg.LinAlgError, match="square"):
        fr.grad(lambda a: np.sum(np.linalg.inv(a)))(np.ones((2, 3)))
    a, b = 3 * np.eye(3), np.arange(6.0).reshape(2, 3)
    with pytest.raises(ValueError):            # NumPy 2: a 2-D b is a matrix, not a stack
        np.linalg.solve(a, b)
    with pytest.raises(ValueError):
        fr.grad(lambda b: np.sum(np.linalg.solve(a, b)))(b)
    r = fr.jvp(np.linalg.slogdet, (a,), (np.eye(3),))
    assert type(r[0]).__name__ == "SlogdetResult"
    np.testing.assert_allclose(r[1][1], 1.0)       # d log det (3I)[I] = tr(I/3) = 1


def test_integer_matrices_compute_in_float64():
    a = np.array([[2, 1], [1, 3]])
    np.testing.assert_allclose(fr.jit(lambda a: np.linalg.det(a))(a), np.linalg.det(a))
    np.testing.assert_allclose(fr.numpy.linalg.solve(a, np.array([1, 2])),
                               np.linalg.solve(a, np.array([1, 2])))


def _rotated(values, seed=0):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((len(values),) * 2))
    return q @ np.diag(values) @ q.T


def test_repeated_eigenvalues():
    a = _rotated([1.0, 1.0, 2.0])
    # eigenvalues alone: no eigenvector derivative, no warning, d(sum) = identity
    np.testing.assert_allclose(fr.grad(lambda a: np.sum(np.linalg.eigvalsh(a)))(a), np.eye(3),
                               atol=1e-12)
    np.testing.assert_allclose(fr.grad(lambda a: np.linalg.eigvalsh(a)[2])(a),
                               np.outer(*[np.linalg.eigh(a)[1][:, 2]] * 2), atol=1e-12)
    # eigenvectors of a repeated eigenvalue: a warning, and losses invariant under rotations of
    # the eigenspace still get the right gradient (projector onto the 2-d eigenspace)
    def projector_trace(a):
        v = np.linalg.eigh(a)[1][:, :2]
        return np.sum((v @ v.T) * np.arange(9.0).reshape(3, 3))
    with pytest.warns(RuntimeWarning, match="repeated eigenvalues"):
        g = fr.grad(projector_trace)(a)
    assert np.all(np.isfinite(g))
    # the projector onto the top eigenvector's complement, by finite differences along
    # symmetric directions
    rng = np.random.default_rng(1)
    d = rng.standard_normal((3, 3))
    d = d + d.T
    eps = 1e-6
    with np.errstate(all="ignore"):
        fd = (projector_trace(a + eps * d) - projector_trace(a - eps * d)) / (2 * eps)
    np.testing.assert_allclose(np.sum(g * d), fd, rtol=1e-5)


def test_distinct_eigenvalues_do_not_warn():
    a = _rotated([1.0, 2.0, 3.0])
    fr.grad(lambda a: np.sum(np.linalg.eigh(a)[1] ** 2 * np.arange(9.0).reshape(3, 3)))(a)


def test_svd_limits_are_named():
    a = np.arange(6.0).reshape(3, 2) + np.eye(3, 2)
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        fr.grad(lambda a: np.sum(np.linalg.svd(a)[0]))(a)
    c = a + 1j
    # nuclear norm of a complex matrix: the gradient is conj(U V^H) (JAX's convention)
    u, _, vh = np.linalg.svd(c, full_matrices=False)
    np.testing.assert_allclose(fr.grad(lambda c: np.linalg.norm(c, "nuc"))(c),
                               np.conj(u @ vh), rtol=1e-12)


def test_repeated_singular_values_warn_for_vectors_only():
    a = np.diag([2.0, 2.0, 1.0])[:, :3]
    np.testing.assert_allclose(fr.grad(lambda a: np.linalg.norm(a, "nuc"))(a), np.eye(3))
    with pytest.warns(RuntimeWarning, match="repeated singular values"):
        fr.grad(lambda a: np.sum(np.linalg.svd(a)[0] ** 2))(a)


def test_cholesky_qr_eig_limits():
    with pytest.raises(np.linalg.LinAlgError):
        fr.grad(lambda a: np.sum(np.linalg.cholesky(a)))(-np.eye(2))
    wide = np.arange(6.0).reshape(2, 3) + np.eye(2, 3)
    with pytest.raises(NotImplementedError, match="complete"):
        fr.grad(lambda a: np.sum(np.linalg.qr(a, mode="complete").Q))(wide.T)
    # eig's results are complex even when every eigenvalue is real (NumPy's dtype would
    # depend on the values); the values themselves are NumPy's
    a = np.diag([1.0, 2.0]) + 0.1
    w = fr.jit(lambda a: np.linalg.eigvals(a))(a)
    assert w.dtype == np.complex128
    np.testing.assert_allclose(w, np.linalg.eigvals(a))


def test_every_numpy_linalg_function_dispatches():
    from frechet._src.numpy.linalg import FUNCTIONS
    names = [n for n in dir(np.linalg)
             if type(getattr(np.linalg, n)).__name__ == "_ArrayFunctionDispatcher"]
    assert len(names) == 31
    assert [n for n in names if getattr(np.linalg, n) not in FUNCTIONS] == []


def test_scipy_linalg_values_and_expm_frechet():
    import scipy.linalg as sla

    import frechet.scipy.linalg as fsl
    rng = np.random.default_rng(0)
    a = 0.5 * rng.standard_normal((4, 4))
    e = rng.standard_normal((4, 4))
    spd = a @ a.T + 4 * np.eye(4)
    q = rng.standard_normal((4, 4))
    # the derivative of expm is SciPy's Frechet derivative, and expm_frechet agrees with it
    _, tangent = fr.jvp(fsl.expm, (a,), (e,))
    np.testing.assert_allclose(tangent, sla.expm_frechet(a, e, compute_expm=False), rtol=1e-12)
    got = fr.jit(lambda a, e: fsl.expm_frechet(a, e))(a, e)
    for x, y in zip(got, sla.expm_frechet(a, e)):
        np.testing.assert_allclose(x, y, rtol=1e-12)
    for f, g in [(fsl.expm, sla.expm), (fsl.logm, sla.logm), (fsl.sqrtm, sla.sqrtm)]:
        np.testing.assert_allclose(fr.jit(f)(spd), g(spd), rtol=1e-10)
    np.testing.assert_allclose(fr.jit(fsl.solve_sylvester)(spd, a, q),
                               sla.solve_sylvester(spd, a, q), rtol=1e-10)
    stable = a - 3 * np.eye(4)
    np.testing.assert_allclose(fr.jit(fsl.solve_continuous_lyapunov)(stable, q),
                               sla.solve_continuous_lyapunov(stable, q), rtol=1e-10)
    for kw in ({"lower": True}, {"trans": 1}, {"trans": "C", "unit_diagonal": True}):
        np.testing.assert_allclose(fsl.solve_triangular(spd, q, **kw),
                                   sla.solve_triangular(spd, q, **kw), rtol=1e-10)
    for lower in (False, True):
        c = fr.jit(lambda s, lower=lower: fsl.cho_factor(s, lower=lower)[0])(spd)
        np.testing.assert_allclose(c, sla.cho_factor(spd, lower=lower)[0], rtol=1e-12)
        np.testing.assert_allclose(fsl.cho_solve((c, lower), q),
                                   sla.cho_solve((c, lower), q), rtol=1e-10)
    b = q @ q.T + np.eye(4)
    w, v = fsl.eigh(spd, b)
    w2, v2 = sla.eigh(spd, b)
    np.testing.assert_allclose(w, w2, rtol=1e-12)
    np.testing.assert_allclose(np.abs(v), np.abs(v2), rtol=1e-10, atol=1e-12)   # column signs
    with pytest.raises(ValueError, match="complex"):
        fsl.sqrtm(-np.eye(2))


def test_lu_factor_and_solve_match_scipy():
    import scipy.linalg as sla

    import frechet.scipy.linalg as fsl
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((4, 4)), rng.standard_normal((4, 2))
    lu, piv = fr.jit(fsl.lu_factor)(a)
    want_lu, want_piv = sla.lu_factor(a)
    np.testing.assert_allclose(lu, want_lu, rtol=1e-14)
    np.testing.assert_array_equal(piv, want_piv)
    for trans in (0, 1, 2):
        np.testing.assert_allclose(fsl.lu_solve((lu, piv), b, trans=trans),
                                   sla.lu_solve((want_lu, want_piv), b, trans=trans), rtol=1e-12)
    # the gradient through the factorisation equals the one through solve
    np.testing.assert_allclose(fr.grad(lambda a: np.sum(fsl.lu_solve(fsl.lu_factor(a), b)))(a),
                               fr.grad(lambda a: np.sum(np.linalg.solve(a, b)))(a), rtol=1e-12)
    # stacks: one matrix at a time, as SciPy >= 1.15 batches them
    a, b = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((2, 3, 4, 2))
    lu, piv = fr.jit(fsl.lu_factor)(a)
    for i in np.ndindex(2, 3):
        want_lu, want_piv = sla.lu_factor(a[i])
        np.testing.assert_allclose(lu[i], want_lu, rtol=1e-14)
        np.testing.assert_array_equal(piv[i], want_piv)
        np.testing.assert_allclose(fsl.lu_solve((lu, piv), b, trans=2)[i],
                                   sla.lu_solve((want_lu, want_piv), b[i], trans=2), rtol=1e-12)
    np.testing.assert_allclose(fr.grad(lambda a: np.sum(fsl.lu_solve(fsl.lu_factor(a), b)))(a),
                               fr.grad(lambda a: np.sum(np.linalg.solve(a, b)))(a), rtol=1e-11)


def test_det_derivative_at_a_singular_matrix_is_the_cofactor_matrix():
    def cofactors(a):
        n = a.shape[0]
        return np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1))
                          for j in range(n)] for i in range(n)])
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])       # rank 2
    np.testing.assert_allclose(fr.grad(np.linalg.det)(a), cofactors(a), atol=1e-12)
    np.testing.assert_allclose(fr.jit(fr.grad(np.linalg.det))(a), cofactors(a), atol=1e-12)
    rng = np.random.default_rng(1)
    c = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    c[2] = c[0] + c[1]
    np.testing.assert_allclose(fr.grad(np.linalg.det, holomorphic=True)(c), cofactors(c),
                               atol=1e-12)


def test_det_derivative_near_a_singular_matrix():
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0 + 1e-14], [1.0, 0.0, 1.0]])
    want = np.array([[4.0, 4.0, -4.0], [-2.0, -2.0, 2.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(fr.grad(np.linalg.det)(a), want, atol=1e-10)


def test_eigh_at_repeated_eigenvalues_jit_agrees_with_eager_and_warns_at_the_users_line():
    # issue 14: the traced form of the eigenvalue-gap matrix divided by zero (NaN under jit)
    Q = np.linalg.qr(np.arange(9.0).reshape(3, 3) + np.eye(3))[0]
    A = Q @ np.diag([1.0, 1.0, 2.0]) @ Q.T
    w = np.linalg.eigvalsh(A)
    assert abs(w[0] - w[1]) < 1e-12           # a repeated eigenvalue

    def f(a):
        return np.sum(np.linalg.eigh(a)[1][:, 2] ** 2 * np.arange(3.0))
    with pytest.warns(RuntimeWarning, match="repeated eigenvalues") as record:
        eager = fr.grad(f)(A)
    assert all(r.filename == __file__ for r in record)
    compiled = fr.jit(fr.grad(f))(A)
    assert np.all(np.isfinite(compiled))
    np.testing.assert_allclose(compiled, eager, atol=1e-12)
