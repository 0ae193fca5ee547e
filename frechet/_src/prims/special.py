"""Special functions from scipy.special (they are ufuncs, so they run on any float dtype)."""

from __future__ import annotations

import math

import numpy as np
import scipy.special as _scipy_special
from scipy.special import _ufuncs

from frechet._src.core.backend import defbackend
from frechet._src.core.primitive import primitive
from frechet._src.errors import NonDifferentiableError
from frechet._src.interpreters.enclosure import arithmetic as E
from frechet._src.interpreters.enclosure import interval as iv
from frechet._src.interpreters.enclosure import rules as enc
from frechet._src.prims import special_torch
from frechet._src.prims.elementwise import (
    UFUNC_PRIMS,
    add,
    bind,
    const,
    div,
    mul,
    neg,
    select,
    square,
    sub,
    ufunc_primitive,
)
from frechet._src.prims.rules import defjvp_output, defjvp_scale, defvectorized


class _Ufuncs:
    """scipy.special's ufuncs themselves. With SCIPY_ARRAY_API=1 SciPy exports Python wrappers
    that dispatch on the array type instead; each keeps its ufunc as `__wrapped__`."""

    def __getattr__(self, name):
        f = getattr(_scipy_special, name)
        while not isinstance(f, np.ufunc) and hasattr(f, "__wrapped__"):
            f = f.__wrapped__
        return f


sp = _Ufuncs()

erf_p = ufunc_primitive(sp.erf, "erf")
erfc_p = ufunc_primitive(sp.erfc, "erfc")
erfinv_p = ufunc_primitive(sp.erfinv, "erfinv")
gammaln_p = ufunc_primitive(sp.gammaln, "gammaln")
digamma_p = ufunc_primitive(sp.psi, "digamma")
expit_p = ufunc_primitive(sp.expit, "expit")
logit_p = ufunc_primitive(sp.logit, "logit")
polygamma_p = primitive("polygamma", lambda x, *, n: sp.polygamma(n, x), lambda x, *, n: x)
defvectorized(polygamma_p)

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _gauss(x):
    return mul(const(x, _TWO_OVER_SQRT_PI), bind("exp", neg(square(x))))


defjvp_scale(erf_p, lambda x, ans: _gauss(x))
defjvp_scale(erfc_p, lambda x, ans: neg(_gauss(x)))
defjvp_output(erfinv_p, lambda t, ans, x: mul(t, mul(const(x, 1 / _TWO_OVER_SQRT_PI),
                                                     bind("exp", square(ans)))))
defjvp_scale(gammaln_p, lambda x, ans: digamma_p.bind(x))
defjvp_scale(digamma_p, lambda x, ans: polygamma_p.bind(x, n=1))
defjvp_output(polygamma_p, lambda t, ans, x, *, n: mul(t, polygamma_p.bind(x, n=n + 1)))
# expit(x) expit(-x), not ans (1 - ans): 1 - ans is 0 for x > 37, where the derivative is e^-x
defjvp_scale(expit_p, lambda x, ans: mul(ans, expit_p.bind(neg(x))))
defjvp_output(logit_p, lambda t, ans, x: div(t, mul(x, sub(const(x, 1), x))))
# enclosures (frechet.bounds): sharp one-dimensional ones of erf and expit; erfc = 1 - erf
erf_p.enclosure, expit_p.enclosure = enc.unary("erf"), enc.unary("expit")
erfc_p.enclosure = lambda args, reg: enc.one_plus(E.neg(enc.compose("erf", args[0], reg)), reg)

SPECIAL_UFUNCS = {sp.erf: erf_p, sp.erfc: erfc_p, sp.erfinv: erfinv_p, sp.gammaln: gammaln_p,
                  sp.psi: digamma_p, sp.expit: expit_p, sp.logit: logit_p}


