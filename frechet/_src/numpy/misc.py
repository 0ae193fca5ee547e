"""Selection, clipping, complex parts, comparisons of whole arrays, differences and integrals,
convolution, interpolation, and the *_like constructors."""

from __future__ import annotations

import math

import numpy as np
from frechet._src.core import backend
from frechet._src.core.backend import dtype_of, is_foreign
from frechet._src.core.trace import Tracer, concrete
from frechet._src.numpy import ufuncs as U
from frechet._src.numpy.aliasing import clone
from frechet._src.numpy.base import (
    asarray,
    broadcast_shapes,
    fit,
    float_dtype,
    normalize_one_axis,
    result_dtype,
    shape_of,
)
from frechet._src.numpy.contract import einsum
from frechet._src.numpy.manipulation import broadcast_to, concatenate, moveaxis, ravel, reshape
from frechet._src.numpy.reductions import all as _all
from frechet._src.numpy.reductions import sum as _sum
from frechet._src.numpy.ufuncs import conjugate
from frechet._src.prims import elementwise as ew
from frechet._src.prims import indexing as ix
from frechet._src.prims.shape import select_p


def where(condition, x=None, y=None, /):
    if x is None and y is None:
        return nonzero(condition)
    cond = asarray(condition, np.bool_)
    dt = result_dtype(x, y)
    shape = broadcast_shapes(shape_of(cond), shape_of(x), shape_of(y))
    return select_p.bind(fit(cond, np.dtype(np.bool_), shape), fit(x, dt, shape), fit(y, dt, shape))


def select(condlist, choicelist, default=0):
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    out = default
    for c, v in zip(reversed(condlist), reversed(choicelist)):
        out = where(c, v, out)
    return asarray(out)


def clip(a, a_min=np._NoValue, a_max=np._NoValue, out=None, *, min=np._NoValue, max=np._NoValue,
         **kwargs):
    lo = min if a_min is np._NoValue else a_min
    hi = max if a_max is np._NoValue else a_max
    r = asarray(a)
    if lo is not np._NoValue and lo is not None:
        r = U.maximum(r, lo)
    if hi is not np._NoValue and hi is not None:
        r = U.minimum(r, hi)
    return U._store(r, out)


def piecewise(x, condlist, funclist, *args, **kw):
    x = asarray(x)
    if isinstance(condlist, (bool, np.bool_)) or not isinstance(condlist, (list, tuple)) \
            and np.ndim(concrete(condlist, "np.piecewise")) == len(shape_of(x)):
        condlist = [condlist]
    conds = [np.broadcast_to(np.asarray(concrete(c, "np.piecewise conditions"), bool), shape_of(x))
             for c in condlist]
    if len(funclist) == len(conds) + 1:
        conds.append(~np.any(conds, axis=0))
    out = np.zeros(shape_of(x), x.dtype)
    for c, f in zip(conds, funclist):
        if not c.any():
            continue
        val = f(x, *args, **kw) if callable(f) else f
        out = where(c, fit(asarray(val), x.dtype, broadcast_shapes(shape_of(val), shape_of(x))), out)
    return asarray(out)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    x = asarray(x)
    if x.dtype.kind == "c":
        return U.add(nan_to_num(real(x), nan=nan, posinf=posinf, neginf=neginf),
                     U.multiply(nan_to_num(imag(x), nan=nan, posinf=posinf, neginf=neginf), 1j))
    if x.dtype.kind != "f":
        return x
    fi = np.finfo(x.dtype)
    x = where(U.isnan(x), nan, x)
    x = where(U.equal(x, np.inf), fi.max if posinf is None else posinf, x)
    return where(U.equal(x, -np.inf), fi.min if neginf is None else neginf, x)


def round(a, decimals=0, out=None):
    a = asarray(a)
    if decimals == 0:
        return U.rint(a)
    s = np.asarray(10.0 ** decimals, float_dtype(a))
    return U.divide(U.rint(U.multiply(a, s)), s)


around = round


def fix(x, out=None):
    return U.trunc(x)


def real(val):
    x = asarray(val)
    return ew.real_p.bind(x) if dtype_of(x).kind == "c" else x


