"""frechet.scipy.stats: values against scipy.stats (inside and outside the support, invalid
parameters), derivatives against central differences in the point and every parameter with a
closed form, NonDifferentiableError for the others, jit, vmap, frozen distributions."""

import numpy as np
import pytest
import scipy.stats as ss

import frechet
import frechet as fr
from frechet._src.testing import check_grads

st = frechet.scipy.stats

X = np.array([-1.5, -0.2, 0.0, 0.3, 0.7, 1.0, 1.5, 3.0, np.nan])
Q = np.array([0.0, 0.1, 0.5, 0.9, 1.0, 1.2, -0.1])
CONTINUOUS = [("norm", ()), ("t", (3.5,)), ("gamma", (0.7,)), ("gamma", (2.5,)),
              ("gamma", (1.0,)), ("chi2", (3.0,)), ("beta", (0.5, 2.5)), ("beta", (2.0, 3.0)),
              ("expon", ()), ("laplace", ()), ("logistic", ()), ("cauchy", ()), ("uniform", ()),
              ("lognorm", (0.8,)), ("vonmises", (2.0,))]
METHODS = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf")


@pytest.mark.parametrize("name,shapes", CONTINUOUS, ids=[f"{n}{s}" for n, s in CONTINUOUS])
@pytest.mark.parametrize("loc,scale", [(0.0, 1.0), (0.2, 1.7), (0.0, -1.0)])
def test_continuous_values_match_scipy(name, shapes, loc, scale):
    d, r = getattr(st, name), getattr(ss, name)
    for m in METHODS if name != "vonmises" else ("logpdf", "pdf"):
        arg = Q if m in ("ppf", "isf") else X
        np.testing.assert_allclose(np.asarray(getattr(d, m)(arg, *shapes, loc=loc, scale=scale)),
                                   getattr(r, m)(arg, *shapes, loc=loc, scale=scale),
                                   rtol=1e-12, atol=0, equal_nan=True, err_msg=m)


K = np.array([-1, 0, 1, 2.5, 3, 7, 10, 12, np.nan])
DISCRETE = [("poisson", (3.2,)), ("poisson", (0.0,)), ("binom", (10, 0.3)), ("binom", (10, 0.0)),
            ("binom", (10, 1.0)), ("nbinom", (4.5, 0.4)), ("nbinom", (4, 1.0))]


@pytest.mark.parametrize("name,shapes", DISCRETE, ids=[f"{n}{s}" for n, s in DISCRETE])
@pytest.mark.parametrize("loc", [0, 1])
def test_discrete_values_match_scipy(name, shapes, loc):
    d, r = getattr(st, name), getattr(ss, name)
    for m in ("logpmf", "pmf", "cdf", "logcdf", "sf", "logsf"):
        np.testing.assert_allclose(np.asarray(getattr(d, m)(K, *shapes, loc=loc)),
                                   getattr(r, m)(K, *shapes, loc=loc), rtol=1e-12, atol=0,
                                   equal_nan=True, err_msg=m)


# points inside the support, and the methods differentiable in every parameter
GRAD_CASES = [
    ("norm", (), ("logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf")),
    ("t", (3.5,), ("logpdf",)),
    ("gamma", (2.5,), ("logpdf",)), ("chi2", (3.0,), ("logpdf",)),
    ("beta", (2.0, 3.0), ("logpdf",)),
    ("expon", (), ("logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf")),
    ("laplace", (), ("logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf")),
    ("logistic", (), ("logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf")),
    ("cauchy", (), ("logpdf", "cdf", "sf", "ppf", "isf")),
    ("uniform", (), ("logpdf", "cdf", "sf", "ppf")),
    ("lognorm", (0.8,), ("logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf")),
    ("vonmises", (2.0,), ("logpdf",)),
]