i0_p = ufunc_primitive(sp.i0, "i0")
i1_p = ufunc_primitive(sp.i1, "i1")
defjvp_scale(i0_p, lambda x, ans: i1_p.bind(x))


def _i1_deriv(x, ans):
    # i1' = (i0 + I_2) / 2 (DLMF 10.29.1), not i0 - i1/x: that form needs a value at x = 0 and
    # cancels near it, and so do all its derivatives. This one is exact at every order, since
    # iv's rule (below) is the same recurrence.
    return mul(const(x, 0.5), add(i0_p.bind(x), iv_p.bind(const(x, 2.0), x)))


defjvp_scale(i1_p, _i1_deriv)
SPECIAL_UFUNCS.update({sp.i0: i0_p, sp.i1: i1_p})


# Gamma and beta functions, the normal distribution, scaled Bessel functions ---------------------
# Every argument either has a closed-form derivative or raises NonDifferentiableError naming the
# SciPy function and the argument (the order of a Bessel function, the parameters of an
# incomplete gamma or beta function): never a silent zero.

def no_closed_form(fname: str, arg: str):
    """A JVP contribution that refuses: scipy.special.`fname` has no closed-form derivative in
    its argument `arg`."""
    def refuse(t, ans, *args, **params):
        raise NonDifferentiableError(
            f"scipy.special.{fname} has no closed-form derivative in its argument {arg!r}, and "
            f"a derivative with respect to {arg!r} was asked for: keep {arg!r} constant "
            "(frechet.stop_gradient), or supply a derivative with frechet.custom_jvp")
    return refuse


_SQRT_2PI = math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_LOG_SQRT_2PI = math.log(_SQRT_2PI)


def _cmp(name, x, value):
    return bind(name, x, const(x, value))


def _safe(pred, x, fill):
    """x where pred holds, `fill` elsewhere (so a rule never evaluates a function outside its
    domain: the unused branch of a select is computed too, and would warn)."""
    return select(pred, x, const(x, fill))


def _c_log(c, y):
    """c * log(y) with 0 * log(y) = 0 and log(y <= 0) = -inf, without warnings."""
    pos = _cmp("greater", y, 0)
    log_y = select(pos, bind("log", _safe(pos, y, 1.0)), const(y, -math.inf))
    c_zero = _cmp("equal", c, 0)
    return mul(c, select(c_zero, const(y, 0.0), log_y))


gamma_p = ufunc_primitive(sp.gamma, "gamma")
loggamma_p = ufunc_primitive(sp.loggamma, "loggamma")
beta_p = ufunc_primitive(sp.beta, "beta")
betaln_p = ufunc_primitive(sp.betaln, "betaln")
defjvp_scale(gamma_p, lambda x, ans: mul(ans, digamma_p.bind(x)))
defjvp_scale(loggamma_p, lambda x, ans: digamma_p.bind(x))


def _dlogbeta(a, b):
    """d log B(a, b) / da = digamma(a) - digamma(a + b)."""
    return sub(digamma_p.bind(a), digamma_p.bind(add(a, b)))


defjvp_output(beta_p, lambda t, ans, a, b: mul(t, mul(ans, _dlogbeta(a, b))),
              lambda t, ans, a, b: mul(t, mul(ans, _dlogbeta(b, a))))
defjvp_output(betaln_p, lambda t, ans, a, b: mul(t, _dlogbeta(a, b)),
              lambda t, ans, a, b: mul(t, _dlogbeta(b, a)))

gammainc_p = ufunc_primitive(sp.gammainc, "gammainc")
gammaincc_p = ufunc_primitive(sp.gammaincc, "gammaincc")
betainc_p = ufunc_primitive(sp.betainc, "betainc")


def _power_times_exp(c, z, rest, near, fill):
    """z^c exp(rest) where `near` (z >= 0 small, c >= 0, rest not overflowing): as a power, which
    is exact with every derivative at z = 0 (z^1 has derivative 1 there; exp(c log z), taken
    as 0 at z = 0, has derivative 0 at every order). The unused entries see z = `fill`."""
    return mul(bind("power", _safe(near, z, fill), c), bind("exp", _safe(near, rest, 0.0)))


