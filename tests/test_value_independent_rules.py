"""JVP rules do not read concrete primal values to choose their formula: jit traces them once
(no value guards) and agrees with eager mode on regular and degenerate inputs."""

import warnings

import numpy as np
import pytest

import frechet


def _adjugate(a):
    """The transposed cofactor matrix, from minors (the reference, valid at singular a)."""
    n = a.shape[-1]
    if n == 1:
        return np.ones_like(a)
    cof = np.empty_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, 0), j, 1)
            cof[i, j] = (-1) ** (i + j) * np.linalg.det(minor)
    return cof.T


def _det_grad(a):
    """d det / dA = adj(A)^T, per matrix of a stack."""
    flat = a.reshape((-1, *a.shape[-2:]))
    return np.stack([_adjugate(m).T for m in flat]).reshape(a.shape)


RNG = np.random.default_rng(14)
REGULAR = [RNG.normal(size=(3, 3)) for _ in range(3)]
SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])     # rank 2
RANK_ONE = np.outer([1.0, 2.0, -1.0], [0.5, 1.0, 3.0])
NEARLY = SINGULAR + np.diag([0.0, 1e-14, 0.0])


def test_jit_grad_det_traces_once():
    g = frechet.jit(frechet.grad(np.linalg.det))
    for a in REGULAR:
        np.testing.assert_allclose(g(a), frechet.grad(np.linalg.det)(a), rtol=1e-10)
        np.testing.assert_allclose(g(a), _det_grad(a), rtol=1e-10)
    assert g.trace_count == 1


@pytest.mark.parametrize("name", ["singular", "rank_one", "nearly", "zero"])
def test_det_gradient_at_degenerate_matrices(name):
    a = {"singular": SINGULAR, "rank_one": RANK_ONE, "nearly": NEARLY,
         "zero": np.zeros((3, 3))}[name]
    g = frechet.jit(frechet.grad(np.linalg.det))
    g(REGULAR[0])
    eager = frechet.grad(np.linalg.det)(a)
    np.testing.assert_allclose(eager, _det_grad(a), atol=1e-10)
    np.testing.assert_allclose(g(a), eager, atol=1e-10)
    assert g.trace_count == 1


def test_batched_det_mixes_singular_and_regular():
    stack = np.stack([REGULAR[0], SINGULAR, RANK_ONE, REGULAR[1]])
    f = lambda a: np.linalg.det(a).sum()
    g = frechet.jit(frechet.grad(f))
    np.testing.assert_allclose(frechet.grad(f)(stack), _det_grad(stack), atol=1e-10)
    np.testing.assert_allclose(g(stack), _det_grad(stack), atol=1e-10)
    np.testing.assert_allclose(g(stack[::-1].copy()), _det_grad(stack[::-1]), atol=1e-10)
    assert g.trace_count == 1
    # vmap of the gradient agrees with the batched one
    np.testing.assert_allclose(frechet.vmap(frechet.grad(np.linalg.det))(stack),
                               _det_grad(stack), atol=1e-10)


@pytest.mark.parametrize("value", [3.0, 0.0, -1e-300])
def test_det_of_1x1(value):
    a = np.array([[value]])
    g = frechet.jit(frechet.grad(np.linalg.det))
    np.testing.assert_allclose(frechet.grad(np.linalg.det)(a), [[1.0]])
    np.testing.assert_allclose(g(a), [[1.0]])


def _det_hessian(n):
    """d^2 det / dA_ij dA_kl at the identity: delta_ij delta_kl - delta_il delta_kj."""
    e = np.eye(n)
    return np.einsum("ij,kl->ijkl", e, e) - np.einsum("il,kj->ijkl", e, e)


def test_hessian_of_det_at_the_identity_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = frechet.hessian(np.linalg.det)(np.eye(3))
        hj = frechet.jit(frechet.hessian(np.linalg.det))
        np.testing.assert_allclose(hj(np.eye(3)), _det_hessian(3), atol=1e-12)
        hj(REGULAR[0])
        assert hj.trace_count == 1
    np.testing.assert_allclose(h, _det_hessian(3), atol=1e-12)


