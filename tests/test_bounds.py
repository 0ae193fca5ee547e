"""frechet.bounds.taylor_bound: enclosures must hold at every sampled point of their region,
be sharp for single elementary functions, beat plain interval arithmetic on compositions, and
fail or go infinite clearly where a function is undefined or unbounded."""

import math

import numpy as np
import pytest
import scipy.special as sps

import frechet as fr
from frechet.bounds import taylor_bound

W = np.array([[0.5, -1.0], [1.5, 0.3], [-0.7, 0.8]])
V = np.array([0.4, -1.2, 0.9])

# (name, f, x0, region)
def _stable_logsumexp(z):
    return np.log(np.sum(np.exp(z - np.max(z)))) + np.max(z)


CASES = [
    ("exp", np.exp, 0.3, (-1.0, 2.0)),
    ("log", np.log, 1.0, (0.5, 3.0)),
    ("sqrt", np.sqrt, 2.0, (0.5, 4.0)),
    ("sin", np.sin, 0.5, (-2.0, 3.0)),
    ("cos", np.cos, 1.0, (0.0, 1.5)),
    ("reciprocal", lambda x: 1.0 / x, -1.5, (-2.0, -0.5)),
    ("power_2p5", lambda x: x ** 2.5, 1.0, (0.2, 2.0)),
    ("cube", lambda x: x ** 3, 0.5, (-1.0, 1.0)),
    ("poly", lambda x: 3 * x ** 4 - 2 * x ** 2 + x - 1, -0.2, (-1.0, 1.0)),
    ("tanh", np.tanh, 0.2, (-1.0, 1.5)),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x)), 0.0, (-3.0, 3.0)),
    ("softplus", lambda x: np.logaddexp(0.0, x), 0.5, (-2.0, 2.0)),
    ("expm1", np.expm1, -0.5, (-1.0, 0.5)),
    ("log1p", np.log1p, 0.5, (-0.5, 2.0)),
    ("exp_sin", lambda x: np.exp(np.sin(x)), 0.3, (-1.0, 1.0)),
    ("x_log", lambda x: x * np.log(1 + x * x), 1.0, (0.0, 2.0)),
    ("swish", lambda x: x / (1 + np.exp(-x)), 0.5, (-1.0, 2.0)),
    ("gauss", lambda x: np.exp(-x * x / 2) * np.cos(3 * x), 0.1, (-0.5, 0.8)),
    ("rational", lambda x: (x * x + 1) / (x * x + 2 * x + 3), 0.0, (-1.0, 1.0)),
    ("log_exp", lambda x: np.log(np.exp(x)), 1.0, (0.5, 2.0)),
    ("nested_trig", lambda x: np.sin(np.cos(x)) + np.cos(np.sin(2 * x)), 0.7, (0.0, 1.4)),
    ("sqrt_sum", lambda x: np.sqrt(1 + x * x) - x, 0.0, (-2.0, 2.0)),
    ("taylor8", lambda x: np.exp(np.sin(x)) * np.tanh(x) + np.log1p(x * x), 0.3, (0.0, 1.0)),
    ("vector_out", lambda x: np.array([1.0, 2.0, -0.5]) * np.sin(x + np.arange(3.0)), 0.0,
     (-0.5, 0.5)),
    ("reductions", lambda x: np.sum(np.exp(x * np.linspace(-1, 1, 5)) ** 2), 0.2, (-0.3, 0.6)),
    ("matmul", lambda x: W @ np.tanh(np.stack([x, 1 - x])) + V, 0.5, (0.0, 1.0)),
    ("mlp_loss", lambda x: np.sum((V @ np.tanh(W @ np.stack([x, 2.0 * x]) + 0.1) - 1.0) ** 2)
     + np.log(np.sum(np.exp(W @ np.stack([np.float64(1.0), x])))), 0.1, (-0.5, 0.5)),
    ("shapes", lambda x: np.concatenate([np.stack([x, x * x]), np.exp(x)[None]])[::-1].sum(),
     0.0, (-1.0, 1.0)),
    ("where_const", lambda x: np.where(np.array([True, False]), np.sin(x), x * x).sum(), 0.5,
     (0.0, 1.0)),
    ("quotient_trig", lambda x: np.sin(x) / (2 + np.cos(x)), 2.0, (1.0, 3.0)),
    ("power_var", lambda x: (1.5 + x) ** (0.5 + x), 0.1, (-0.4, 0.6)),
    ("expit", lambda x: __import__("scipy.special").special.expit(2 * x - 1), 0.3, (-2.0, 2.5)),
    ("tanh_wide", np.tanh, -1.0, (-4.0, 3.0)),
    ("softplus", lambda x: np.logaddexp(0.0, 2 * x - 1), 0.3, (-2.0, 2.5)),
    ("reduce_max", lambda x: np.max(np.sin(x * np.arange(1.0, 6.0))), 0.3, (-0.5, 1.0)),
    ("reduce_min_axes", lambda x: np.min(np.reshape(np.cos(x + np.arange(12.0)), (3, 4)),
                                         axis=(0, 1)), 0.3, (-0.5, 1.0)),
    ("stable_logsumexp", lambda x: _stable_logsumexp(W @ np.stack([x, 1 - x])), 0.2, (-0.5, 0.5)),
    ("softplus_net", lambda x: np.sum(V * np.logaddexp(W @ np.stack([x, 1 - x]), 0.5)), 0.2,
     (-1.0, 1.5)),
    ("erf", lambda x: __import__("scipy.special").special.erf(3 * x - 0.5), 0.1, (-1.0, 1.0)),
    ("erfc_product", lambda x: __import__("scipy.special").special.erfc(x) * np.cos(x), 0.4,
     (-0.5, 2.0)),
    ("abs", np.abs, 0.3, (-1.0, 1.0)),
    ("abs_negative_side", lambda x: np.abs(x - 0.5), -0.2, (-1.0, 1.5)),
    # xlogy and xlog1py are primitives (their x-derivative at x = 0 is log y)
    ("xlogy", lambda x: sps.xlogy(x, x) + sps.xlogy(2.0, x) + sps.xlogy(x, 3.0), 1.0,
     (0.5, 2.0)),
    ("xlog1py", lambda x: sps.xlog1py(x * x, x) + sps.xlog1py(0.0, x), 0.3, (-0.5, 1.0)),
    ("abs_one_signed", np.abs, -0.5, (-1.0, -0.1)),
    ("exp_of_abs", lambda x: np.exp(np.abs(x)) + np.sqrt(np.abs(x - 2.0)), -0.5, (-1.0, 0.3)),
    ("relu_mlp", lambda x: np.sum(V * np.maximum(W @ np.stack([x, 1 - x]), 0.0)), 0.2,
     (-1.0, 1.0)),
    ("min_max", lambda x: np.minimum(np.sin(x), 0.2) + np.maximum(x * x, 0.5 * x), 0.4,
     (-1.0, 1.5)),
]