def _below(v, bound):
    return _cmp("less", v, bound)


def _gamma_density(a, x):
    """x^(a-1) e^(-x) / Gamma(a), the x-derivative of gammainc(a, x): a power of x for
    0 <= x < 1 and a >= 1 (right at x = 0 at every order), else through logs (no overflow)."""
    one = const(a, 1.0)
    c = sub(a, one)
    near = bind("logical_and", bind("logical_and", _cmp("greater_equal", x, 0), _below(x, 1)),
                _cmp("greater_equal", c, 0))
    far = bind("logical_not", near)
    xl = _safe(far, x, 2.0)        # where a power is used, logs see x = 2 (no 1/x overflow)
    log_form = bind("exp", sub(sub(_c_log(c, xl), xl), gammaln_p.bind(a)))
    xs = _safe(near, x, 0.5)
    return select(near, _power_times_exp(c, xs, sub(neg(xs), gammaln_p.bind(a)), near, 0.5),
                  log_form)


def _beta_density(a, b, x):
    """x^(a-1) (1-x)^(b-1) / B(a, b), the x-derivative of betainc(a, b, x): a power of x near
    x = 0 (a >= 1), of 1 - x near x = 1 (b >= 1), so the derivatives are right at both ends;
    else, or where the power form would overflow, through logs."""
    one = const(a, 1.0)
    ca, cb, log_b = sub(a, one), sub(b, one), betaln_p.bind(a, b)
    left = bind("logical_and", _cmp("greater_equal", x, 0), _below(x, 0.5))
    right = bind("logical_and", _cmp("greater_equal", x, 0.5), _cmp("less_equal", x, 1))
    x0, x1 = _safe(left, x, 0.25), _safe(right, x, 0.75)
    rest0 = sub(_c_log(cb, sub(one, x0)), log_b)      # finite: 1 - x0 > 1/2
    rest1 = sub(_c_log(ca, x1), log_b)                # finite: x1 >= 1/2
    near0 = bind("logical_and", bind("logical_and", left, _cmp("greater_equal", ca, 0)),
                 _below(rest0, 700.0))
    near1 = bind("logical_and", bind("logical_and", right, _cmp("greater_equal", cb, 0)),
                 _below(rest1, 700.0))
    at0 = _power_times_exp(ca, x0, rest0, near0, 0.25)
    at1 = _power_times_exp(cb, sub(one, x1), rest1, near1, 0.25)
    far = bind("logical_not", bind("logical_or", near0, near1))
    xl = _safe(far, x, 0.5)         # where a power is used, logs see x = 1/2
    log_form = bind("exp", sub(add(_c_log(ca, xl), _c_log(cb, sub(one, xl))), log_b))
    return select(near0, at0, select(near1, at1, log_form))


defjvp_output(gammainc_p, no_closed_form("gammainc", "a"),
              lambda t, ans, a, x: mul(t, _gamma_density(a, x)))
defjvp_output(gammaincc_p, no_closed_form("gammaincc", "a"),
              lambda t, ans, a, x: neg(mul(t, _gamma_density(a, x))))
defjvp_output(betainc_p, no_closed_form("betainc", "a"), no_closed_form("betainc", "b"),
              lambda t, ans, a, b, x: mul(t, _beta_density(a, b, x)))

ndtr_p = ufunc_primitive(sp.ndtr, "ndtr")
log_ndtr_p = ufunc_primitive(sp.log_ndtr, "log_ndtr")
ndtri_p = ufunc_primitive(sp.ndtri, "ndtri")
log_expit_p = ufunc_primitive(sp.log_expit, "log_expit")
erfcx_p = ufunc_primitive(sp.erfcx, "erfcx")


