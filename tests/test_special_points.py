"""Derivatives at and near removable singularities and special points, to order 4, against
mpmath: nested grad (reverse over reverse), Taylor mode (frechet.derivatives), and jit(grad).

A rule written as select(x == 0, limit, formula) is wrong at every order above the first at
x = 0 (the constant has no derivatives) and cancels catastrophically near 0. The rules tested
here use identities without cancellation (Bessel functions), series near the special point
(sinc), powers instead of exp(c log x) (densities), or the derivative itself at the point
(xlogy). Tolerance: rtol 1e-11 everywhere (the worst relative error seen is 3e-14, in the
fourth derivatives of sinc and i1e, where the closed formula's terms cancel by ~100x; the
margin covers other libms), plus an absolute 1e-40 (1e-300 within 1e-20 of 0) for
derivatives that are exactly 0, where the reference is mpmath's difference noise.
"""

import math

import numpy as np
import pytest
import scipy.special as sps

import frechet
import frechet.scipy.stats as fst

mp = pytest.importorskip("mpmath")

RTOL = 1e-11
NEAR = [0.0, 1e-300, 1e-12, 1e-8, 1e-4, -1e-300, -1e-12, -1e-8, -1e-4]
AWAY = [0.5, 3.0, -0.5, -3.0]


def _e_scaled(nu):
    """exp(-|x|) I_nu(x), smooth on each side of 0: the side of the evaluation point."""
    def ref(x, side):
        return mp.exp(-side * x) * mp.besseli(nu, x)
    return ref


# name: (function, mpmath reference (x, side of the point) -> value, points)
CASES = {
    "sinc": (np.sinc, lambda x, s: mp.sincpi(x),
             NEAR + AWAY + [1 / math.pi, 1 / math.pi * (1 - 1e-12), 1 / math.pi * (1 + 1e-12)]),
    "i0": (sps.i0, lambda x, s: mp.besseli(0, x), NEAR + AWAY),
    "i1": (sps.i1, lambda x, s: mp.besseli(1, x), NEAR + AWAY),
    # i0e, i1e and ive have a kink at 0 (exp(-|x|)): every point but 0 itself
    "i0e": (sps.i0e, _e_scaled(0), NEAR[1:] + AWAY),
    "i1e": (sps.i1e, _e_scaled(1), NEAR[1:] + AWAY),
    "ive2": (lambda x: sps.ive(2.0, x), _e_scaled(2), NEAR[1:] + AWAY),
    # xlogy and xlog1py at x = 0, along curves that move y too (mixed derivatives)
    "xlogy": (lambda p: sps.xlogy(p, 0.5 + 2 * p), lambda p, s: p * mp.log(0.5 + 2 * p),
              NEAR + AWAY[:2]),
    "xlogy_const_y": (lambda p: sps.xlogy(p, 0.2), lambda p, s: p * mp.log(mp.mpf("0.2")),
                      NEAR + AWAY),
    "xlog1py": (lambda p: sps.xlog1py(p, 3 * p), lambda p, s: p * mp.log1p(3 * p),
                NEAR + AWAY[:2]),
    "xlog1py_const_y": (lambda p: sps.xlog1py(p, 0.2), lambda p, s: p * mp.log1p(mp.mpf("0.2")),
                        NEAR + AWAY),
    # x log x near 0 (at 0 itself NaN: test_entropies_at_zero)
    "entr": (sps.entr, lambda x, s: -x * mp.log(x), [1e-100, 1e-12, 1e-8, 1e-4, 0.5, 3.0]),
    "rel_entr": (lambda x: sps.rel_entr(x, 0.5), lambda x, s: x * mp.log(2 * x),
                 [1e-100, 1e-12, 1e-8, 1e-4, 0.5, 3.0]),
    "kl_div": (lambda x: sps.kl_div(x, 0.5), lambda x, s: x * mp.log(2 * x) - x + 0.5,
               [1e-100, 1e-12, 1e-8, 1e-4, 0.5, 3.0]),
    # densities x^(a-1) (1-x)^(b-1) at the ends, where exp((a-1) log x) had no derivatives
    "gammainc2": (lambda x: sps.gammainc(2.0, x), lambda x, s: 1 - (1 + x) * mp.exp(-x),
                  NEAR[:5] + [0.5, 2.5]),
    # where the density switches from a power of x to logs (x = 1)
    "gammainc3": (lambda x: sps.gammainc(3.0, x),
                  lambda x, s: 1 - (1 + x + x * x / 2) * mp.exp(-x),
                  NEAR[:5] + [0.5, 1 - 1e-12, 1.0, 1 + 1e-12, 3.5]),
    "betainc": (lambda x: sps.betainc(2.0, 3.0, x), lambda x, s: 6 * x**2 - 8 * x**3 + 3 * x**4,
                NEAR[:5] + [0.25, 0.5 - 1e-12, 0.5, 0.75]),
    "betainc_at_1": (lambda x: sps.betainc(3.0, 2.0, x), lambda x, s: 4 * x**3 - 3 * x**4,
                     [1.0, 1 - 1e-12, 1 - 1e-8, 1 - 1e-4, 0.75, 0.5 + 1e-12]),
    "power": (lambda x: x ** 3.0 + np.power(x, 2.0), lambda x, s: x**3 + x**2, NEAR + AWAY),
    # densities and masses at the ends of the support or of a parameter's range, where
    # exp(logpdf) had derivative 0 at every order
    "gamma_pdf": (lambda x: fst.gamma.pdf(x, 2.0), lambda x, s: x * mp.exp(-x),
                  NEAR[:5] + [0.5, 1.0, 2.5]),
    "chi2_pdf": (lambda x: fst.chi2.pdf(x, 6.0), lambda x, s: x * x * mp.exp(-x / 2) / 16,
                 NEAR[:5] + [0.5, 3.0]),
    "beta_pdf": (lambda x: fst.beta.pdf(x, 2.0, 3.0), lambda x, s: 12 * x * (1 - x)**2,
                 NEAR[:5] + [0.5, 1 - 1e-8, 1.0]),
    "poisson_pmf_in_mu": (lambda m: fst.poisson.pmf(2, m), lambda m, s: m * m * mp.exp(-m) / 2,
                          NEAR[:5] + [0.5, 3.0]),
    "binom_pmf_in_p": (lambda p: fst.binom.pmf(1, 3, p), lambda p, s: 3 * p * (1 - p)**2,
                       NEAR[:5] + [0.5, 1 - 1e-8, 1.0]),
    "nbinom_pmf_in_p": (lambda p: fst.nbinom.pmf(2, 3, p),
                        lambda p, s: 6 * p**3 * (1 - p)**2, [1.0, 1 - 1e-8, 0.5]),
}