def _check(name, f, x0, region, degree):
    e = taylor_bound(f, x0, region, degree)
    xs = np.concatenate([np.linspace(region[0], region[1], 601), [x0]])
    fx = np.stack([np.asarray(f(x), dtype=float) for x in xs])
    at = xs.reshape((-1,) + (1,) * (fx.ndim - 1))
    lo, hi = e.lower(at), e.upper(at)
    assert not np.any(np.isnan(lo)) and not np.any(np.isnan(hi)), name
    assert np.all(lo <= fx) and np.all(fx <= hi), (name, degree)
    r_lo, r_hi = e.range()
    assert np.all(r_lo <= fx.min(axis=0)) and np.all(fx.max(axis=0) <= r_hi), name
    return e


@pytest.mark.parametrize("degree", [0, 1, 2, 3])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_enclosures_hold_at_every_sampled_point(case, degree):
    _check(*case, degree)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_coefficients_are_the_taylor_coefficients(case):
    _, f, x0, region = case
    e = taylor_bound(f, x0, region, 3)
    want = fr.taylor(f, np.float64(x0), np.float64(1.0), 3)
    for k in range(4):
        np.testing.assert_allclose(e.coefficients[k], want[k], rtol=1e-12, atol=1e-12)


def _sharp(f, x0, a, b, d):
    """The best remainder for a function whose d-th derivative is monotone: rho at the ends,
    computed in extended precision."""
    x0l = np.longdouble(x0)
    cs = fr.taylor(f, np.float64(x0), np.float64(1.0), d)

    def rho(x):
        if x == x0:                     # the limit: f^(d)(x0) / d!
            return cs[d]
        cs_below = cs[:d]
        x = np.longdouble(x)
        t = sum(np.longdouble(c) * (x - x0l) ** i for i, c in enumerate(cs_below))
        try:
            value = f(x)
        except TypeError:               # SciPy's erf has no long-double loop
            value = np.longdouble(f(np.float64(x)))
        return (value - t) / (x - x0l) ** d
    return sorted([float(rho(a)), float(rho(b))])