def _normal_density(x):
    return mul(const(x, 1 / _SQRT_2PI), bind("exp", mul(const(x, -0.5), square(x))))


defjvp_scale(ndtr_p, lambda x, ans: _normal_density(x))
# phi(x) / Phi(x) = sqrt(2/pi) / erfcx(-x/sqrt(2)): no cancellation far in the lower tail
defjvp_scale(log_ndtr_p, lambda x, ans: div(const(x, _SQRT_2_OVER_PI),
                                            erfcx_p.bind(mul(x, const(x, -math.sqrt(0.5))))))
defjvp_scale(ndtri_p, lambda x, ans: mul(const(x, _SQRT_2PI),
                                         bind("exp", mul(const(x, 0.5), square(ans)))))
defjvp_scale(log_expit_p, lambda x, ans: expit_p.bind(neg(x)))
defjvp_scale(erfcx_p, lambda x, ans: sub(mul(const(x, 2.0), mul(x, ans)),
                                         const(x, _TWO_OVER_SQRT_PI)))

i0e_p = ufunc_primitive(sp.i0e, "i0e")
i1e_p = ufunc_primitive(sp.i1e, "i1e")
# i0e = exp(-|x|) i0(x), i1e = exp(-|x|) i1(x)
defjvp_scale(i0e_p, lambda x, ans: sub(i1e_p.bind(x), mul(bind("sign", x), ans)))


def _i1e_deriv(x, ans):
    # i1e' = (i0e + ive(2, x)) / 2 - sign(x) i1e: as i1's rule, no cancellation near 0.
    half_sum = mul(const(x, 0.5), add(i0e_p.bind(x), ive_p.bind(const(x, 2.0), x)))
    return sub(half_sum, mul(bind("sign", x), ans))


defjvp_scale(i1e_p, _i1e_deriv)

iv_p = ufunc_primitive(sp.iv, "iv")
kv_p = ufunc_primitive(sp.kv, "kv")


def _bessel_neighbours(prim, v, x):
    one = const(v, 1.0)
    return add(prim.bind(sub(v, one), x), prim.bind(add(v, one), x))


# iv' = (iv(v-1) + iv(v+1)) / 2, kv' = -(kv(v-1) + kv(v+1)) / 2 (DLMF 10.29.1)
defjvp_output(iv_p, no_closed_form("iv", "v"),
              lambda t, ans, v, x: mul(t, mul(const(x, 0.5), _bessel_neighbours(iv_p, v, x))))
defjvp_output(kv_p, no_closed_form("kv", "v"),
              lambda t, ans, v, x: mul(t, mul(const(x, -0.5), _bessel_neighbours(kv_p, v, x))))

ive_p = ufunc_primitive(sp.ive, "ive")
# ive = exp(-|x|) iv: ive' = (ive(v-1) + ive(v+1)) / 2 - sign(x) ive
defjvp_output(ive_p, no_closed_form("ive", "v"),
              lambda t, ans, v, x: mul(t, sub(mul(const(x, 0.5), _bessel_neighbours(ive_p, v, x)),
                                              mul(bind("sign", x), ans))))


def _zeta_impl(x, q):
    # Note: scipy.special.zeta(x, 1.0) is NaN for x < 1, where zeta(x) (Riemann's, which is
    # Hurwitz's at q = 1) is finite; frechet computes Riemann's zeta wherever q == 1.
    out = _ufuncs._zeta(x, q)
    at_one = q == 1
    if np.any(at_one):
        out = np.where(at_one, _ufuncs._riemann_zeta(x), out)
    return out


zeta_p = primitive("zeta", _zeta_impl, lambda x, q: x)
defvectorized(zeta_p)
UFUNC_PRIMS[_ufuncs._zeta] = zeta_p    # scipy.special.zeta(x, q) calls this ufunc
# d/dq zeta(x, q) = -x zeta(x + 1, q)
defjvp_output(zeta_p, no_closed_form("zeta", "x"),
              lambda t, ans, x, q: neg(mul(t, mul(x, zeta_p.bind(add(x, const(x, 1.0)), q)))))