@pytest.mark.parametrize("name,shapes,methods", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_continuous_derivatives_in_point_and_parameters(name, shapes, methods):
    d = getattr(st, name)
    x = np.array([0.3, 0.45, 0.8]) if name in ("beta", "uniform") else np.array([0.4, 1.1, 2.0])
    q = np.array([0.2, 0.45, 0.7])
    loc, scale = (0.05, 0.9) if name != "uniform" else (-0.1, 1.5)
    for m in methods:
        pt = q if m in ("ppf", "isf") else x
        def f(p, loc, scale, *s, m=m):
            return getattr(d, m)(p, *s, loc=loc, scale=scale)
        check_grads(f, (pt, np.full(3, loc), np.full(3, scale), *[np.full(3, s) for s in shapes]),
                    order=2, rng=np.random.default_rng(1))


def test_continuous_derivatives_in_point_only():
    """The methods whose shape derivative has no closed form: derivative in x, loc, scale."""
    x = np.array([0.4, 1.1, 2.0])
    for d, s in ((st.t, 3.5), (st.gamma, 2.5), (st.chi2, 3.0)):
        for m in ("cdf", "sf", "logcdf", "logsf"):
            check_grads(lambda x, loc, scale, m=m, d=d, s=s: getattr(d, m)(x, s, loc, scale),
                        (x, np.full(3, 0.1), np.full(3, 1.3)), order=2)
        check_grads(lambda q, d=d, s=s: d.ppf(q, s, loc=0.1, scale=1.3), (x / 3,), order=2)
    check_grads(lambda x: st.beta.cdf(x, 2.0, 3.0) + st.beta.ppf(x, 2.0, 3.0), (x / 3,))


@pytest.mark.parametrize("name,shapes", [("poisson", (3.2,)), ("binom", (10.0, 0.3)),
                                         ("nbinom", (4.5, 0.4))])
def test_discrete_derivatives_in_parameters(name, shapes):
    d = getattr(st, name)
    k = np.array([0.0, 2.0, 5.0])
    if name == "binom":    # n must be an integer (NaN elsewhere, as in SciPy): p only
        check_grads(lambda p: d.logpmf(k, 10.0, p), (np.full(3, 0.3),), order=2)
    else:
        check_grads(lambda *s: d.logpmf(k, *s), tuple(np.full(3, s) for s in shapes), order=2)
    # cdf and sf: differentiable in the last parameter (mu, p)
    for m in ("cdf", "sf", "logcdf", "logsf"):
        check_grads(lambda s, m=m: getattr(d, m)(k, *shapes[:-1], s), (np.full(3, shapes[-1]),),
                    order=2)


NONDIFF = [
    ("gamma.cdf", lambda a: st.gamma.cdf(1.3, a), r"gamma\.cdf.*'a'"),
    ("gamma.ppf", lambda a: st.gamma.ppf(0.3, a), r"gamma\.ppf.*'a'"),
    ("chi2.sf", lambda df: st.chi2.sf(1.3, df), r"chi2\.sf.*'df'"),
    ("t.cdf", lambda df: st.t.cdf(1.3, df), r"t\.cdf.*'df'"),
    ("beta.cdf", lambda a: st.beta.cdf(0.3, a, 2.0), r"beta\.cdf.*'a'"),
    ("binom.cdf", lambda n: st.binom.cdf(3, n, 0.4), r"binom\.cdf.*'n'"),
    ("nbinom.sf", lambda n: st.nbinom.sf(3, n, 0.4), r"nbinom\.sf.*'n'"),
]


@pytest.mark.parametrize("name,f,match", NONDIFF, ids=[n[0] for n in NONDIFF])
def test_no_closed_form_raises(name, f, match):
    with pytest.raises(fr.NonDifferentiableError, match=match):
        fr.grad(f)(7.0)


def test_multivariate_normal():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3))
    cov = a @ a.T + np.eye(3)
    m, x = rng.standard_normal(3), rng.standard_normal((5, 3))
    for args in [(x, m, cov), (x[0], m, cov), (x, m, np.diag(cov)), (x, None, 2 * np.eye(3)),
                 (x[:, 0], 1.0, 2.0), (0.3, 1.0, 2.0)]:
        np.testing.assert_allclose(st.multivariate_normal.logpdf(*args),
                                   ss.multivariate_normal.logpdf(*args), rtol=1e-12)
    np.testing.assert_allclose(st.multivariate_normal(m, cov).pdf(x),
                               ss.multivariate_normal(m, cov).pdf(x), rtol=1e-12)
    check_grads(lambda x, m, a: st.multivariate_normal.logpdf(x, m, a @ a.T + np.eye(3)),
                (x, m, a))
    with pytest.raises(fr.UnsupportedFunctionError, match="allow_singular"):
        st.multivariate_normal.logpdf(x, m, cov, allow_singular=True)