def test_hessian_of_det_at_a_regular_matrix():
    a = REGULAR[1]
    eps = 1e-6
    h = frechet.hessian(np.linalg.det)(a)
    fd = np.empty((3, 3, 3, 3))
    for k in range(3):
        for m in range(3):
            e = np.zeros((3, 3))
            e[k, m] = eps
            fd[:, :, k, m] = (_det_grad(a + e) - _det_grad(a - e)) / (2 * eps)
    np.testing.assert_allclose(h, fd, atol=1e-6)


def test_complex_det_gradient_at_a_singular_matrix():
    a = SINGULAR + 1j * SINGULAR
    f = lambda z: np.real(np.linalg.det(z))
    t = RNG.normal(size=(3, 3)) + 1j * RNG.normal(size=(3, 3))
    _, tangent = frechet.jvp(np.linalg.det, (a,), (t,))
    expect = np.trace(_adjugate(a) @ t)
    np.testing.assert_allclose(tangent, expect, atol=1e-10)
    _, jt = frechet.jit(lambda z, v: frechet.jvp(np.linalg.det, (z,), (v,)))(a, t)
    np.testing.assert_allclose(jt, expect, atol=1e-10)
    assert np.isfinite(frechet.grad(f)(a)).all()


@pytest.mark.parametrize("name", ["identity", "singular", "regular"])
def test_taylor_series_of_det_does_not_warn(name):
    # det(A + t V) is a cubic in t: its coefficients are det A, tr(adj(A) V), ... , det V
    a = {"identity": np.eye(3), "singular": SINGULAR, "regular": REGULAR[2]}[name]
    v = np.arange(9.0).reshape(3, 3) / 4
    ts = np.array([-1.0, -0.5, 0.5, 1.0])
    cubic = np.polyfit(ts, [np.linalg.det(a + t * v) for t in ts], 3)[::-1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y, ws = frechet.jet(np.linalg.det, (a,), ([v, 0 * v, 0 * v, 0 * v],))
    np.testing.assert_allclose(y, cubic[0], atol=1e-10)
    expect = [cubic[1], 2 * cubic[2], 6 * cubic[3], 0.0]
    # Note: at a singular matrix the adjugate comes from the SVD, whose derivatives divide by
    # the zero singular value: orders 3 and up are not right there (as before this rule was
    # made data-independent)
    k = 2 if name == "singular" else 4
    np.testing.assert_allclose(ws[:k], expect[:k], atol=1e-8)


def test_stop_gradient_has_no_taylor_series():
    _, ws = frechet.jet(lambda x: frechet.stop_gradient(x) * x, (np.ones(2),),
                        ([np.ones(2), np.ones(2)],))
    np.testing.assert_allclose(ws, [np.ones(2), np.ones(2)])


def _fd_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        g.flat[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


W6 = np.arange(1.0, 7.0)
REDUCTIONS = {
    "prod": lambda x: np.prod(x),
    "prod_axis": lambda x: np.prod(x.reshape(2, 3), axis=0) @ W6[:3],
    "cumprod": lambda x: np.cumprod(x) @ W6,
    "cummax": lambda x: np.maximum.accumulate(x) @ W6,
    "cummin_axis": lambda x: np.sum(np.minimum.accumulate(x.reshape(2, 3), axis=1) * W6.reshape(2, 3)),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_jit_grad_of_products_and_running_extremes_traces_once(name):
    f = REDUCTIONS[name]
    rng = np.random.default_rng(3)
    xs = [rng.normal(size=6) for _ in range(3)]
    xs[2][[1, 4]] = 0.0                 # zeros: the division-free form
    g = frechet.jit(frechet.grad(f))
    for i, x in enumerate(xs):
        np.testing.assert_allclose(g(x), frechet.grad(f)(x), rtol=1e-12, atol=1e-12)
        if i < 2 or name in ("prod", "prod_axis", "cumprod"):    # (two zeros tie for a max)
            np.testing.assert_allclose(g(x), _fd_grad(f, x), rtol=1e-6, atol=1e-8)
    assert g.trace_count == 1
    h = frechet.jit(frechet.hessian(f))
    for x in xs:
        np.testing.assert_allclose(h(x), frechet.hessian(f)(x), rtol=1e-10, atol=1e-12)
    assert h.trace_count == 1