@pytest.mark.parametrize("fn,x0,region", [(np.exp, 0.3, (-1.0, 2.0)), (np.log, 1.0, (0.5, 3.0)),
                                          (np.exp, -2.0, (-3.0, -1.0)), (np.exp, 0.0, (0.0, 1.0)),
                                          (np.tanh, 0.5, (0.3, 0.6)),
                                          (np.cos, 0.4, (0.1, 1.2)), (np.sin, 0.5, (0.1, 1.0)),
                                          (np.expm1, 0.2, (-1.0, 1.5)), (np.log1p, 0.5, (0.0, 2.0)),
                                          (np.sqrt, 1.0, (0.5, 3.0)), (np.cbrt, 2.0, (1.0, 3.0)),
                                          (np.reciprocal, 1.5, (0.5, 2.0)),
                                          (lambda x: x ** 2.5, 1.0, (0.5, 2.0)),
                                          (lambda x: 0.5 * (1 + np.tanh(0.5 * x)), 3.0,
                                           (2.5, 4.0)),
                                          (__import__("scipy.special").special.expit, 3.0,
                                           (2.5, 4.0))])
@pytest.mark.parametrize("degree", [0, 1, 2])
def test_single_elementary_functions_are_sharp(fn, x0, region, degree):
    e = taylor_bound(fn, x0, region, degree)
    want = _sharp(fn, x0, *region, degree + 1)
    np.testing.assert_allclose(e.remainder, want, rtol=1e-12, atol=1e-12)


def _softplus(x):
    return np.logaddexp(0.0, x)


@pytest.mark.parametrize("fn,x0,region,degrees", [
    (_softplus, 2.0, (1.5, 4.0), [0, 1, 2]),
    (_softplus, -1.0, (-1.25, -0.5), [0, 1, 2]),
    (__import__("scipy.special").special.erf, 1.0, (0.8, 2.0), [0, 1]),
    (__import__("scipy.special").special.erf, -0.3, (-0.6, -0.05), [0, 1, 2]),
])
def test_softplus_and_erf_are_sharp(fn, x0, region, degrees):
    for degree in degrees:
        e = taylor_bound(fn, x0, region, degree)
        want = _sharp(fn, x0, *region, degree + 1)
        np.testing.assert_allclose(e.remainder, want, rtol=1e-12, atol=1e-12)


def test_softplus_quadratic_enclosure_across_zero_is_sharp():
    # softplus'' peaks at 0, inside the region: rho's maximum is at the mirror point -x0
    x0, a, b = 0.5, -2.0, 3.0
    e = taylor_bound(_softplus, x0, (a, b), 1)
    lo = min(_sharp(_softplus, x0, a, b, 2))
    hi = max(_sharp(_softplus, x0, -x0, -x0, 2))
    np.testing.assert_allclose(e.remainder, [lo, hi], rtol=1e-12)
    xs = np.linspace(a, b, 100_001)
    xs = xs[np.abs(xs - x0) > 1e-3]
    rho = (_softplus(xs) - _softplus(x0) - 0.5 * (1 + np.tanh(x0 / 2)) * (xs - x0)) / (xs - x0) ** 2
    assert e.remainder[0] <= rho.min() and rho.max() <= e.remainder[1]
    assert rho.max() > e.remainder[1] - 1e-9 and rho.min() < e.remainder[0] + 1e-9