xlogy_p = ufunc_primitive(sp.xlogy, "xlogy")
xlog1py_p = ufunc_primitive(sp.xlog1py, "xlog1py")


def _nan_where(bad, like):
    """NaN where `bad`, 0 elsewhere, with derivatives (through `like`) NaN where `bad` and 0
    elsewhere at every order: the value of a rule where the function has no derivative, so
    that no higher derivative reads a zero from a constant fill. (k tanh(like): tanh has
    derivatives of every order, where a linear function's second is a structural zero.) Its
    weight k is 0, not NaN, where it is not used, so reverse mode (which sends a zero cotangent
    there) stays finite."""
    k = select(bad, const(like, math.nan), const(like, 0.0))
    return mul(k, bind("tanh", like))


def _x_over(x, z):
    """x / z for z != 0 (exactly 0 at x == 0, with its derivatives); NaN at every order at
    z == 0, where log has its pole."""
    nonzero = _cmp("not_equal", z, 0)
    return select(nonzero, div(x, _safe(nonzero, z, 1.0)),
                  _nan_where(bind("logical_not", nonzero), add(x, z)))


# xlogy(x, y) = x log y, with xlogy(0, y) = 0. Note: the x-derivative is log(y) at every x,
# x = 0 included (not 0 there), computed as xlogy(1, y): -inf at y = 0 (the one-sided limit;
# JAX gives the same) and NaN for y < 0, without warnings. The y-derivative x / y is 0 at
# x = 0, y != 0, and NaN at y = 0 (JAX: NaN too); from there every higher derivative is NaN,
# never a zero read from a constant fill. xlog1py likewise, with 1 + y for y.
defjvp_output(xlogy_p, lambda t, ans, x, y: mul(t, xlogy_p.bind(const(x, 1.0), y)),
              lambda t, ans, x, y: mul(t, _x_over(x, y)))
defjvp_output(xlog1py_p, lambda t, ans, x, y: mul(t, xlog1py_p.bind(const(x, 1.0), y)),
              lambda t, ans, x, y: mul(t, _x_over(x, add(y, const(y, 1.0)))))


def _xlog_enclosure(shift):
    """The enclosure rule of xlogy (shift 0) and xlog1py (shift 1): x log(shift + y), with 0
    wherever x is a constant 0 (scipy's xlogy(0, y) = 0)."""
    def rule(args, reg):
        x, y = args
        if not isinstance(y, enc.Enc):
            with np.errstate(divide="ignore", invalid="ignore"):
                log_y = np.log(shift + np.asarray(y, dtype=np.float64))
            return E.scale(enc.terms_of(x, reg), (iv.down(log_y), iv.up(log_y)))
        if not isinstance(x, enc.Enc) and not np.any(np.asarray(x)):
            return E.constant(np.zeros(np.broadcast_shapes(np.shape(x),
                                                           E.value_shape(y.terms))), reg)
        log_y = enc.compose("log", enc.shifted(y, reg) if shift else y, reg)
        return enc.mul(x, enc.Enc(log_y), reg)
    return rule


xlogy_p.enclosure, xlog1py_p.enclosure = _xlog_enclosure(0.0), _xlog_enclosure(1.0)
rel_entr_p = ufunc_primitive(sp.rel_entr, "rel_entr")
kl_div_p = ufunc_primitive(sp.kl_div, "kl_div")


def _entropy_parts(x, y):
    """Where both are positive; x/y there (safely); where y > 0 and x >= 0."""
    both = bind("logical_and", _cmp("greater", x, 0), _cmp("greater", y, 0))
    ratio = div(_safe(both, x, 1.0), _safe(both, y, 1.0))
    y_ok = bind("logical_and", _cmp("greater_equal", x, 0), _cmp("greater", y, 0))
    return both, ratio, y_ok, div(x, _safe(y_ok, y, 1.0))


