"""frechet.scipy.special: the special functions NumPy code reaches for, differentiable."""

from __future__ import annotations

import math

import numpy as np
from frechet._src.core.trace import Tracer
from frechet._src.numpy import ufuncs as U
from frechet._src.numpy.base import apply_ufunc, asarray, fit, float_dtype, normalize_axis, shape_of
from frechet._src.numpy.manipulation import squeeze
from frechet._src.numpy.misc import where
from frechet._src.numpy.reductions import max as _max
from frechet._src.numpy.reductions import sum as _sum
from frechet._src.prims import special as P
from frechet._src.prims.shape import stop_gradient_p


def _unary(prim):
    def f(x):
        x = asarray(x)
        return prim.bind(fit(x, float_dtype(x), shape_of(x)))
    f.__name__ = prim.name
    return f


erf = _unary(P.erf_p)
erfc = _unary(P.erfc_p)
erfinv = _unary(P.erfinv_p)
gammaln = _unary(P.gammaln_p)
digamma = psi = _unary(P.digamma_p)
expit = _unary(P.expit_p)
logit = _unary(P.logit_p)


def polygamma(n, x):
    x = asarray(x)
    return P.polygamma_p.bind(fit(x, float_dtype(x), shape_of(x)), n=int(n))


i0 = _unary(P.i0_p)
i1 = _unary(P.i1_p)
gamma = _unary(P.gamma_p)
loggamma = _unary(P.loggamma_p)
ndtr = _unary(P.ndtr_p)
log_ndtr = _unary(P.log_ndtr_p)
ndtri = _unary(P.ndtri_p)
log_expit = _unary(P.log_expit_p)
erfcx = _unary(P.erfcx_p)
i0e = _unary(P.i0e_p)
i1e = _unary(P.i1e_p)


def _nary(ufunc, name, doc):
    """A SciPy ufunc of several arguments, with NumPy's broadcasting and promotion (integers
    compute in float64)."""
    def f(*args):
        args = [asarray(a) for a in args]
        dt = np.result_type(*[float_dtype(a) for a in args])
        return apply_ufunc(ufunc, *[fit(a, dt, shape_of(a)) for a in args])
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return f


beta = _nary(P.sp.beta, "beta", "scipy.special.beta(a, b), differentiable in a and b.")
betaln = _nary(P.sp.betaln, "betaln", "scipy.special.betaln(a, b), differentiable in a and b.")
betainc = _nary(P.sp.betainc, "betainc",
                "scipy.special.betainc(a, b, x), differentiable in x (a and b raise "
                "NonDifferentiableError).")
gammainc = _nary(P.sp.gammainc, "gammainc",
                 "scipy.special.gammainc(a, x), differentiable in x (a raises "
                 "NonDifferentiableError).")
gammaincc = _nary(P.sp.gammaincc, "gammaincc",
                  "scipy.special.gammaincc(a, x), differentiable in x (a raises "
                  "NonDifferentiableError).")
iv = _nary(P.sp.iv, "iv", "scipy.special.iv(v, x), differentiable in x (the order v raises "
           "NonDifferentiableError).")
kv = _nary(P.sp.kv, "kv", "scipy.special.kv(v, x), differentiable in x (the order v raises "
           "NonDifferentiableError).")
rel_entr = _nary(P.sp.rel_entr, "rel_entr",
                 "scipy.special.rel_entr(x, y), differentiable in x and y (NaN at x = 0 for x).")
kl_div = _nary(P.sp.kl_div, "kl_div",
               "scipy.special.kl_div(x, y), differentiable in x and y (NaN at x = 0 for x).")
gammaincinv = _nary(P.sp.gammaincinv, "gammaincinv",
                   "scipy.special.gammaincinv(a, y), differentiable in y.")
gammainccinv = _nary(P.sp.gammainccinv, "gammainccinv",
                     "scipy.special.gammainccinv(a, y), differentiable in y.")
betaincinv = _nary(P.sp.betaincinv, "betaincinv",
                   "scipy.special.betaincinv(a, b, y), differentiable in y.")
xlogy = _nary(P.sp.xlogy, "xlogy",
              "scipy.special.xlogy(x, y) = x log(y) (0 at x = 0), differentiable in x and y "
              "(d/dx = log(y), also at x = 0).")