def imag(val):
    x = asarray(val)
    if dtype_of(x).kind == "c":
        return ew.imag_p.bind(x)
    return np.zeros(shape_of(x), x.dtype)


def angle(z, deg=False):
    z = asarray(z)
    a = U.arctan2(imag(z), real(z)) if z.dtype.kind == "c" else U.arctan2(
        np.zeros((), float_dtype(z)), fit(z, float_dtype(z), shape_of(z)))
    return U.rad2deg(a) if deg else a


def isreal(x):
    return U.equal(imag(x), 0)


def iscomplex(x):
    return U.not_equal(imag(x), 0)


def iscomplexobj(x):
    return asarray(x).dtype.kind == "c"


def isrealobj(x):
    return not iscomplexobj(x)


def isposinf(x, out=None):
    return U.logical_and(U.isinf(x), U.logical_not(U.signbit(x)))


def isneginf(x, out=None):
    return U.logical_and(U.isinf(x), U.signbit(x))


def real_if_close(a, tol=100):
    a = asarray(a)
    if a.dtype.kind != "c":
        return a
    eps = np.finfo(a.dtype).eps * (max(1, tol))
    return real(a) if np.all(np.abs(np.imag(concrete(a, "real_if_close"))) < eps) else a


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b = asarray(a), asarray(b)
    close = U.less_equal(U.absolute(U.subtract(a, b)), U.add(atol, U.multiply(rtol, U.absolute(b))))
    close = U.logical_or(close, U.equal(a, b))
    if equal_nan:
        close = U.logical_or(close, U.logical_and(U.isnan(a), U.isnan(b)))
    return close


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(concrete(_all(isclose(a, b, rtol, atol, equal_nan)), "np.allclose"))


def array_equal(a1, a2, equal_nan=False):
    if shape_of(a1) != shape_of(a2):
        return False
    c1, c2 = concrete(a1, "np.array_equal"), concrete(a2, "np.array_equal")
    return bool(np.array_equal(c1, c2, equal_nan=equal_nan))


def array_equiv(a1, a2):
    return bool(np.array_equiv(concrete(a1, "np.array_equiv"), concrete(a2, "np.array_equiv")))


def nonzero(a):
    return np.nonzero(concrete(a, "np.nonzero"))


def argwhere(a):
    return np.argwhere(concrete(a, "np.argwhere"))


def flatnonzero(a):
    return np.flatnonzero(concrete(a, "np.flatnonzero"))


# sin(z)/z = sum_k (-1)^k z^(2k) / (2k+1)!; for |z| < 1 the terms past k = 12 are below 1e-28
# (times 26^n in an n-th derivative: still below double precision to order 8).
_SINC_SERIES = tuple((-1) ** k / math.factorial(2 * k + 1) for k in range(13))


def sinc(x):
    """sin(pi x) / (pi x), with its series near 0, so every derivative is right there too."""
    # Note: NumPy's sinc is sin(pi x)/(pi x) with x = 0 replaced; for |pi x| < 1 frechet sums
    # the Taylor series instead (the same values to within an ulp or two). A constant at 0
    # would have zero derivatives of every order (the second is -pi^2/3), and the quotient
    # cancels catastrophically in its derivatives near 0; each branch here is exact, with all
    # its derivatives, in its own region.
    x = asarray(x)
    x = fit(x, float_dtype(x), shape_of(x))
    small = U.less(U.absolute(x), 1 / np.pi)
    zero, away = np.asarray(0.0, x.dtype), np.asarray(0.5, x.dtype)
    pz = U.multiply(where(small, x, zero), np.pi)
    z2 = U.multiply(pz, pz)
    series = np.asarray(_SINC_SERIES[-1], x.dtype)
    for c in reversed(_SINC_SERIES[:-1]):
        series = U.add(U.multiply(series, z2), c)
    px = U.multiply(where(small, away, x), np.pi)
    return where(small, series, U.divide(U.sin(px), px))


def i0(x):
    from frechet._src.numpy.scipy_special import (
        i0 as _i0,  # lazy: cycle: scipy_special -> misc at load
    )
    return _i0(x)


