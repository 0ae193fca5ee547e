"""frechet.scipy.signal: values against scipy.signal, derivatives against finite differences in
every array argument, jit and vmap, and SciPy's errors."""

import numpy as np
import pytest
import scipy.signal as ss

import frechet as fr
from frechet.extend import check_grads
from frechet.scipy import signal as S

RNG = np.random.default_rng(0)

SHAPES = [((7,), (3,)), ((3,), (7,)), ((4,), (4,)), ((5, 6), (2, 3)), ((2, 3), (5, 6)),
          ((4, 4, 3), (2, 3, 2))]


@pytest.mark.parametrize("method", ["direct", "fft", "auto"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name", ["convolve", "correlate"])
def test_values_match_scipy(name, shapes, mode, method):
    a, v = RNG.standard_normal(shapes[0]), RNG.standard_normal(shapes[1])
    want = getattr(ss, name)(a, v, mode, method)
    fn = getattr(S, name)
    got = fr.jit(lambda a, v: fn(a, v, mode, method))(a, v)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
    # eager, with a traced argument
    np.testing.assert_allclose(fr.jvp(lambda a: fn(a, v, mode, method), (a,), (a,))[0], want,
                               rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("method", ["direct", "fft"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_complex_and_integer_inputs(mode, method):
    a = RNG.standard_normal(6) + 1j * RNG.standard_normal(6)
    v = RNG.standard_normal(3) + 1j * RNG.standard_normal(3)
    for x, y in ((a, v), (v, a)):
        np.testing.assert_allclose(S.correlate(x, y, mode, method),
                                   ss.correlate(x, y, mode, method), rtol=1e-12)
    ai, vi = np.arange(6), np.array([1, 2, -1])
    got, want = S.convolve(ai, vi, mode, method), ss.convolve(ai, vi, mode, method)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_fftconvolve_over_some_axes(mode):
    x, k = RNG.standard_normal((4, 8)), RNG.standard_normal((1, 3))
    np.testing.assert_allclose(S.fftconvolve(x, k, mode, axes=1),
                               ss.fftconvolve(x, k, mode, axes=1), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(S.fftconvolve(x, k, mode), ss.fftconvolve(x, k, mode),
                               rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("method", ["direct", "fft"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("name", ["convolve", "correlate"])
def test_convolution_derivatives(name, mode, method):
    fn = getattr(S, name)
    for sa, sv in (((6,), (3,)), ((4, 3), (2, 2))):
        a, v = RNG.standard_normal(sa), RNG.standard_normal(sv)
        check_grads(lambda a, v: np.sin(fn(a, v, mode, method)), (a, v), order=2)


def test_fftconvolve_derivatives_complex():
    a = RNG.standard_normal(5) + 1j * RNG.standard_normal(5)
    v = RNG.standard_normal(3) + 1j * RNG.standard_normal(3)
    check_grads(lambda a, v: S.fftconvolve(a, v, "same"), (a, v), order=1)


def test_convolution_under_vmap_and_jit():
    xs, k = RNG.standard_normal((3, 8)), RNG.standard_normal(3)
    want = np.stack([ss.convolve(x, k, "same") for x in xs])
    np.testing.assert_allclose(fr.vmap(lambda x: S.convolve(x, k, "same", "direct"))(xs), want,
                               rtol=1e-12)
    np.testing.assert_allclose(fr.vmap(lambda x, k: S.correlate(x, k, "full", "fft"))(xs, xs),
                               np.stack([ss.correlate(x, x) for x in xs]), rtol=1e-12,
                               atol=1e-13)
    f = fr.jit(fr.grad(lambda x, k: np.sum(S.convolve(x, k, "valid") ** 2), argnums=1))
    got = f(xs[0], k)
    np.testing.assert_allclose(f(xs[1], k), fr.grad(
        lambda k: np.sum(S.convolve(xs[1], k, "valid") ** 2))(k), rtol=1e-12)
    assert not np.allclose(got, f(xs[1], k))


def test_convolution_errors():
    with pytest.raises(ValueError, match="Acceptable mode flags"):
        S.convolve(np.ones(3), np.ones(2), "middle")
    with pytest.raises(ValueError, match="Acceptable method flags"):
        S.correlate(np.ones(3), np.ones(2), method="fast")
    with pytest.raises(ValueError, match="same dimensionality"):
        S.convolve(np.ones(3), np.ones((2, 2)))
    with pytest.raises(ValueError, match="at least as large as the other"):
        S.convolve(np.ones((3, 1)), np.ones((1, 3)), "valid")


# ---- lfilter -------------------------------------------------------------------------------------

B, A = np.array([0.2, 0.3, 0.1]), np.array([1.0, -0.5, 0.2])


@pytest.mark.parametrize("b, a", [(B, A), (B, 2 * A), ([1.0, 2.0], [3.0]), ([0.5], [1.0, 0.3, -0.1, 0.05]),
                                  ([1, 2, 3, 4, 5.0], [1, 0.1])], ids=str)
def test_lfilter_values_match_scipy(b, a):
    x = RNG.standard_normal(20)
    np.testing.assert_allclose(S.lfilter(b, a, x), ss.lfilter(b, a, x), rtol=1e-12, atol=1e-14)
    X = RNG.standard_normal((3, 20, 2))
    np.testing.assert_allclose(fr.jit(lambda X: S.lfilter(b, a, X, axis=1))(X),
                               ss.lfilter(b, a, X, axis=1), rtol=1e-12, atol=1e-14)
    k = max(len(a), len(b))
    for n in (20, 2):                        # with initial conditions, also shorter than them
        zi = RNG.standard_normal((3, k - 1, 2))
        got, want = S.lfilter(b, a, X[:, :n], axis=1, zi=zi), ss.lfilter(b, a, X[:, :n], 1, zi)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-14)


def test_lfilter_derivatives_in_every_argument():
    x, zi = RNG.standard_normal(12), RNG.standard_normal(2)
    check_grads(lambda b, a, x: S.lfilter(b, a, x), (B, A, x), order=2)
    check_grads(lambda b, a, x, zi: S.lfilter(b, a, x, zi=zi), (B, A, x, zi), order=2)
    X = RNG.standard_normal((2, 7))
    check_grads(lambda a, X: S.lfilter(B, a, X, axis=-1, zi=np.zeros((2, 2))), (2 * A, X),
                order=1)


def test_lfilter_under_vmap_and_jit():
    xs = RNG.standard_normal((4, 10))
    np.testing.assert_allclose(fr.vmap(lambda x: S.lfilter(B, A, x))(xs), ss.lfilter(B, A, xs),
                               rtol=1e-12)
    a_batch = np.stack([A, A * [1, 0.5, 0.5], A * [1, -1, 1]])
    np.testing.assert_allclose(fr.vmap(lambda a: S.lfilter(B, a, xs[0]))(a_batch),
                               np.stack([ss.lfilter(B, a, xs[0]) for a in a_batch]), rtol=1e-12)
    loss = fr.jit(fr.grad(lambda a, x: np.sum(S.lfilter(B, a, x) ** 2)))
    for a in a_batch:                        # compiled, called on fresh arguments
        eps = 1e-6
        e = np.array([0.0, 1.0, 0.0])
        fd = (np.sum(ss.lfilter(B, a + eps * e, xs[1]) ** 2)
              - np.sum(ss.lfilter(B, a - eps * e, xs[1]) ** 2)) / (2 * eps)
        np.testing.assert_allclose(loss(a, xs[1])[1], fd, rtol=1e-6)


def test_lfilter_errors():
    with pytest.raises(ValueError, match="a\\[0\\] == 0"):
        S.lfilter([1.0], [0.0, 1.0], np.ones(3))
    with pytest.raises(ValueError, match="Unexpected shape for zi"):
        S.lfilter(B, A, np.ones(5), zi=np.zeros(3))
    with pytest.raises(ValueError, match="non-empty 1-d"):
        S.lfilter(np.ones((2, 2)), A, np.ones(5))