def test_compositions_are_tighter_than_interval_arithmetic():
    # interval_range is plain interval arithmetic; the ranges of the enclosures are tighter, by
    # orders of magnitude where terms cancel
    for f, x0, region, factor in [(lambda x: x * np.exp(-x), 1.0, (0.5, 1.5), 0.3),
                                  (lambda x: np.sin(x) - x + x ** 3 / 6, 0.0, (-0.5, 0.5), 0.01),
                                  (lambda x: np.exp(np.sin(x) - x), 0.3, (0.0, 0.6), 0.1)]:
        e = taylor_bound(f, x0, region, 3)
        naive, taylor = e.interval_range, e.range()
        assert taylor[1] - taylor[0] < factor * (naive[1] - naive[0])


@pytest.mark.parametrize("name,p,lo,hi", [
    ("exp", None, -2.0, 1.5), ("log", None, 0.2, 3.0), ("power", 0.5, 0.1, 4.0),
    ("power", -1.0, -3.0, -0.5), ("power", 1 / 3, 0.01, 2.0), ("sin", None, -1.0, 4.0),
    ("cos", None, -2.0, 0.5), ("tanh", None, -3.0, 0.4), ("expit", None, -1.0, 5.0),
    ("abs", None, -1.0, 0.3), ("abs", None, -1.0, -0.3), ("abs", None, 0.2, 0.3)])
def test_degree_zero_enclosures_are_ranges(name, p, lo, hi):
    # the range-propagation pass uses these; a wrong one would silently tighten later bounds
    from frechet._src.interpreters.enclosure import elementary
    ys = np.linspace(lo, hi, 2001)
    y0 = np.array(0.5 * (lo + hi))
    y = (np.array(lo), np.array(hi))
    if name == "abs":
        terms, _ = elementary.abs_enclosure(y0, y, 0)
        vals = np.abs(ys)
    else:
        terms, _ = elementary.enclosure(name, y0, y, 0, p)
        vals = {"exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
                "expit": lambda v: 1 / (1 + np.exp(-v)),
                "power": lambda v: np.sign(v) * np.abs(v) ** p}[name](ys)
    (r_lo, r_hi), = terms
    assert r_lo <= vals.min() and vals.max() <= r_hi
    assert r_hi - r_lo <= vals.max() - vals.min() + 1e-3       # the grid misses extremes


def test_autobound_reference_numbers():
    # log(exp(x)) at 1 over [0.5, 2], remainder degree 1: (1, [0.45798, 2.18350]) with ranges
    # propagated by interval arithmetic ([0.45798, 3.91999] without; Streeter and Dillon's
    # example, as AutoBound computes it)
    e = taylor_bound(lambda x: np.log(np.exp(x)), 1.0, (0.5, 2.0), 0)
    np.testing.assert_allclose(e.remainder, [0.45798, 2.18350], rtol=1e-5)
    cube = taylor_bound(lambda x: x ** 3, 0.5, (-1.0, 1.0), 1)
    np.testing.assert_allclose(cube.remainder, [0.0, 2.0], atol=1e-14)


def test_domains_degenerate_regions_and_errors():
    e = taylor_bound(np.log, 1.0, (0.0, 2.0), 1)            # reaches log's pole: unbounded
    assert e.remainder[0] == -np.inf and e.remainder[1] == np.inf
    assert not np.isnan(e.upper(1.5)) and not np.isnan(e.lower(0.5))
    e = taylor_bound(lambda x: 1.0 / x, 1.0, (-1.0, 2.0), 1)
    assert np.isinf(e.remainder[1])
    with pytest.raises(ValueError, match="domain"):
        taylor_bound(np.log, -1.0, (-2.0, 0.5), 1)
    with pytest.raises(ValueError, match="contain x0"):
        taylor_bound(np.exp, 3.0, (0.0, 1.0), 1)
    point = taylor_bound(np.exp, 0.5, (0.5, 0.5), 2)         # a region of one point
    assert point.lower(0.5) <= np.exp(0.5) <= point.upper(0.5)
    with pytest.raises(NotImplementedError, match="'sort'"):
        taylor_bound(lambda x: np.sort(np.stack([x, -x]))[0], 0.0, (-1.0, 1.0), 1)
    assert math.isfinite(taylor_bound(np.exp, 0.0, (-700.0, 700.0), 1).remainder[1])