def zeros_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    if dtype is None and shape is None and is_foreign(a):
        return backend.full_like(a, 0)    # another library's array: zeros of its library
    return np.zeros(shape_of(a) if shape is None else shape, dtype or asarray(a).dtype)


def ones_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    if dtype is None and shape is None and is_foreign(a):
        return backend.full_like(a, 1)
    return np.ones(shape_of(a) if shape is None else shape, dtype or asarray(a).dtype)


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    if dtype is None and shape is None and is_foreign(a) and not isinstance(fill_value, Tracer):
        return backend.full_like(a, fill_value)     # another library's array: of its library
    dt = np.dtype(dtype) if dtype is not None else asarray(a).dtype
    shp = shape_of(a) if shape is None else shape
    if isinstance(fill_value, Tracer):
        out = fit(fill_value, dt, tuple(np.atleast_1d(shp)) if np.ndim(shp) else (shp,))
        return clone(out) if out is fill_value else out
    return np.full(shp, fill_value, dt)


def empty_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    # Note: zeros, where NumPy leaves the memory as it was
    return zeros_like(a, dtype, shape=shape)


def result_type(*arrays_and_dtypes):
    return np.result_type(*[x.dtype if isinstance(x, Tracer) else x for x in arrays_and_dtypes])


def can_cast(from_, to, casting="safe"):
    return np.can_cast(from_.dtype if isinstance(from_, Tracer) else from_, to, casting)


def min_scalar_type(a):
    return np.min_scalar_type(concrete(a, "np.min_scalar_type"))


def common_type(*arrays):
    return np.common_type(*[np.zeros((), x.dtype) for x in arrays])


# differences, gradients, integrals ------------------------------------------------------------

def diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    a = asarray(a)
    ax = normalize_one_axis(axis, len(shape_of(a)))
    parts = []
    for extra, front in ((prepend, True), (append, False)):
        if extra is not np._NoValue:
            e = asarray(extra)
            if len(shape_of(e)) == 0:
                shp = list(shape_of(a))
                shp[ax] = 1
                e = broadcast_to(e, tuple(shp))
            parts.append((front, e))
    if parts:
        a = concatenate([e for f, e in parts if f] + [a] + [e for f, e in parts if not f], axis=ax)
    for _ in range(n):
        m = shape_of(a)[ax]
        hi = ix.getitem(a, (slice(None),) * ax + (slice(1, m),))
        lo = ix.getitem(a, (slice(None),) * ax + (slice(0, max(m - 1, 0)),))
        a = U.not_equal(hi, lo) if a.dtype == np.bool_ else U.subtract(hi, lo)
    return a


def ediff1d(ary, to_end=None, to_begin=None):
    d = diff(ravel(ary))
    parts = ([ravel(asarray(to_begin))] if to_begin is not None else []) + [d] + \
        ([ravel(asarray(to_end))] if to_end is not None else [])
    return concatenate(parts) if len(parts) > 1 else d


def gradient(f, *varargs, axis=None, edge_order=1):
    f = asarray(f)
    nd = len(shape_of(f))
    axes = list(range(nd)) if axis is None else [normalize_one_axis(a, nd) for a in np.atleast_1d(axis)]
    sp = list(varargs) if varargs else [1.0]
    if len(sp) == 1:
        sp = sp * len(axes)
    if edge_order != 1:
        raise NotImplementedError("gradient(edge_order=2) is not supported on traced values")
    outs = []
    for ax, h in zip(axes, sp):
        if np.ndim(h) != 0:
            raise NotImplementedError("gradient with coordinate arrays is not supported on traced values")
        x = moveaxis(f, ax, -1)
        x = fit(x, float_dtype(x), shape_of(x))
        n = shape_of(x)[-1]
        if n < 2:
            raise ValueError("Shape of array too small to calculate a numerical gradient, at least "
                             "(edge_order + 1) elements are required.")
        first = U.subtract(x[..., 1:2], x[..., 0:1])
        last = U.subtract(x[..., n - 1:n], x[..., n - 2:n - 1])
        mid = U.divide(U.subtract(x[..., 2:], x[..., :n - 2]), 2.0)
        g = U.divide(concatenate([first, mid, last], axis=-1), h)
        outs.append(moveaxis(g, -1, ax))
    return outs[0] if len(outs) == 1 else tuple(outs)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    y = asarray(y)
    ax = normalize_one_axis(axis, len(shape_of(y)))
    n = shape_of(y)[ax]
    sl = (slice(None),) * ax
    avg = U.divide(U.add(ix.getitem(y, sl + (slice(1, n),)), ix.getitem(y, sl + (slice(0, n - 1),))), 2.0)
    if x is None:
        return U.multiply(_sum(avg, axis=ax), dx)
    x = asarray(x)
    d = diff(x) if len(shape_of(x)) == 1 else diff(x, axis=ax)
    if len(shape_of(d)) == 1:
        d = reshape(d, tuple(-1 if i == ax else 1 for i in range(len(shape_of(y)))))
    return _sum(U.multiply(avg, d), axis=ax)