def _reference(case, x, n):
    """The n-th derivative by mpmath's high-precision differences, whose noise is below
    10^-(dps + 10) or so: 40 digits, or 340 near 0, where derivatives are as small as x."""
    _, ref, _ = CASES[case]
    side = 1 if x >= 0 else -1
    with mp.workdps(40 if abs(x) > 1e-20 else 340):
        return float(mp.diff(lambda t: ref(t, side), mp.mpf(x), n))


def _nested(f, n):
    for _ in range(n):
        f = frechet.grad(f)
    return f


def _check(got, want, what, x):
    got = float(got)
    tol = RTOL * abs(want) + (1e-300 if abs(x) <= 1e-20 else 1e-40)   # the reference's noise
    assert abs(got - want) <= tol, f"{what}: got {got!r}, want {want!r}"


POINTS = [(case, x) for case, (_, _, xs) in CASES.items() for x in xs]


@pytest.mark.parametrize(("case", "x"), POINTS)
def test_nested_grad_and_taylor_mode(case, x):
    f = CASES[case][0]
    taylor = frechet.derivatives(f, x, 4)
    for n in range(1, 5):
        want = _reference(case, x, n)
        _check(_nested(f, n)(x), want, f"{case}: grad^{n} at {x}", x)
        _check(taylor[n], want, f"{case}: derivatives(..., 4)[{n}] at {x}", x)


@pytest.mark.parametrize("case", list(CASES))
def test_jit_of_grad(case):
    """The rules survive staging and code generation: one compiled function per order, called
    on every point (fresh arguments, not only the ones it was traced with)."""
    f, _, xs = CASES[case]
    for n in (1, 2, 4):
        compiled = frechet.jit(_nested(f, n))
        for x in xs:
            _check(compiled(x), _reference(case, x, n), f"{case}: jit(grad^{n}) at {x}", x)


def test_reported_values():
    """The figures of the issue: xlogy's x-derivative at x = 0 was 0, sinc's second derivative
    at 0 was 0 (and -6.28 at 1e-8), i1's third at 0 was 0."""
    assert frechet.grad(lambda p: sps.xlogy(p, 0.2))(0.0) == pytest.approx(math.log(0.2),
                                                                            rel=1e-15)
    assert frechet.grad(lambda p: sps.xlog1py(p, 0.2))(0.0) == pytest.approx(math.log1p(0.2),
                                                                              rel=1e-15)
    for x in (0.0, 1e-8):
        assert frechet.hessian(np.sinc)(x) == pytest.approx(-math.pi**2 / 3, rel=1e-12)
        assert _nested(sps.i1, 3)(x) == pytest.approx(0.375, rel=1e-12)


def test_xlogy_at_the_pole_of_log():
    """At y = 0: d/dx xlogy(x, 0) = log(0) = -inf (as JAX); the y-derivative is NaN there (JAX:
    NaN too), and so is every higher one (never a 0 read from a constant fill)."""
    assert frechet.grad(lambda p: sps.xlogy(p, 0.0))(0.0) == -math.inf
    assert frechet.grad(lambda p: sps.xlog1py(p, -1.0))(0.0) == -math.inf
    for n in (1, 2, 3):
        assert math.isnan(_nested(lambda q: sps.xlogy(0.0, q), n)(0.0))
        assert math.isnan(_nested(lambda q: sps.xlog1py(0.0, q), n)(-1.0))
    # away from y = 0 the y-derivatives at x = 0 are exactly 0 (xlogy(0, y) = 0 for every y)
    for n in (1, 2, 3):
        assert _nested(lambda q: sps.xlogy(0.0, q), n)(0.5) == 0.0


