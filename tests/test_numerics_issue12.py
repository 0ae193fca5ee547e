"""Derivatives that used to be silently wrong (issue 12): pinv/lstsq at repeated singular
values, np.roots, weighted 2-d/n-d histograms, std/norm where their value is 0, nan-reductions.

Every check is against central differences in float64 or an exact closed form, eager and under
jit.
"""

import numpy as np
import pytest

import frechet as fr
from frechet._src.testing import check_grads, numerical_jvp


def _fd_grad(f, x, eps=1e-6):
    """Central-difference gradient of a real scalar f (complex x: d/dRe - i d/dIm, frechet's
    and JAX's convention for the gradient of a real loss)."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
        if np.iscomplexobj(x):
            g[i] -= 1j * (f(x + 1j * e) - f(x - 1j * e)) / (2 * eps)
    return g


def _grads_agree(f, x, rtol=1e-6, atol=1e-8):
    """grad(f) eager and jitted both equal finite differences."""
    expected = _fd_grad(f, x)
    np.testing.assert_allclose(fr.grad(f)(x), expected, rtol=rtol, atol=atol)
    np.testing.assert_allclose(fr.jit(fr.grad(f))(x), expected, rtol=rtol, atol=atol)


# 1. pinv and lstsq at repeated singular values ----------------------------------------------

_E = np.eye(5)[:, :3]          # singular values 1, 1, 1
_C = np.random.default_rng(12).standard_normal((3, 5))


@pytest.mark.parametrize("dtype", [float, complex])
def test_pinv_gradient_at_repeated_singular_values(dtype):
    c = _C.astype(dtype) * (1 + 0.5j if dtype is complex else 1)

    def f(x):
        return np.real(np.sum(np.linalg.pinv(_E + 0.3 * x) * c))
    _grads_agree(f, np.zeros((5, 3), dtype))
    # the wide matrix, and off the degenerate point (where the SVD rule also worked)
    _grads_agree(lambda x: f(x.T.conj()), np.zeros((3, 5), dtype))
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(dtype)
    _grads_agree(f, x)


def test_pinv_jvp_and_second_order_at_repeated_singular_values():
    def f(x):
        return np.linalg.pinv(_E + 0.3 * x) @ _C.T
    check_grads(f, (np.zeros((5, 3)),), order=2)
    check_grads(fr.jit(f), (np.zeros((5, 3)),), order=1)


def test_pinv_of_a_rank_deficient_matrix_along_a_rank_preserving_curve():
    # A(t) = (I + t B) A0 (I + t D) keeps rank 2 (with singular values 2, 2); pinv is
    # differentiable along it, and the projector terms of the formula matter
    rng = np.random.default_rng(3)
    u, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    v, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    a0 = u[:, :2] @ (2 * v[:, :2].T)
    b, d = rng.standard_normal((4, 4)), rng.standard_normal((3, 3))

    def curve(t):
        return (np.eye(4) + t * b) @ a0 @ (np.eye(3) + t * d)
    t0 = np.zeros(())
    for fn in (lambda t: np.linalg.pinv(curve(t)), fr.jit(lambda t: np.linalg.pinv(curve(t)))):
        _, tangent = fr.jvp(fn, (t0,), (np.ones(()),))
        fd = numerical_jvp(lambda t: np.linalg.pinv(curve(t)), (t0,), (np.ones(()),), 1e-6)
        np.testing.assert_allclose(tangent, fd, rtol=1e-6, atol=1e-8)


def test_pinv_hermitian_and_numpy_defaults():
    a = np.diag([2.0, 2.0, 0.0])
    np.testing.assert_array_equal(fr.jit(np.linalg.pinv)(a), np.linalg.pinv(a))
    tiny = np.diag([1.0, 1e-14])         # NumPy's default cutoff is 1e-15 * max(s)
    np.testing.assert_allclose(fr.jit(np.linalg.pinv)(tiny), np.linalg.pinv(tiny))
    np.testing.assert_allclose(fr.numpy.linalg.pinv(tiny, rtol=None),
                               np.linalg.pinv(tiny, rtol=None))
    with pytest.raises(ValueError, match="can't be both set"):
        fr.numpy.linalg.pinv(tiny, rcond=0.1, rtol=0.1)
    c = np.arange(9.0).reshape(3, 3)

    def f(x):
        s = np.eye(3) + 0.1 * (x + x.T)
        return np.sum(np.linalg.pinv(s, hermitian=True) * c)
    x0 = np.zeros((3, 3))
    np.testing.assert_allclose(fr.grad(f)(x0), _fd_grad(f, x0), rtol=1e-6, atol=1e-8)


def test_lstsq_gradient_at_repeated_singular_values():
    b = np.arange(5.0) - 2

    def f(x):
        sol, res, _, _ = np.linalg.lstsq(_E + 0.3 * x, b + 0.5 * np.sum(x, axis=1))
        return np.sum(sol * np.array([1.0, -2.0, 0.5])) + np.sum(res)
    _grads_agree(f, np.zeros((5, 3)))


# 2. np.roots --------------------------------------------------------------------------------

def test_roots_closed_form_and_numpys_dtype():
    p = np.array([1.0, -3.0, 2.0])                  # (x - 2)(x - 1): dr = -dp(r) / p'(r)
    for jac in (fr.jacobian(np.roots), fr.jit(fr.jacfwd(np.roots))):
        np.testing.assert_allclose(jac(p), [[-4.0, -2.0, -1.0], [1.0, 1.0, 1.0]], atol=1e-12)
    assert fr.jit(np.roots)(p).dtype == np.float64
    q = np.array([3.2, 2.0, 1.0])                   # complex roots: complex, as in NumPy
    np.testing.assert_array_equal(fr.jit(np.roots)(q), np.roots(q))
    # a trailing zero is a simple root at 0: d0 = -dp_n / p_(n-1)
    np.testing.assert_allclose(fr.jacobian(np.roots)(np.array([1.0, -3.0, 2.0, 0.0]))[-1],
                               [0.0, 0.0, 0.0, -0.5], atol=1e-12)


@pytest.mark.parametrize("p", [np.array([3.2, 2.0, 1.0, -0.5]),
                               np.array([1.0, 0.3, -2.0, 0.5, 1.5])])
def test_roots_gradient_against_finite_differences(p):
    w = np.arange(1.0, len(p)) * (1 - 0.7j)

    def f(p):
        r = np.roots(p)
        return np.real(np.sum(r * w)) + np.sum(np.abs(r) ** 2)
    _grads_agree(f, p)
    check_grads(np.roots, (p,), order=2)
    check_grads(np.roots, (p + 0.4j * np.cos(np.arange(len(p))),), order=2)   # complex


def test_roots_raise_where_they_are_not_differentiable():
    with pytest.raises(fr.NonDifferentiableError, match="repeated roots"):
        fr.grad(lambda p: np.sum(np.real(np.roots(p))))(np.array([1.0, -2.0, 1.0]))
    with pytest.raises(fr.NonDifferentiableError, match="repeated roots"):
        fr.jit(fr.jacfwd(np.roots))(np.array([1.0, 1.0, 0.0, 0.0]))      # 0 twice
    with pytest.raises(fr.NonDifferentiableError, match="leading coefficient is 0"):
        fr.jacobian(np.roots)(np.array([0.0, 1.0, -3.0, 2.0]))
    # the values are NumPy's all the same
    np.testing.assert_array_equal(fr.jit(np.roots)(np.array([1.0, -2.0, 1.0])),
                                  np.roots([1.0, -2.0, 1.0]))


# 3. weighted histograms in several dimensions -----------------------------------------------

_RNG = np.random.default_rng(7)
_XY = _RNG.uniform(0.02, 0.98, (2, 9))
_W = _RNG.uniform(0.5, 2.0, 9)


def test_histogram2d_is_linear_in_its_weights():
    x, y = _XY
    c = _RNG.standard_normal((3, 4))
    edges = (np.linspace(0, 1, 4), np.array([0.0, 0.2, 0.5, 0.7, 1.0]))
    ix = np.searchsorted(edges[0], x, side="right") - 1
    iy = np.searchsorted(edges[1], y, side="right") - 1

    def f(w):
        return np.sum(np.histogram2d(x, y, bins=edges, weights=w)[0] * c)
    for g in (fr.grad(f), fr.jit(fr.grad(f))):
        np.testing.assert_allclose(g(_W), c[ix, iy], rtol=1e-12)     # the closed form
    np.testing.assert_allclose(fr.jit(lambda w: np.histogram2d(x, y, 3, weights=w)[0])(_W),
                               np.histogram2d(x, y, 3, weights=_W)[0], rtol=1e-12)


def test_histogramdd_weights_with_outliers_mixed_bins_and_density():
    sample = _RNG.uniform(-0.2, 1.2, (12, 3))
    w = _RNG.uniform(0.5, 2.0, 12)
    bins = (3, np.array([0.0, 0.25, 1.0]), 2)
    rng_ = [(0.0, 1.0), None, (0.1, 0.9)]
    c = np.cos(np.arange(12.0)).reshape(3, 2, 2)
    for density in (False, True):
        def hist(w, density=density):
            return np.histogramdd(sample, bins, rng_, density=density, weights=w)[0]
        np.testing.assert_allclose(fr.jit(hist)(w), hist(w), rtol=1e-12)
        _grads_agree(lambda w, hist=hist: np.sum(hist(w) * c), w)
    # the sequence-of-coordinates form
    cols = [sample[:, 0], sample[:, 1]]
    np.testing.assert_allclose(
        fr.grad(lambda w: np.sum(np.histogramdd(cols, 2, weights=w)[0] ** 2))(w),
        _fd_grad(lambda w: np.sum(np.histogramdd(cols, 2, weights=w)[0] ** 2), w), rtol=1e-6)


def test_histogram_density_with_weights_and_data_derived_edges():
    x, y = _XY
    c = np.arange(6.0).reshape(2, 3)
    for f in (lambda w: np.sum(np.histogram(x, 3, density=True, weights=w)[0] * c[1]),
              lambda w: np.sum(np.histogram2d(x, y, (2, 3), density=True, weights=w)[0] * c)):
        _grads_agree(f, _W)
    # densities from data-derived edges depend on the data through the bin widths
    _grads_agree(lambda x: np.sum(np.histogram2d(x, y, (2, 3), density=True)[0] * c), x)
    _grads_agree(lambda x: np.sum(np.histogram(x, 3, density=True)[0] * c[1]), x)
    # constant data: NumPy widens the range by 0.5 on each side
    a = np.full(3, 2.0)
    for fn in (np.histogram, np.histogram_bin_edges):
        np.testing.assert_allclose(fr.jit(lambda a, fn=fn: fn(a, 3)[-1] * 1.0)(a), fn(a, 3)[-1])
    np.testing.assert_allclose(fr.jacobian(lambda a: np.histogramdd(a[:, None], 2)[1][0])(a),
                               np.full((3, 3), 1 / 3))


# 4. std and norms where their value is 0 ----------------------------------------------------

def _all_modes_zero(f, x):
    """The derivative of f at x is 0 in every mode (and finite), eager and under jit."""
    n = np.size(f(x))
    for d in (fr.jacfwd(f)(x), fr.jacrev(f)(x), fr.jit(fr.jacrev(f))(x),
              fr.jit(fr.jacfwd(f))(x), fr.jvp(f, (x,), (np.ones_like(x),))[1]):
        np.testing.assert_array_equal(np.asarray(d), 0.0)
    if n == 1:
        np.testing.assert_array_equal(fr.grad(lambda x: np.sum(f(x)))(x), 0.0)


def test_std_where_it_is_zero_has_zero_derivative():
    _all_modes_zero(np.std, np.array([1.5]))                # identically 0
    np.testing.assert_array_equal(fr.hessian(np.std)(np.array([1.5])), [[0.0]])
    _all_modes_zero(lambda x: np.std(x, axis=1), np.array([[1.5], [2.0]]))
    _all_modes_zero(np.std, np.full(4, 2.0))                # a kink: the zero subgradient

    def fuzz(x):       # the tangent into std is exactly 0 (every entry below the max's 0.1)
        return np.std(np.exp(0.3 * np.tanh(np.maximum(x, 0.1))))
    _all_modes_zero(fuzz, np.array([0.0, -1.0, 0.05]))


def test_std_hessian_of_non_constant_data():
    x = np.array([1.0, 0.0, 0.0, 2.5])
    n, d = len(x), x - x.mean()
    s = np.sqrt(np.mean(d * d))
    p = np.eye(n) - 1.0 / n                                  # centring
    expected = p / (n * s) - np.outer(d, d) / (n * n * s ** 3)
    for h in (fr.hessian(np.std), fr.jit(fr.hessian(np.std))):
        np.testing.assert_allclose(h(x), expected, rtol=1e-10, atol=1e-14)
    check_grads(np.std, (x,), order=2)


def _zero_at_complex(f, x):
    """Forward and reverse derivatives of real-valued f at complex x are 0 (and finite)."""
    for t in (np.ones_like(x), 1j * np.ones_like(x)):
        np.testing.assert_array_equal(fr.jvp(f, (x,), (t,))[1], 0.0)
    out, back = fr.vjp(f, x)
    np.testing.assert_array_equal(back(np.ones_like(out))[0], 0.0)
    np.testing.assert_array_equal(fr.jit(fr.grad(lambda x: np.sum(f(x))))(x), 0.0)


@pytest.mark.parametrize(("norm", "euclidean"), [
    (np.linalg.norm, True), (lambda x: np.linalg.norm(x, axis=-1), True),
    (lambda x: np.linalg.vector_norm(x), True), (lambda x: np.linalg.norm(x, keepdims=True), True),
    (lambda x: np.linalg.norm(x, 3), False)])
def test_vector_norms_at_zero_and_their_hessian(norm, euclidean):
    _all_modes_zero(norm, np.zeros(3))
    _zero_at_complex(norm, np.zeros(3, complex))
    x = np.array([1.0, 0.0, -2.0])
    check_grads(norm, (x + 0.1,), order=2)
    if euclidean:                      # the Hessian (I - x x^T / |x|^2) / |x|, at a 0 entry
        r = np.linalg.norm(x)
        expected = (np.eye(3) - np.outer(x, x) / r ** 2) / r
        for h in (fr.hessian(lambda x: np.sum(norm(x))),
                  fr.jit(fr.hessian(lambda x: np.sum(norm(x))))):
            np.testing.assert_allclose(h(x), expected, rtol=1e-12, atol=1e-15)


def test_frobenius_norm_at_zero_and_its_hessian():
    for f in (np.linalg.norm, lambda m: np.linalg.norm(m, "fro"),
              lambda m: np.linalg.matrix_norm(m)):
        _all_modes_zero(f, np.zeros((2, 3)))
        x = np.array([[1.0, 0.0, 2.0], [0.0, -1.0, 0.5]])
        check_grads(f, (x,), order=2)
        h = fr.hessian(f)(x).reshape(6, 6)
        v, r = x.ravel(), np.linalg.norm(x)
        np.testing.assert_allclose(h, (np.eye(6) - np.outer(v, v) / r ** 2) / r, atol=1e-14)
    check_grads(np.linalg.norm, (np.array([1.0 + 1j, 0.0, -0.5j]),), order=2)


# 5. nan-reductions ignore their NaN entries -------------------------------------------------

# (nan-function, the function it is without NaNs, whether it takes an axis with NaNs in it)
_NAN_PAIRS = [(np.nansum, np.sum, True), (np.nanmean, np.mean, True),
              (np.nanprod, np.prod, True), (np.nanmax, np.max, True), (np.nanmin, np.min, True),
              (np.nanvar, np.var, True), (np.nanstd, np.std, True),
              (np.nanmedian, np.median, False),
              (lambda x: np.nanquantile(x, 0.3), lambda x: np.quantile(x, 0.3), False),
              (lambda x: np.nanpercentile(x, 70), lambda x: np.percentile(x, 70), False)]
# rows: no NaN, a NaN, one number left (std 0: the zero subgradient), distinct values
_XN = np.array([[0.7, -1.2, 2.0, 0.4],
                [1.5, np.nan, -0.3, 0.9],
                [np.nan, 0.8, np.nan, np.nan]])


def _without_nans(ref, x, w):
    """The gradient of sum(w * ref(x with its NaNs removed)), scattered back (0 at NaNs)."""
    keep = ~np.isnan(x)
    g = np.zeros_like(x)
    g[keep] = fr.grad(lambda v: np.sum(ref(v) * w))(x[keep])
    return g


@pytest.mark.parametrize(("nanfn", "ref", "by_axis"), _NAN_PAIRS)
def test_nan_reductions_gradient_is_that_without_the_nans(nanfn, ref, by_axis):
    def whole(x):
        return nanfn(x) * 1.5
    expected = _without_nans(ref, _XN, 1.5)
    for g in (fr.grad(whole), fr.jit(fr.grad(whole)), lambda x: fr.jacfwd(whole)(x)):
        np.testing.assert_allclose(g(_XN), expected, rtol=1e-12, atol=1e-15)
    if not by_axis:                   # nan-quantiles along an axis with NaNs raise (below)
        return
    # along an axis, row by row (the NaN-free slices of a 2-d array)
    w = np.array([1.0, -2.0, 0.5])

    def rows(x):
        return np.sum(nanfn(x, axis=1) * w)
    expected = np.stack([_without_nans(ref, r, wi) for r, wi in zip(_XN, w)])
    for g in (fr.grad(rows), fr.jit(fr.grad(rows)), fr.jacfwd(rows)):
        np.testing.assert_allclose(g(_XN), expected, rtol=1e-12, atol=1e-15)
    # second order: the Hessian without the NaNs, zero in their rows and columns
    keep = ~np.isnan(_XN[0:2]).ravel()
    h = fr.hessian(lambda x: np.sum(nanfn(x.reshape(2, 4), axis=1)))(_XN[0:2].ravel())
    h_ref = fr.hessian(lambda v: ref(v[:4]) + ref(v[4:]))(_XN[0:2].ravel()[keep])
    assert np.all(np.isfinite(h)) and np.all(h[~keep] == 0) and np.all(h[:, ~keep] == 0)
    np.testing.assert_allclose(h[np.ix_(keep, keep)], h_ref, rtol=1e-10, atol=1e-13)


def test_nan_quantiles_along_an_axis_with_nans_raise():
    with pytest.raises(NotImplementedError, match="along an axis with NaNs"):
        fr.grad(lambda x: np.sum(np.nanmedian(x, axis=1)))(_XN)


@pytest.mark.parametrize(("nanfn", "fn", "identity"), [(np.nancumsum, np.cumsum, 0.0),
                                                       (np.nancumprod, np.cumprod, 1.0)])
def test_nan_cumulative_gradient_ignores_the_nans(nanfn, fn, identity):
    x = _XN[1:]
    w = np.cos(np.arange(8.0)).reshape(2, 4)
    nan = np.isnan(x)
    filled = np.where(nan, identity, x)
    expected = np.where(nan, 0.0, fr.grad(lambda v: np.sum(fn(v, axis=1) * w))(filled))
    for g in (fr.grad, lambda f: fr.jit(fr.grad(f)), fr.jacfwd):
        np.testing.assert_allclose(g(lambda v: np.sum(nanfn(v, axis=1) * w))(x), expected,
                                   rtol=1e-12)
