"""Polynomials (np.poly*), Vandermonde matrices, covariance and correlation."""

from __future__ import annotations

import numpy as np
from frechet._src.core.trace import Tracer, concrete
from frechet._src.errors import UnsupportedFunctionError
from frechet._src.numpy import ufuncs as U
from frechet._src.numpy.base import asarray, fit, float_dtype, result_dtype, shape_of
from frechet._src.numpy.contract import einsum
from frechet._src.numpy.manipulation import atleast_1d, concatenate, ravel, reshape, stack
from frechet._src.numpy.misc import clip, convolve, real
from frechet._src.numpy.reductions import mean
from frechet._src.prims.linalg import roots_p


def polyval(p, x):
    p, x = asarray(p), asarray(x)
    dt = result_dtype(p, x)
    y = np.zeros(shape_of(x), dt)
    for i in range(shape_of(p)[0]):
        y = U.add(U.multiply(y, x), p[i])
    return y


def vander(x, N=None, increasing=False):
    x = ravel(asarray(x))
    n = shape_of(x)[0] if N is None else N
    powers = np.arange(n) if increasing else np.arange(n)[::-1]
    cols = [U.power(x, int(k)) if k else np.ones(shape_of(x), asarray(x).dtype) for k in powers]
    return stack([asarray(c) for c in cols], axis=1) if n else np.zeros((shape_of(x)[0], 0))


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """Least-squares fit through the normal equations with a QR-stable pseudo-inverse of the
    (constant) Vandermonde matrix: differentiable in y; x supplies the design (concrete)."""
    if full or cov:
        raise NotImplementedError("polyfit(full=True or cov=True) is not supported on traced values")
    if isinstance(x, Tracer) or isinstance(w, Tracer):
        raise UnsupportedFunctionError(
            "np.polyfit is differentiable in y only; its x and w must be constants here (the "
            "derivative in x needs frechet.numpy.linalg, which is not built yet)")
    xc = np.asarray(concrete(x, "np.polyfit x"), float)
    A = np.vander(xc, deg + 1)
    y = asarray(y)
    if w is not None:
        wc = np.asarray(concrete(w, "np.polyfit w"), float)
        A = A * wc[:, None]
        y = U.multiply(y, wc if len(shape_of(y)) == 1 else wc[:, None])
    scale = np.sqrt((A * A).sum(axis=0))
    pinv = np.linalg.pinv(A / scale, rcond=rcond if rcond is not None else len(xc) * np.finfo(float).eps)
    pinv = pinv / scale[:, None]
    y = fit(y, float_dtype(y), shape_of(y))
    return einsum("ij,j...->i...", pinv, y)


def polyadd(a1, a2):
    a1, a2 = atleast_1d(asarray(a1)), atleast_1d(asarray(a2))
    n1, n2 = shape_of(a1)[0], shape_of(a2)[0]
    dt = result_dtype(a1, a2)
    if n1 < n2:
        a1 = concatenate([np.zeros(n2 - n1, dt), fit(a1, dt, (n1,))])
    elif n2 < n1:
        a2 = concatenate([np.zeros(n1 - n2, dt), fit(a2, dt, (n2,))])
    return U.add(a1, a2)


def polysub(a1, a2):
    return polyadd(a1, U.negative(a2))


def polymul(a1, a2):
    return convolve(atleast_1d(asarray(a1)), atleast_1d(asarray(a2)))


def polyder(p, m=1):
    p = asarray(p)
    for _ in range(m):
        n = shape_of(p)[0] - 1
        if n <= 0:
            return np.zeros(1, asarray(p).dtype)
        p = U.multiply(p[:n], np.arange(n, 0, -1))
    return p


def polyint(p, m=1, k=None):
    p = asarray(p)
    ks = np.zeros(m) if k is None else np.atleast_1d(k)
    for i in range(m):
        n = shape_of(p)[0]
        p = concatenate([U.divide(p, np.arange(n, 0, -1)), np.asarray([ks[i]], float)])
    return p