# ---- verified global minimisation and integrals

@pytest.mark.parametrize("f,region", [
    (lambda x: x ** 4 - 3 * x ** 2 + x, (-2.0, 2.0)),
    (lambda x: np.sin(3 * x) + 0.3 * x * x, (-3.0, 3.0)),
    (lambda x: np.exp(-x) * np.cos(5 * x), (0.0, 2.0)),
    (lambda x: np.log1p(x * x) - np.tanh(x), (-1.0, 2.0)),
])
def test_global_minimum_is_certified(f, region):
    from frechet.bounds import global_minimum
    (lo, hi), x = global_minimum(f, region, tol=1e-7)
    xs = np.linspace(region[0], region[1], 200_001)
    sampled = f(xs).min()
    assert lo <= sampled + 1e-15 and hi - lo <= 1e-7
    assert lo <= f(x) <= hi + 1e-12 and region[0] <= x <= region[1]


def test_integral_is_certified():
    from frechet.bounds import integral
    for f, region, exact in [(np.exp, (0.0, 1.0), np.e - 1), (np.sin, (0.0, np.pi), 2.0),
                             (lambda x: 1 / (1 + x * x), (-1.0, 1.0), np.pi / 2),
                             (lambda x: x ** 3, (-1.0, 2.0), 3.75)]:
        lo, hi = integral(f, region)
        assert lo <= exact <= hi and hi - lo < 1e-5, f
    with pytest.raises(ValueError, match="scalar"):
        integral(lambda x: np.stack([x, x]), (0.0, 1.0))


def test_long_double_erf():
    # the sharp erf remainders need erf beyond float64; checked against the exact values of
    # erf's positive-term series summed in Python fractions (no cancellation, exact rationals)
    from fractions import Fraction

    from frechet._src.interpreters.enclosure.elementary import _VALUE_EPS, _erf
    ys = np.array([-4.5, -2.0, -0.3, 1e-8, 0.5, 1.7, 2.9, 3.2, 6.0], dtype=np.longdouble)
    got = _erf(ys)
    for g, y in zip(got, ys):
        if abs(y) > 3:                  # 1 - erfc: absolute error below erfc's tiny value
            assert abs(float(g) - float(np.sign(y)) * (1 - __import__("scipy.special").special
                                                       .erfc(abs(float(y))))) < 1e-19
            continue
        x = Fraction(float(y))
        term, total = x, x
        for n in range(200):
            term = term * 2 * x * x / (2 * n + 3)
            total += term
        # 2/sqrt(pi) exp(-x^2) in long double, which the test takes as given
        scale = 2 / np.sqrt(4 * np.arctan(np.longdouble(1))) * np.exp(-np.longdouble(y) ** 2)
        want = total * Fraction(*scale.as_integer_ratio())
        err = abs(Fraction(*g.as_integer_ratio()) - want) / abs(want)
        assert err <= Fraction(float(_VALUE_EPS["erf"])) / 4
        assert err <= 64 * Fraction(float(np.finfo(np.longdouble).eps))


def test_ranges_of_maxima_are_the_max_of_the_ends():
    # plain interval arithmetic of a max is exact on its arguments' ranges; the enclosure's
    # range is intersected with it
    e = taylor_bound(lambda x: np.max(np.sin(x * np.arange(1.0, 6.0))), 0.3, (-0.5, 1.0), 2)
    np.testing.assert_allclose(e.range(), [-np.sin(0.5), 1.0], atol=1e-12)
    e = taylor_bound(lambda x: np.maximum(x, 0.0) + np.minimum(x, 0.2), 0.3, (-0.5, 1.0), 1)
    assert e.interval_range[0] == pytest.approx(-0.5) and e.interval_range[1] == pytest.approx(1.2)


@pytest.mark.parametrize("fn,x0,region", [
    (lambda x: np.maximum(x, 0.0), 0.5, (-1.0, 1.0)), (lambda x: np.maximum(x, 0.0), -0.3, (-1.0, 2.0)),
    (np.abs, 0.4, (-2.0, 1.0)), (np.abs, -0.7, (-1.0, 0.2)), (lambda x: np.minimum(x, 0.0), 0.2, (-1.0, 1.0))])