def _nan_outside(ok, value, x, y):
    """value where ok; NaN elsewhere, and NaN at every higher order too (_nan_where)."""
    return select(ok, value, _nan_where(bind("logical_not", ok), add(x, y)))


# Note: at x = 0 the derivative in x is -inf from the right (not differentiable): NaN there,
# at every order.
def _rel_entr_dx(t, ans, x, y, *, shift):
    both, ratio, _, _ = _entropy_parts(x, y)
    return mul(t, _nan_outside(both, add(bind("log", ratio), const(x, shift)), x, y))


def _entr_dy(t, ans, x, y, *, shift):
    _, _, y_ok, x_over_y = _entropy_parts(x, y)
    return mul(t, _nan_outside(y_ok, sub(const(x, shift), x_over_y), x, y))


defjvp_output(rel_entr_p, lambda *a: _rel_entr_dx(*a, shift=1.0),
              lambda *a: _entr_dy(*a, shift=0.0))
defjvp_output(kl_div_p, lambda *a: _rel_entr_dx(*a, shift=0.0),
              lambda *a: _entr_dy(*a, shift=1.0))
SPECIAL_UFUNCS.update({sp.gamma: gamma_p, sp.loggamma: loggamma_p, sp.beta: beta_p,
                       sp.betaln: betaln_p, sp.gammainc: gammainc_p, sp.gammaincc: gammaincc_p,
                       sp.betainc: betainc_p, sp.ndtr: ndtr_p, sp.log_ndtr: log_ndtr_p,
                       sp.ndtri: ndtri_p, sp.log_expit: log_expit_p, sp.erfcx: erfcx_p,
                       sp.i0e: i0e_p, sp.i1e: i1e_p, sp.iv: iv_p, sp.kv: kv_p, sp.ive: ive_p,
                       _ufuncs._zeta: zeta_p, sp.rel_entr: rel_entr_p, sp.kl_div: kl_div_p,
                       sp.xlogy: xlogy_p, sp.xlog1py: xlog1py_p})


# Inverses and Student's t (for the distributions of frechet.scipy.stats) -----------------------
gammaincinv_p = ufunc_primitive(sp.gammaincinv, "gammaincinv")
gammainccinv_p = ufunc_primitive(sp.gammainccinv, "gammainccinv")
betaincinv_p = ufunc_primitive(sp.betaincinv, "betaincinv")
stdtr_p = ufunc_primitive(sp.stdtr, "stdtr")
stdtrit_p = ufunc_primitive(sp.stdtrit, "stdtrit")

# the inverse function's derivative is the reciprocal of the density at the result
defjvp_output(gammaincinv_p, no_closed_form("gammaincinv", "a"),
              lambda t, ans, a, y: div(t, _gamma_density(a, ans)))
defjvp_output(gammainccinv_p, no_closed_form("gammainccinv", "a"),
              lambda t, ans, a, y: neg(div(t, _gamma_density(a, ans))))
defjvp_output(betaincinv_p, no_closed_form("betaincinv", "a"), no_closed_form("betaincinv", "b"),
              lambda t, ans, a, b, y: div(t, _beta_density(a, b, ans)))


def _t_density(df, x):
    """Student's t density with df degrees of freedom."""
    half = const(df, 0.5)
    df1 = mul(half, add(df, const(df, 1.0)))
    log_norm = sub(sub(gammaln_p.bind(df1), gammaln_p.bind(mul(half, df))),
                   mul(half, bind("log", mul(df, const(df, math.pi)))))
    return bind("exp", sub(log_norm, mul(df1, bind("log1p", div(square(x), df)))))


defjvp_output(stdtr_p, no_closed_form("stdtr", "df"),
              lambda t, ans, df, x: mul(t, _t_density(df, x)))
