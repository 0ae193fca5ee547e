"""frechet.scipy.special beyond the basics: gamma and beta families, the normal distribution's
functions, scaled and general Bessel functions, zeta, relative entropies.

Values against SciPy, derivatives against central differences (to second order) in every
differentiable argument, the arguments with no closed-form derivative raising, jit and vmap.
"""

import numpy as np
import pytest
import scipy.special as sps

import frechet as fr
import frechet.scipy.special as fss
from frechet._src.testing import check_grads

X = np.array([0.3, 0.7, 1.5, 2.2])

# name: (frechet function, scipy function, arguments, which arguments are differentiable)
CASES = {
    "gamma": (fss.gamma, sps.gamma, (X + 0.5,), (0,)),
    "gamma_negative": (fss.gamma, sps.gamma, (-X - 0.1,), (0,)),
    "loggamma": (fss.loggamma, sps.loggamma, (X + 0.1,), (0,)),
    "beta": (fss.beta, sps.beta, (X + 0.5, X[::-1] + 1.0), (0, 1)),
    "betaln": (fss.betaln, sps.betaln, (X + 0.5, X[::-1] + 1.0), (0, 1)),
    "betainc": (fss.betainc, sps.betainc, (X + 0.5, X[::-1] + 1.0, X / 3), (2,)),
    "gammainc": (fss.gammainc, sps.gammainc, (X + 0.5, X[::-1]), (1,)),
    "gammaincc": (fss.gammaincc, sps.gammaincc, (X + 0.5, X[::-1]), (1,)),
    "ndtr": (fss.ndtr, sps.ndtr, (X - 1,), (0,)),
    "log_ndtr": (fss.log_ndtr, sps.log_ndtr, (np.array([-30.0, -5.0, 0.2, 4.0]),), (0,)),
    "ndtri": (fss.ndtri, sps.ndtri, (X / 3,), (0,)),
    "log_expit": (fss.log_expit, sps.log_expit, (X - 1,), (0,)),
    "erfcx": (fss.erfcx, sps.erfcx, (X - 1,), (0,)),
    "i0e": (fss.i0e, sps.i0e, (X - 1,), (0,)),
    "i1e": (fss.i1e, sps.i1e, (X - 1,), (0,)),
    "iv": (fss.iv, sps.iv, (np.array([0.0, 1.0, 2.5, -0.5]), X), (1,)),
    "kv": (fss.kv, sps.kv, (np.array([0.0, 1.0, 2.5, -0.5]), X), (1,)),
    "zeta": (fss.zeta, sps.zeta, (X + 1.5, X + 0.5), (1,)),
    "rel_entr": (fss.rel_entr, sps.rel_entr, (X, X[::-1]), (0, 1)),
    "kl_div": (fss.kl_div, sps.kl_div, (X, X[::-1]), (0, 1)),
    "gammaincinv": (fss.gammaincinv, sps.gammaincinv, (X + 0.5, X / 3), (1,)),
    "gammainccinv": (fss.gammainccinv, sps.gammainccinv, (X + 0.5, X / 3), (1,)),
    "betaincinv": (fss.betaincinv, sps.betaincinv, (X + 0.5, X[::-1] + 1.0, X / 3), (2,)),
    "stdtr": (fss.stdtr, sps.stdtr, (X + 0.5, X - 1), (1,)),
    "stdtrit": (fss.stdtrit, sps.stdtrit, (X + 0.5, X / 3), (1,)),
    "polygamma": (lambda x: fss.polygamma(2, x), lambda x: sps.polygamma(2, x), (X,), (0,)),
    "polygamma0": (lambda x: fss.polygamma(0, x), lambda x: sps.polygamma(0, x), (X,), (0,)),
    "multigammaln": (lambda a: fss.multigammaln(a, 3), lambda a: sps.multigammaln(a, 3),
                     (X + 1.5,), (0,)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_value_matches_scipy(name):
    f, g, args, diff = CASES[name]
    np.testing.assert_allclose(np.asarray(f(*args)), g(*args), rtol=1e-13, atol=0)
    # and on the traced path (traced in the differentiable arguments)
    i = diff[0]
    got = fr.jvp(lambda a: f(*args[:i], a, *args[i + 1:]), (args[i],), (np.ones_like(args[i]),))[0]
    np.testing.assert_allclose(np.asarray(got), g(*args), rtol=1e-13, atol=0)


@pytest.mark.parametrize("name", sorted(CASES))
def test_derivatives_match_finite_differences(name):
    f, _, args, diff = CASES[name]
    for i in diff:
        def fi(a, i=i):
            return f(*args[:i], a, *args[i + 1:])
        check_grads(fi, (args[i],), order=2, rng=np.random.default_rng(i))


@pytest.mark.parametrize("name", ["gamma", "betainc", "iv", "zeta", "rel_entr", "log_ndtr"])
def test_scipy_ufunc_dispatches_to_frechet(name):
    """scipy.special.X on a traced value is the frechet function (same value and gradient)."""
    f, g, args, diff = CASES[name]
    i = diff[0]

    def through_scipy(a):
        return np.sum(g(*args[:i], a, *args[i + 1:]))

    def through_frechet(a):
        return np.sum(f(*args[:i], a, *args[i + 1:]))
    np.testing.assert_allclose(fr.grad(through_scipy)(args[i]), fr.grad(through_frechet)(args[i]),
                               rtol=1e-14)


def test_known_derivatives():
    x = np.array([0.4, 1.3])
    np.testing.assert_allclose(fr.grad(lambda x: np.sum(fss.gamma(x)))(x),
                               sps.gamma(x) * sps.digamma(x), rtol=1e-13)
    np.testing.assert_allclose(fr.grad(lambda x: np.sum(fss.gammainc(2.0, x)))(x),
                               x * np.exp(-x), rtol=1e-13)
    np.testing.assert_allclose(fr.grad(lambda x: np.sum(fss.betainc(2.0, 1.0, x)))(x / 2),
                               x, rtol=1e-13)
    np.testing.assert_allclose(fr.grad(lambda x: np.sum(fss.ndtri(x)))(x / 2),
                               np.sqrt(2 * np.pi) * np.exp(sps.ndtri(x / 2) ** 2 / 2), rtol=1e-13)
    # kv(1/2, x) = sqrt(pi / (2x)) exp(-x)
    dk = -np.sqrt(np.pi / (2 * x)) * np.exp(-x) * (1 + 1 / (2 * x))
    np.testing.assert_allclose(fr.grad(lambda x: np.sum(fss.kv(0.5, x)))(x), dk, rtol=1e-12)
    np.testing.assert_allclose(fr.grad(lambda q: fss.zeta(3.0, q))(2.0), -3 * sps.zeta(4, 2),
                               rtol=1e-13)


def test_far_tails_and_boundaries_are_finite_without_warnings():
    # log_ndtr far in the lower tail: d/dx = 1 / Mills ratio, 1/t - 1/t^3 + 3/t^5 - ...
    x = np.array([-1e4, -40.0, 40.0])
    d = fr.grad(lambda x: np.sum(fss.log_ndtr(x)))(x)
    t = -x[:2]
    np.testing.assert_allclose(d[:2], 1 / (1 / t - 1 / t**3 + 3 / t**5 - 15 / t**7 + 105 / t**9),
                               rtol=1e-12)
    assert d[2] == 0.0
    # the densities at the ends of the domain: their limits
    np.testing.assert_allclose(fr.grad(lambda x: np.sum(fss.betainc(2.0, 3.0, x)))(
        np.array([0.0, 1.0])), [0.0, 0.0])
    np.testing.assert_allclose(fr.grad(lambda x: np.sum(fss.betainc(1.0, 3.0, x)))(
        np.array([0.0])), [3.0])
    np.testing.assert_allclose(fr.grad(lambda x: np.sum(fss.gammainc(1.0, x)))(
        np.array([0.0])), [1.0])
    assert fr.grad(lambda x: fss.i1e(x))(0.0) == 0.5


def test_relative_entropy_at_zero():
    """d/dy is finite at x = 0; d/dx is -inf from the right there: NaN (not a silent 0)."""
    gx, gy = fr.grad(lambda x, y: np.sum(fss.rel_entr(x, y)), argnums=(0, 1))(
        np.array([0.0, 0.5]), np.array([1.0, 2.0]))
    assert np.isnan(gx[0]) and np.isclose(gx[1], np.log(0.25) + 1)
    np.testing.assert_allclose(gy, [0.0, -0.25])
    gy = fr.grad(lambda y: np.sum(fss.kl_div(np.array([0.0, 0.5]), y)))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(gy, [1.0, 0.75])


def test_riemann_zeta():
    x = np.array([-1.5, 0.5, 2.0, 4.0])
    np.testing.assert_allclose(fss.zeta(x), sps.zeta(x), rtol=1e-14)
    # Note: Hurwitz's zeta at q = 1 is Riemann's also for x < 1 (SciPy gives NaN there)
    np.testing.assert_allclose(fss.zeta(x, 1.0), sps.zeta(x), rtol=1e-14)


NONDIFF = [
    ("iv", lambda v: fss.iv(v, 1.3), "iv.*'v'"),
    ("kv", lambda v: fss.kv(v, 1.3), "kv.*'v'"),
    ("gammainc", lambda a: fss.gammainc(a, 1.3), "gammainc.*'a'"),
    ("gammaincc", lambda a: fss.gammaincc(a, 1.3), "gammaincc.*'a'"),
    ("betainc_a", lambda a: fss.betainc(a, 2.0, 0.3), "betainc.*'a'"),
    ("betainc_b", lambda b: fss.betainc(2.0, b, 0.3), "betainc.*'b'"),
    ("zeta", lambda s: fss.zeta(s, 2.0), "zeta.*'x'"),
    ("zeta_riemann", lambda s: fss.zeta(s), "zeta.*'x'"),
    ("gammaincinv", lambda a: fss.gammaincinv(a, 0.3), "gammaincinv.*'a'"),
    ("betaincinv", lambda b: fss.betaincinv(2.0, b, 0.3), "betaincinv.*'b'"),
    ("stdtr", lambda df: fss.stdtr(df, 0.3), "stdtr.*'df'"),
    ("stdtrit", lambda df: fss.stdtrit(df, 0.3), "stdtrit.*'df'"),
    ("scipy_iv", lambda v: sps.iv(v, 1.3), "iv.*'v'"),
]


@pytest.mark.parametrize("name,f,match", NONDIFF, ids=[n[0] for n in NONDIFF])
def test_no_closed_form_raises(name, f, match):
    with pytest.raises(fr.NonDifferentiableError, match=match):
        fr.grad(f)(1.7)
    with pytest.raises(fr.NonDifferentiableError, match=match):
        fr.jvp(f, (1.7,), (1.0,))
    # a traced value that is not differentiated is fine (vmap over the parameter)
    v = np.array([1.2, 1.7])
    np.testing.assert_allclose(fr.vmap(f)(v), [f(1.2), f(1.7)], rtol=1e-14)


def test_jit_and_vmap():
    def f(a, x):
        return np.sum(fss.betainc(a, 2.0, x) * fss.iv(a, x) + fss.log_ndtr(x) * fss.gamma(x))
    a, x = np.array([0.5, 1.5, 2.5]), np.array([0.2, 0.5, 0.8])
    g = fr.grad(f, argnums=1)
    jg = fr.jit(g)
    np.testing.assert_allclose(jg(a, x), g(a, x), rtol=1e-14)
    np.testing.assert_allclose(jg(a + 1, x / 2), g(a + 1, x / 2), rtol=1e-14)   # fresh arguments
    xs = np.array([x, x / 2, x / 3])
    np.testing.assert_allclose(fr.vmap(g, in_axes=(None, 0))(a, xs),
                               np.stack([g(a, r) for r in xs]), rtol=1e-14)
    np.testing.assert_allclose(fr.vmap(lambda q: fss.zeta(3.0, q))(xs[:, 0] + 1),
                               sps.zeta(3.0, xs[:, 0] + 1), rtol=1e-14)


def test_float32_stays_float32():
    x = np.array([0.3, 0.6], np.float32)
    for f in (fss.gamma, fss.ndtr, fss.ndtri, fss.i0e, fss.log_expit):
        assert f(x).dtype == np.float32
        assert fr.grad(lambda x, f=f: np.sum(f(x)))(x).dtype == np.float32
    assert fss.gammainc(np.float32(2), x).dtype == np.float32


def test_integer_inputs_compute_in_float64():
    np.testing.assert_allclose(fss.beta(2, 3), sps.beta(2, 3), rtol=1e-15)
    np.testing.assert_allclose(fss.iv(1, np.array([1, 2])), sps.iv(1, np.array([1, 2])),
                               rtol=1e-15)


def test_multigammaln_domain():
    with pytest.raises(ValueError, match=r"a > 0.5 \* \(d-1\)"):
        fss.multigammaln(0.9, 3)


@pytest.mark.parametrize("name", ["polygamma", "multigammaln"])
def test_scipy_python_functions_name_the_frechet_version(name):
    """scipy.special's Python-level functions convert their input; the error names the way out."""
    f = {"polygamma": lambda x: sps.polygamma(1, x),
         "multigammaln": lambda x: sps.multigammaln(x, 2)}[name]
    with pytest.raises(fr.TracerConversionError, match=f"frechet.scipy.special.{name}"):
        fr.grad(f)(2.5)


def test_scipy_riemann_zeta_on_traced_values_is_unsupported():
    """scipy.special.zeta(x) (no q) calls a private one-argument ufunc frechet does not map
    (it has no derivative anyway); frechet.scipy.special.zeta(x) is the traced version."""
    with pytest.raises(fr.UnsupportedFunctionError, match="_riemann_zeta"):
        fr.vmap(sps.zeta)(np.array([2.0, 3.0]))
    np.testing.assert_allclose(fr.vmap(fss.zeta)(np.array([2.0, 3.0])), sps.zeta([2.0, 3.0]),
                               rtol=1e-15)