@pytest.mark.parametrize("degree", [0, 1, 2])
def test_kinks_are_sharp(fn, x0, region, degree):
    # rho(x) = (f(x) - T(x)) / (x - x0)^(k+1) on a fine grid (its extremes are at the ends, at 0
    # or at the mirror point -x0, all on the grid): the remainder is its exact range
    e = taylor_bound(fn, x0, region, degree)
    xs = np.concatenate([np.linspace(*region, 200_001), [0.0, np.clip(-x0, *region)]])
    xs = xs[np.abs(xs - x0) > 1e-3].astype(np.longdouble)
    exact = [fn(np.float64(x0)), fr.grad(fn)(np.float64(x0)), 0.0][:degree + 1]
    np.testing.assert_allclose(e.coefficients, exact, atol=1e-15)
    t = sum(c * (xs - x0) ** i for i, c in enumerate(exact))
    rho = (fn(xs) - t) / (xs - x0) ** (degree + 1)
    assert e.remainder[0] <= rho.min() and rho.max() <= e.remainder[1]
    np.testing.assert_allclose(e.remainder, [rho.min(), rho.max()], rtol=1e-9, atol=1e-12)


def test_branches_decided_over_the_whole_region():
    # np.where on a comparison of x: a constant wherever the compared intervals do not overlap
    def f(x):
        return np.where(x > 0.0, np.sin(x), x * x) + np.where(np.stack([x, -x]) <= 0.5, 1.0, x)
    e = taylor_bound(f, 0.5, (0.1, 0.5), 2)
    g = taylor_bound(lambda x: np.sin(x) + np.array([1.0, 1.0]), 0.5, (0.1, 0.5), 2)
    for c, d in zip(e.coefficients, g.coefficients):
        np.testing.assert_allclose(c, d, rtol=1e-15)
    np.testing.assert_allclose(e.remainder, g.remainder, rtol=1e-15)
    with pytest.raises(NotImplementedError, match="changes inside the region"):
        taylor_bound(f, 0.5, (-0.1, 0.5), 2)
    with pytest.raises(NotImplementedError, match="changes inside the region"):
        taylor_bound(f, 0.5, (0.1, 0.6), 2)
    # several variables, every comparison kind
    h = lambda x: (np.where(x[0] < x[1], x[0], x[1]) + np.where(x[0] >= 0.0, 1.0, 0.0)
                   + np.where(x[1] != 0.0, x[1] ** 2, 0.0) + np.where(x[0] == 5.0, x[0], 0.0))
    x0 = np.array([0.2, 0.8])
    e = taylor_bound(h, x0, (x0 - 0.1, x0 + 0.1), 1)
    np.testing.assert_allclose(e.coefficients[1], [1.0, 2 * 0.8], rtol=1e-14)
    _check("piecewise", lambda x: np.where(x > 1.0, np.exp(-x), np.cos(x)), 0.3, (-1.0, 0.9), 2)


def test_cond_decided_over_the_whole_region():
    def f(x):
        y = fr.cond(x > 0.0, lambda v: np.exp(v) * v, lambda v: -v, x)
        return fr.cond(np.sum(y) < 100.0, lambda v: np.sin(v), lambda v: v, y)
    e = taylor_bound(f, 0.5, (0.2, 1.0), 2)
    g = taylor_bound(lambda x: np.sin(np.exp(x) * x), 0.5, (0.2, 1.0), 2)
    for c, d in zip(e.coefficients + [e.remainder], g.coefficients + [g.remainder]):
        np.testing.assert_allclose(c, d, rtol=1e-15)
    x0 = np.array([0.5, 0.3])
    e = taylor_bound(lambda x: f(x[0] * x[1]), x0, (x0 - 0.1, x0 + 0.1), 1)
    assert e.lower(x0 + 0.05) <= f(0.55 * 0.35) <= e.upper(x0 + 0.05)
    with pytest.raises(NotImplementedError, match="changes inside the region"):
        taylor_bound(f, 0.5, (-0.2, 1.0), 2)