def polydiv(u, v):
    u, v = atleast_1d(asarray(u)), atleast_1d(asarray(v))
    dt = float_dtype(np.zeros((), result_dtype(u, v)))
    u, v = fit(u, dt, shape_of(u)), fit(v, dt, shape_of(v))
    m, n = shape_of(u)[0] - 1, shape_of(v)[0] - 1
    scale = U.divide(1.0, v[0])
    q = []
    r = u
    for k in range(max(m - n + 1, 0)):
        d = U.multiply(scale, r[k])
        q.append(d)
        upd = concatenate([np.zeros(k, dt), U.multiply(d, v), np.zeros(m - n - k, dt)])
        r = U.subtract(r, upd)
    q = stack(q) if q else np.zeros(1, dt)
    rem = r[max(m - n + 1, 0):] if m >= n else r
    return q, rem


def poly(seq_of_zeros):
    z = asarray(seq_of_zeros)
    if len(shape_of(z)) == 2 and shape_of(z)[0] == shape_of(z)[1]:
        raise NotImplementedError("np.poly of a matrix needs eigenvalues (frechet.numpy.linalg)")
    z = atleast_1d(z)
    a = np.ones(1, result_dtype(z, 1.0))
    for i in range(shape_of(z)[0]):
        a = polymul(a, concatenate([np.ones(1, result_dtype(z, 1.0)), reshape(U.negative(z[i]), (1,))]))
    return a


def roots(p):
    """np.roots: the roots of the polynomial with coefficients p (highest power first), as
    NumPy orders them, complex when any root is complex and real otherwise.

    The derivative is the implicit function theorem's on p(r) = 0, dr = -dp(r) / p'(r), for
    simple roots. Repeated roots (found on the computed roots: any two within eps**(1/4),
    relative) and a zero leading coefficient have none, and raise NonDifferentiableError when
    differentiated. Which roots NumPy returns, and their dtype, depend on the values: under jit
    the function is traced again when they change.

    Example:
      >>> import frechet, numpy as np
      >>> frechet.jacobian(np.roots)(np.array([1.0, -3.0, 2.0]))   # roots 2 and 1
      array([[-4., -2., -1.],
             [ 1.,  1.,  1.]])
    """
    p = atleast_1d(asarray(p))
    pc = concrete(p, "np.roots")
    if pc.ndim != 1:
        raise ValueError("Input must be a rank-1 array.")
    nonzero = np.flatnonzero(pc)
    if len(nonzero) == 0:
        return np.array([])
    p = fit(p, float_dtype(p), shape_of(p))
    r = roots_p.bind(p, leading_zeros=int(nonzero[0]))
    # NumPy's dtype depends on the values: real when every root of a real polynomial is real
    rc = concrete(r, "np.roots")
    return real(r) if np.dtype(p.dtype).kind != "c" and not np.any(rc.imag) else r


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    if fweights is not None or aweights is not None:
        raise NotImplementedError("cov with fweights/aweights is not supported on traced values")
    X = asarray(m)
    if len(shape_of(X)) == 1:
        X = reshape(X, (1, -1))
    if not rowvar and shape_of(X)[0] != 1:
        X = X.T
    if y is not None:
        Y = asarray(y)
        Y = reshape(Y, (1, -1)) if len(shape_of(Y)) == 1 else (Y if rowvar else Y.T)
        X = concatenate([X, Y], axis=0)
    dt = np.dtype(dtype) if dtype is not None else float_dtype(X)
    X = fit(X, dt, shape_of(X))
    ddof = (0 if bias else 1) if ddof is None else ddof
    n = shape_of(X)[1]
    Xc = U.subtract(X, mean(X, axis=1, keepdims=True))
    c = U.divide(einsum("ik,jk->ij", Xc, U.conjugate(Xc)), max(n - ddof, 0))
    return reshape(c, ()) if shape_of(c) == (1, 1) else c


def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    c = cov(x, y, rowvar, dtype=dtype)
    if len(shape_of(c)) == 0:
        return U.divide(c, c)
    d = einsum("ii->i", c)
    s = U.sqrt(real(d))
    c = U.divide(U.divide(c, reshape(s, (-1, 1))), reshape(s, (1, -1)))
    return clip(c, -1, 1) if asarray(c).dtype.kind != "c" else c