def test_entropies_at_zero():
    """entr, rel_entr and kl_div at x = 0: the x-derivative is +-inf one-sided and the function
    is not defined to the left: NaN at every order, where the constant 0 gave 0 from order 1
    (entr) or 2 (rel_entr, kl_div)."""
    fns = [sps.entr, lambda x: sps.rel_entr(x, 0.5), lambda x: sps.kl_div(x, 0.5)]
    for f in fns:
        for n in (1, 2, 3):
            assert math.isnan(_nested(f, n)(0.0))
            assert math.isnan(frechet.jit(_nested(f, n))(0.0))
    assert math.copysign(1.0, frechet.jit(sps.entr)(0.0)) == 1.0      # scipy's +0.0


def test_xlogy_hessian_reverse_mode_stays_finite():
    """Reverse mode sends a zero cotangent into the branch a select does not use; the NaN
    fill must not turn it into NaN."""
    h = frechet.hessian(lambda v: sps.xlogy(v[0], v[1]))(np.array([0.0, 0.2]))
    np.testing.assert_allclose(h, [[0.0, 5.0], [5.0, 0.0]], rtol=1e-14)
    h = frechet.hessian(lambda v: sps.xlog1py(v[0], v[1]))(np.array([0.0, 0.25]))
    np.testing.assert_allclose(h, [[0.0, 0.8], [0.8, 0.0]], rtol=1e-14)


def test_dirichlet_pdf_at_the_boundary():
    """dirichlet.pdf(x, [2, 1, 3]) = x0 x2^2 / B: its gradient at x0 = 0 is (x2^2, 0, 2 x0 x2)
    / B, where exp(logpdf) gave 0."""
    alpha = np.array([2.0, 1.0, 3.0])
    inv_b = math.exp(math.lgamma(6.0) - math.lgamma(2.0) - math.lgamma(3.0))
    x = np.array([0.0, 0.4, 0.6])
    g = frechet.grad(lambda x: fst.dirichlet.pdf(x, alpha))(x)
    np.testing.assert_allclose(g, [0.36 * inv_b, 0.0, 0.0], rtol=1e-13)
    h = frechet.hessian(lambda x: fst.dirichlet.pdf(x, alpha))(x)
    np.testing.assert_allclose(h[0], [0.0, 0.0, 1.2 * inv_b], rtol=1e-13)


def test_sinc_values_match_numpy():
    x = np.concatenate([np.linspace(-1, 1, 201), [0.0, 1e-300, 1 / np.pi, -1 / np.pi, 5.5]])
    np.testing.assert_allclose(frechet.jit(np.sinc)(x), np.sinc(x), rtol=4e-16, atol=0)


def test_power_taylor_mode_at_zero():
    """Taylor mode through x**p at x = 0 when p is not a known integer (it has a series, or is
    traced by jit): it used y' = p (y / x) x' or exp(p log x), NaN at 0."""
    ds = frechet.derivatives(lambda x: x ** (2.0 + 0.0 * x), 0.0, 4)
    np.testing.assert_allclose(ds, [0.0, 0.0, 2.0, 0.0, 0.0], atol=1e-300)
    staged = frechet.jit(lambda x, p: frechet.derivatives(lambda t: t ** p, x, 4))
    for x, want in ((0.0, [0.0, 0.0, 2.0, 0.0, 0.0]), (0.5, [0.25, 1.0, 2.0, 0.0, 0.0])):
        ds = staged(x, 2.0)
        np.testing.assert_allclose(ds, want, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("x", [-800.0, -40.0, 0.0, 3.0, 40.0, 100.0, 700.0])
def test_expit_derivatives_in_the_tails(x):
    """expit' was ans (1 - ans): exactly 0 for x > 37, where it is about e^-x."""
    for n in (1, 2, 3):
        with mp.workdps(400):
            want = float(mp.diff(lambda t: 1 / (1 + mp.exp(-t)), mp.mpf(x), n))
        _check(_nested(sps.expit, n)(x), want, f"expit: grad^{n} at {x}", 0.0)  # atol 1e-300


def test_jet_at_zero():
    """frechet.jet (jax.experimental.jet's conventions) at the special points themselves."""
    one = ([1.0, 0.0, 0.0, 0.0],)
    _, ws = frechet.jet(np.sinc, (0.0,), one)
    np.testing.assert_allclose(ws, [0.0, -math.pi**2 / 3, 0.0, math.pi**4 / 5], rtol=1e-13,
                               atol=1e-300)
    _, ws = frechet.jet(sps.i1, (0.0,), one)
    np.testing.assert_allclose(ws, [0.5, 0.0, 0.375, 0.0], rtol=1e-13, atol=1e-300)
    _, ws = frechet.jet(lambda p: sps.xlogy(p, 0.5 + 2 * p), (0.0,), one)
    np.testing.assert_allclose(ws, [math.log(0.5), 8.0, -48.0, 512.0], rtol=1e-13)