xlog1py = _nary(P.sp.xlog1py, "xlog1py",
                "scipy.special.xlog1py(x, y) = x log1p(y) (0 at x = 0), differentiable in x and "
                "y (d/dx = log1p(y), also at x = 0).")
ive = _nary(P.sp.ive, "ive", "scipy.special.ive(v, x), differentiable in x (the order v raises "
            "NonDifferentiableError).")
stdtr = _nary(P.sp.stdtr, "stdtr", "scipy.special.stdtr(df, t), differentiable in t.")
stdtrit = _nary(P.sp.stdtrit, "stdtrit", "scipy.special.stdtrit(df, p), differentiable in p.")
_hurwitz_zeta = _nary(P._ufuncs._zeta, "zeta", "")


def zeta(x, q=None):
    """The Riemann zeta function zeta(x), or Hurwitz's zeta(x, q), differentiable in q.

    Args:
      x: the exponent; no closed-form derivative (raises NonDifferentiableError when a
        derivative in x is asked for).
      q: the shift (None: Riemann's zeta, which is Hurwitz's at q = 1).

    Returns:
      The zeta function, broadcast over x and q.

    Example:
      >>> import frechet
      >>> float(frechet.grad(lambda q: zeta(3.0, q))(2.0))   # -3 zeta(4, 2)
      -0.24696970113341465
    """
    x = asarray(x)
    if q is None:
        q = np.ones((), float_dtype(x))
    return _hurwitz_zeta(x, q)


def multigammaln(a, d):
    """The log of the multivariate gamma function of dimension d (static), differentiable in a.

    Args:
      a: the argument (each entry must exceed (d - 1) / 2).
      d: the dimension, a Python integer.

    Returns:
      sum_j gammaln(a - j/2) + d (d - 1) / 4 log(pi), j = 0..d-1.

    Example:
      >>> import frechet
      >>> float(frechet.grad(lambda a: multigammaln(a, 2))(3.0))   # digamma(3) + digamma(2.5)
      1.6259409757437102
    """
    d = int(d)
    a = asarray(a)
    if not isinstance(a, Tracer) and np.any(np.asarray(a) <= 0.5 * (d - 1)):
        raise ValueError(f"condition a > 0.5 * (d-1) ({0.5 * (d - 1)}) not met")
    # Note: for traced a the domain is not checked (the check would need concrete values).
    a = fit(a, float_dtype(a), shape_of(a))
    out = gammaln(a)
    for j in range(1, d):
        out = U.add(out, gammaln(U.subtract(a, 0.5 * j)))
    return U.add(out, d * (d - 1) / 4 * math.log(math.pi))


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    a = asarray(a)
    a = fit(a, float_dtype(a), shape_of(a))
    # the shift is a constant: stop the gradient before the max, so max is not differentiated
    m = _max(stop_gradient_p.bind(a), axis=axis, keepdims=True)
    m = where(U.isfinite(m), m, np.zeros((), a.dtype))
    e = U.exp(U.subtract(a, m))
    if b is not None:
        e = U.multiply(e, b)
    s = _sum(e, axis=axis, keepdims=True)
    sign = None
    if return_sign:
        sign = U.sign(s)
        s = U.absolute(s)
    out = U.add(U.log(s), m)
    if not keepdims:
        out = squeeze(out, axis=normalize_axis(axis, len(shape_of(a))))
        if sign is not None:
            sign = squeeze(sign, axis=normalize_axis(axis, len(shape_of(a))))
    return (out, sign) if return_sign else out


def softmax(x, axis=None):
    x = asarray(x)
    return U.exp(U.subtract(x, logsumexp(x, axis=axis, keepdims=True)))


def log_softmax(x, axis=None):
    x = asarray(x)
    return U.subtract(x, logsumexp(x, axis=axis, keepdims=True))


def entr(x):
    """-x log(x) for x >= 0 (0 at x = 0), -inf for x < 0.

    Note: -xlogy(x, x), so at x = 0 the derivative is NaN at every order (the one-sided
    derivative -log(x) - 1 is +inf; from the left the function is -inf), never a 0 from
    the constant 0 there.
    """
    x = asarray(x)
    x = fit(x, float_dtype(x), shape_of(x))
    ok = U.greater_equal(x, 0)
    safe = where(ok, x, 1.0)
    return where(ok, U.subtract(0.0, xlogy(safe, safe)), -np.inf)    # 0 - 0 is +0
