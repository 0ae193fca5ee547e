"""frechet.scipy.special: the special functions NumPy code reaches for, differentiable."""

from __future__ import annotations

import numpy as np
from frechet._src.numpy import ufuncs as U
from frechet._src.numpy.base import asarray, fit, float_dtype, shape_of
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
        from frechet._src.numpy.base import normalize_axis
        from frechet._src.numpy.manipulation import squeeze
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


def xlogy(x, y):
    x, y = asarray(x), asarray(y)
    zero = U.equal(x, 0)
    safe_y = where(zero, 1.0, y)
    return where(zero, 0.0, U.multiply(x, U.log(safe_y)))


def xlog1py(x, y):
    x, y = asarray(x), asarray(y)
    zero = U.equal(x, 0)
    safe_y = where(zero, 0.0, y)
    return where(zero, 0.0, U.multiply(x, U.log1p(safe_y)))


def entr(x):
    x = asarray(x)
    pos = U.greater(x, 0)
    safe = where(pos, x, 1.0)
    return where(pos, U.negative(U.multiply(safe, U.log(safe))),
                 where(U.equal(x, 0), 0.0, -np.inf))