def convolve(a, v, mode="full"):
    a, v = ravel(asarray(a)), ravel(asarray(v))
    if shape_of(a)[0] < shape_of(v)[0]:
        a, v = v, a
    return _correlate_full(a, ix.getitem(v, (slice(None, None, -1),)), mode)


def correlate(a, v, mode="valid"):
    a, v = ravel(asarray(a)), ravel(asarray(v))
    if shape_of(a)[0] < shape_of(v)[0]:
        # NumPy: correlate(a, v) = conj(correlate(v, a)) reversed
        r = _correlate_full(v, conjugate(a), mode)
        return ix.getitem(conjugate(r), (slice(None, None, -1),))
    return _correlate_full(a, conjugate(v), mode)


def _correlate_full(a, v, mode):
    """sum_k a[i + k] v[k] over the positions `mode` keeps, as one gather and a contraction."""
    n, m = shape_of(a)[0], shape_of(v)[0]
    if mode == "full":
        lo, hi = -(m - 1), n - 1
    elif mode == "same":
        lo = -((m - 1) // 2)
        hi = lo + max(n, m) - 1
    elif mode == "valid":
        lo, hi = 0, n - m
    else:
        raise ValueError(f"mode must be one of 'full', 'same' or 'valid', not {mode!r}")
    pos = np.arange(lo, hi + 1)[:, None] + np.arange(m)[None, :]
    valid = (pos >= 0) & (pos < n)
    dt = result_dtype(a, v)
    ap = concatenate([fit(a, dt, (n,)), np.zeros(1, dt)])
    windows = ix.getitem(ap, (np.where(valid, pos, n),))
    return einsum("ik,k->i", windows, fit(v, dt, (m,)))


def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation, differentiable in x, xp and fp (the interval each x
    falls in is found from concrete values)."""
    if period is not None:
        raise NotImplementedError("interp(period=...) is not supported on traced values")
    xpc = np.asarray(concrete(xp, "np.interp breakpoints"), float)
    x, xp, fp = asarray(x), asarray(xp), asarray(fp)
    xc = concrete(x, "np.interp positions")
    j = np.clip(np.searchsorted(xpc, xc, side="right") - 1, 0, len(xpc) - 2)
    x0, x1 = ix.getitem(xp, (j,)), ix.getitem(xp, (j + 1,))
    f0, f1 = ix.getitem(fp, (j,)), ix.getitem(fp, (j + 1,))
    t = U.divide(U.subtract(x, x0), U.subtract(x1, x0))
    r = U.add(f0, U.multiply(t, U.subtract(f1, f0)))
    lo = ix.getitem(fp, (0,)) if left is None else left
    hi = ix.getitem(fp, (len(xpc) - 1,)) if right is None else right
    r = where(xc < xpc[0], lo, r)
    return where(xc > xpc[-1], hi, r)


def unwrap(p, discont=None, axis=-1, *, period=2 * np.pi):
    p = asarray(p)
    ax = normalize_one_axis(axis, len(shape_of(p)))
    c = concrete(p, "np.unwrap")
    corr = np.unwrap(c, discont, ax, period=period) - c
    return U.add(p, corr)