def test_dirichlet():
    alpha = np.array([1.0, 2.0, 3.0])
    x = np.random.default_rng(0).dirichlet(alpha, 4).T
    for pt in (x, x[:2], x[:, 0]):
        np.testing.assert_allclose(st.dirichlet.logpdf(pt, alpha), ss.dirichlet.logpdf(pt, alpha),
                                   rtol=1e-12)
    np.testing.assert_allclose(st.dirichlet(alpha).pdf(x), ss.dirichlet(alpha).pdf(x), rtol=1e-12)
    # the last component implied: perturbations stay on the simplex
    check_grads(lambda x, a: st.dirichlet.logpdf(x, a), (x[:2], alpha))
    with pytest.raises(ValueError, match="simplex"):
        st.dirichlet.logpdf(np.array([0.5, 0.6, 0.1]), alpha)


def test_frozen_and_keywords():
    np.testing.assert_allclose(st.norm(1.0, 2.0).logpdf(0.5), ss.norm(1.0, 2.0).logpdf(0.5),
                               rtol=1e-15)
    np.testing.assert_allclose(st.gamma(2.5, scale=2.0).cdf(1.3), ss.gamma.cdf(1.3, 2.5, scale=2),
                               rtol=1e-14)
    np.testing.assert_allclose(st.gamma.logpdf(1.3, a=2.5), ss.gamma.logpdf(1.3, a=2.5),
                               rtol=1e-15)
    np.testing.assert_allclose(st.binom(10, 0.3).pmf(3), ss.binom(10, 0.3).pmf(3), rtol=1e-13)
    with pytest.raises(TypeError, match="missing the shape parameter"):
        st.gamma.logpdf(1.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'b'"):
        st.gamma.logpdf(1.0, 2.0, b=3)
    assert repr(frechet.scipy.stats.norm) == "frechet.scipy.stats.norm"


def test_rvs_delegates_to_scipy():
    a = st.gamma.rvs(2.5, size=4, random_state=3)
    np.testing.assert_array_equal(a, ss.gamma.rvs(2.5, size=4, random_state=3))
    np.testing.assert_array_equal(st.poisson.rvs(3.0, size=3, random_state=1),
                                  ss.poisson.rvs(3.0, size=3, random_state=1))


def test_jit_and_vmap():
    def nll(mu, sigma, x):
        return -np.sum(st.norm.logpdf(x, mu, sigma) + st.gamma.logpdf(sigma, 2.0)
                       + st.poisson.logpmf(np.array([1.0, 3.0, 4.0]), np.exp(mu)))
    x = np.array([0.3, 1.2, -0.5])
    g = fr.grad(nll, argnums=(0, 1))
    jg = fr.jit(g)
    for args in ((0.2, 1.3, x), (0.5, 0.7, 2 * x)):      # the second: fresh arguments
        for a, b in zip(jg(*args), g(*args)):
            np.testing.assert_allclose(a, b, rtol=1e-13)
    mus = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(fr.vmap(lambda m: st.norm.cdf(x, m, 1.5))(mus),
                               ss.norm.cdf(x[None], mus[:, None], 1.5), rtol=1e-13)
    np.testing.assert_allclose(fr.vmap(fr.grad(lambda s: st.t.logpdf(0.7, s)))(mus + 2),
                               [fr.grad(lambda s: st.t.logpdf(0.7, s))(s) for s in mus + 2],
                               rtol=1e-13)