defjvp_output(stdtrit_p, no_closed_form("stdtrit", "df"),
              lambda t, ans, df, p: div(t, _t_density(df, ans)))
SPECIAL_UFUNCS.update({sp.gammaincinv: gammaincinv_p, sp.gammainccinv: gammainccinv_p,
                       sp.betaincinv: betaincinv_p, sp.stdtr: stdtr_p, sp.stdtrit: stdtrit_p})


# Other array libraries (core/backend.py): the standard has no special functions; each
# library's own, where it has one (torch.special, cupyx.scipy.special). Absent: BackendError.
def _torch_polygamma(x, *, n):
    import torch  # lazy: only torch tensors come here
    return torch.special.polygamma(n, x)


def _cupy_polygamma(x, *, n):
    import cupyx.scipy.special  # lazy: only CuPy arrays come here
    return cupyx.scipy.special.polygamma(n, x)


_TORCH = {erf_p: "erf", erfc_p: "erfc", erfinv_p: "erfinv", gammaln_p: "gammaln",
          digamma_p: "digamma", expit_p: "expit", logit_p: "logit", i0_p: "i0", i1_p: "i1",
          i0e_p: "i0e", i1e_p: "i1e", ndtr_p: "ndtr", log_ndtr_p: "log_ndtr", ndtri_p: "ndtri",
          erfcx_p: "erfcx", xlogy_p: "xlogy", xlog1py_p: "xlog1py", gammainc_p: "gammainc",
          gammaincc_p: "gammaincc"}
_CUPY = {erf_p: "erf", erfc_p: "erfc", erfinv_p: "erfinv", gammaln_p: "gammaln",
         digamma_p: "psi", expit_p: "expit", logit_p: "logit", i0_p: "i0", i1_p: "i1",
         i0e_p: "i0e", i1e_p: "i1e", ndtr_p: "ndtr", log_ndtr_p: "log_ndtr", ndtri_p: "ndtri",
         erfcx_p: "erfcx", xlogy_p: "xlogy", xlog1py_p: "xlog1py", gammainc_p: "gammainc",
         gammaincc_p: "gammaincc", gamma_p: "gamma", loggamma_p: "loggamma", beta_p: "beta",
         betaln_p: "betaln", betainc_p: "betainc", rel_entr_p: "rel_entr", kl_div_p: "kl_div",
         log_expit_p: "log_expit", gammaincinv_p: "gammaincinv",
         gammainccinv_p: "gammainccinv", betaincinv_p: "betaincinv"}
for _p in {*_TORCH, *_CUPY}:
    defbackend(_p, **{k: f"{m}.{t[_p]}" for k, m, t in (
        ("torch", "torch.special", _TORCH), ("cupy", "cupyx.scipy.special", _CUPY)) if _p in t})
defbackend(log_expit_p, torch="torch.nn.functional.logsigmoid")
defbackend(polygamma_p, torch=_torch_polygamma, cupy=_cupy_polygamma)
# What torch.special lacks, from what it has (special_torch.py: gamma and beta through lgamma,
# Bessel functions of orders 0 and 1 only); CuPy has SciPy's own.
defbackend(gamma_p, torch=special_torch.gamma)
defbackend(loggamma_p, torch=special_torch.loggamma)
defbackend(beta_p, torch=special_torch.beta)
defbackend(betaln_p, torch=special_torch.betaln)
defbackend(rel_entr_p, torch=special_torch.rel_entr)
defbackend(kl_div_p, torch=special_torch.kl_div)
defbackend(zeta_p, torch=special_torch.zeta, cupy=special_torch.cupy_zeta)
defbackend(iv_p, torch=special_torch.bessel("iv", "i0", "i1"))
defbackend(ive_p, torch=special_torch.bessel("ive", "i0e", "i1e"))
defbackend(kv_p, torch=special_torch.bessel("kv", "modified_bessel_k0", "modified_bessel_k1"))

