"""Reductions and statistics: sum, prod, max/min, mean/var/std, the nan-variants, average,
median/percentile/quantile, ptp, cumulative sums and products."""

from __future__ import annotations

import builtins
import math

import numpy as np
from frechet._src.core.backend import dtype_of
from frechet._src.core.trace import Tracer, concrete
from frechet._src.numpy.base import (
    asarray,
    fit,
    float_dtype,
    normalize_axis,
    normalize_one_axis,
    shape_of,
)
from frechet._src.numpy.manipulation import (
    broadcast_to,
    concatenate,
    expand_dims,
    moveaxis,
    ravel,
    reshape,
)
from frechet._src.numpy.manipulation import broadcast_to as bt
from frechet._src.prims import reductions as R
from frechet._src.prims import shape as S
from frechet._src.prims import sorting as srt
from frechet._src.prims.indexing import getitem


def _prep(a, axis, dtype=None):
    a = asarray(a)
    if dtype is not None:
        a = fit(a, np.dtype(dtype), shape_of(a))
    return a, normalize_axis(axis, len(shape_of(a)))


def _keep(r, a, axes, keepdims):
    if not keepdims:
        return r
    return reshape(r, tuple(1 if i in axes else n for i, n in enumerate(shape_of(a))))


def _masked(a, where, fill):
    from frechet._src.numpy.misc import where as _where  # lazy: cycle: misc -> reductions at load
    if where is True:
        return a
    return _where(np.broadcast_to(np.asarray(where, bool), shape_of(a)), a, fill)


def _sum_dtype(a):
    """NumPy sums booleans and small integers in the platform integer."""
    dt = dtype_of(a)
    k = dt.kind
    if k == "b" or (k in "iu" and dt.itemsize < np.dtype(np.int_).itemsize):
        return np.dtype(np.int_) if k != "u" else np.dtype(np.uint)
    return None


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue, where=True):
    if (axis is None and dtype is None and not keepdims and initial is np._NoValue
            and where is True and isinstance(a, Tracer) and a.dtype.kind in "fc"):
        return S.reduce_sum(a, tuple(range(len(a.shape))))     # the common case, kept short
    a = asarray(a)
    a, axes = _prep(a, axis, dtype if dtype is not None else _sum_dtype(a))
    a = _masked(a, where, 0)
    r = S.reduce_sum(a, axes)
    if initial is not np._NoValue:
        from frechet._src.numpy.ufuncs import add  # lazy: cycle: ufuncs -> reductions at load
        r = add(r, initial)
    return _keep(r, a, axes, keepdims)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue, where=True):
    a = asarray(a)
    a, axes = _prep(a, axis, dtype if dtype is not None else _sum_dtype(a))
    a = _masked(a, where, 1)
    r = R.reduce_prod_p.bind(a, axes=axes) if axes else a
    if initial is not np._NoValue:
        from frechet._src.numpy.ufuncs import multiply  # lazy: cycle: ufuncs -> reductions at load
        r = multiply(r, initial)
    return _keep(r, a, axes, keepdims)


def _extreme(prim, name):
    def f(a, axis=None, out=None, keepdims=False, initial=np._NoValue, where=True):
        a, axes = _prep(a, axis)
        if where is not True:
            if initial is np._NoValue:
                raise ValueError(f"reduction operation '{name}' does not have an identity, so to "
                                 "use a where mask one has to specify 'initial'")
            a = _masked(a, where, initial)
        if builtins.any(shape_of(a)[i] == 0 for i in axes) and initial is np._NoValue:
            raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
        r = prim.bind(a, axes=axes) if axes else a
        if initial is not np._NoValue:
            from frechet._src.numpy.ufuncs import (  # lazy: cycle: ufuncs -> reductions at load
                maximum,
                minimum,
            )
            r = (maximum if name == "maximum" else minimum)(r, initial)
        return _keep(r, a, axes, keepdims)
    f.__name__ = {"maximum": "max", "minimum": "min"}[name]
    return f


max = amax = _extreme(R.reduce_max_p, "maximum")
min = amin = _extreme(R.reduce_min_p, "minimum")


def all(a, axis=None, out=None, keepdims=False, *, where=True):
    a, axes = _prep(a, axis, np.bool_)
    a = _masked(a, where, True)
    return _keep(R.reduce_and_p.bind(a, axes=axes), a, axes, keepdims)


def any(a, axis=None, out=None, keepdims=False, *, where=True):
    a, axes = _prep(a, axis, np.bool_)
    a = _masked(a, where, False)
    return _keep(R.reduce_or_p.bind(a, axes=axes), a, axes, keepdims)


def _arg(prim):
    def f(a, axis=None, out=None, *, keepdims=False):
        a = asarray(a)
        if axis is None:
            r = prim.bind(ravel(a), axis=0)
            return reshape(r, (1,) * len(shape_of(a))) if keepdims else r
        ax = normalize_one_axis(axis, len(shape_of(a)))
        r = prim.bind(a, axis=ax)
        return expand_dims(r, ax) if keepdims else r
    return f


argmax = _arg(R.argmax_p)
argmin = _arg(R.argmin_p)


def count_nonzero(a, axis=None, *, keepdims=False):
    from frechet._src.numpy.ufuncs import not_equal  # lazy: cycle: ufuncs -> reductions at load
    return sum(not_equal(a, 0), axis=axis, keepdims=keepdims, dtype=np.intp)


def ptp(a, axis=None, out=None, keepdims=False):
    from frechet._src.numpy.ufuncs import subtract  # lazy: cycle: ufuncs -> reductions at load
    return subtract(max(a, axis, keepdims=keepdims), min(a, axis, keepdims=keepdims))


def _count(a, axes):
    return math.prod([shape_of(a)[i] for i in axes])


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    from frechet._src.numpy.ufuncs import divide  # lazy: cycle: ufuncs -> reductions at load
    a = asarray(a)
    dt = np.dtype(dtype) if dtype is not None else float_dtype(a)
    a, axes = _prep(a, axis, dt)
    if where is not True:
        w = np.broadcast_to(np.asarray(where, bool), shape_of(a))
        return divide(sum(a, axis, keepdims=keepdims, where=w),
                      np.sum(w, axis=axis, keepdims=keepdims).astype(dt))
    return divide(sum(a, axes, keepdims=keepdims), np.asarray(_count(a, axes), dt))


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=None,
        correction=None):
    from frechet._src.numpy.misc import real  # lazy: cycle: misc -> reductions at load
    from frechet._src.numpy.ufuncs import (  # lazy: cycle: ufuncs -> reductions at load
        conjugate,
        divide,
        multiply,
        subtract,
    )
    if correction is not None:
        ddof = correction
    a = asarray(a)
    dt = np.dtype(dtype) if dtype is not None else float_dtype(a)
    a, axes = _prep(a, axis, dt)
    m = _mean(a, axes, where) if mean is None else mean
    d = subtract(a, m)
    sq = real(multiply(d, conjugate(d))) if dt.kind == "c" else multiply(d, d)
    n = (_count(a, axes) if where is True
         else np.sum(np.broadcast_to(np.asarray(where, bool), shape_of(a)), axis=axes, keepdims=keepdims))
    return divide(sum(sq, axes, keepdims=keepdims, where=where), np.maximum(np.asarray(n) - ddof, 0))


def _mean(a, axes, where):
    return mean(a, axes, keepdims=True, where=where)


def _sqrt_zero_subgradient(v):
    """sqrt(v) of a sum of squares v (a variance, a squared norm), with derivative 0 where v is 0.

    There v is at its minimum, so its tangent is exactly 0 while sqrt's derivative is infinite,
    and the chain rule gives 0 * inf = NaN (forward and reverse) for a function that has a kink
    (|t| along t), or none at all (the std of one element). 0 is the subgradient abs and
    maximum take at theirs. The double where keeps the infinite branch out of every derivative
    without branching on values, so jit traces it once; elsewhere it is sqrt, to every order."""
    from frechet._src.numpy.misc import where  # lazy: cycle: misc -> reductions at load
    from frechet._src.numpy.ufuncs import equal, sqrt  # lazy: cycle: ufuncs -> reductions at load
    v = asarray(v)
    zero = equal(v, 0)
    return where(zero, np.zeros((), v.dtype), sqrt(where(zero, np.ones((), v.dtype), v)))


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=None,
        correction=None):
    """np.std, the square root of np.var.

    Example:
      >>> import frechet, numpy as np
      >>> frechet.grad(np.std)(np.array([1.0, 3.0]))
      array([-0.5,  0.5])
    """
    # Note: where the data are constant (the std is 0, at a kink) the derivative is the zero
    # subgradient, as for abs at 0 (NumPy has no derivatives; JAX gives NaN there).
    return _sqrt_zero_subgradient(var(a, axis, dtype, None, ddof, keepdims, where=where,
                                     mean=mean, correction=correction))


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    from frechet._src.numpy.ufuncs import (  # lazy: cycle: ufuncs -> reductions at load
        divide,
        multiply,
    )
    a = asarray(a)
    if weights is None:
        avg = mean(a, axis, keepdims=keepdims)
        scl = np.asarray(_count(a, normalize_axis(axis, len(shape_of(a)))), avg.dtype)
        return (avg, np.broadcast_to(scl, shape_of(avg))) if returned else avg
    w = asarray(weights)
    if shape_of(w) != shape_of(a):
        if axis is None or len(shape_of(w)) != 1:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        ax = normalize_one_axis(axis, len(shape_of(a)))
        w = reshape(w, tuple(n if i == ax else 1 for i, n in enumerate(shape_of(a))))
    w = broadcast_to(w, shape_of(a))
    scl = sum(w, axis, keepdims=keepdims)
    avg = divide(sum(multiply(a, w), axis, keepdims=keepdims), scl)
    return (avg, bt(scl, shape_of(avg))) if returned else avg


# order statistics: sort, then interpolate (the sort's tangent is the permuted input tangent) --

def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False,
             *, weights=None, interpolation=None):
    from frechet._src.numpy.ufuncs import (  # lazy: cycle: ufuncs -> reductions at load
        add,
        multiply,
        subtract,
    )
    if weights is not None:
        raise NotImplementedError("quantile(weights=...) is not supported on traced values")
    method = interpolation or method
    a = asarray(a)
    if axis is None:
        x, ax_list = ravel(a), (0,)
    else:
        ax_list = normalize_axis(axis, len(shape_of(a)))
        x = a
        for i, ax in enumerate(ax_list):
            x = moveaxis(x, ax, -1 - (len(ax_list) - 1 - i))
        x = reshape(x, shape_of(x)[:len(shape_of(x)) - len(ax_list)] + (-1,))
    x = fit(x, float_dtype(x), shape_of(x))
    xs = srt.sort_p.bind(x, axis=len(shape_of(x)) - 1)
    n = shape_of(xs)[-1]
    qa = np.asarray(q, dtype=np.float64)
    if np.any((qa < 0) | (qa > 1)):
        raise ValueError("Quantiles must be in the range [0, 1]")
    pos = qa * (n - 1)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    if method == "lower":
        hi, frac = lo, frac * 0
    elif method == "higher":
        lo, frac = np.ceil(pos).astype(np.intp), frac * 0
        hi = lo
    elif method == "nearest":
        lo = np.around(pos).astype(np.intp)
        hi, frac = lo, frac * 0
    elif method == "midpoint":
        frac = np.where(hi > lo, 0.5, 0.0)
    elif method != "linear":
        raise NotImplementedError(f"quantile method {method!r} is not supported on traced values")
    vlo = moveaxis(getitem(xs, (slice(None),) * (len(shape_of(xs)) - 1) + (lo,)), -1, 0) \
        if lo.ndim else getitem(xs, (slice(None),) * (len(shape_of(xs)) - 1) + (int(lo),))
    vhi = moveaxis(getitem(xs, (slice(None),) * (len(shape_of(xs)) - 1) + (hi,)), -1, 0) \
        if hi.ndim else getitem(xs, (slice(None),) * (len(shape_of(xs)) - 1) + (int(hi),))
    fr = np.asarray(frac, xs.dtype).reshape(np.shape(frac) + (1,) * (len(shape_of(vlo)) - np.ndim(frac)))
    r = add(vlo, multiply(subtract(vhi, vlo), fr))
    if keepdims:
        shp = [1 if (axis is None or i in ax_list) else d for i, d in enumerate(shape_of(a))]
        r = reshape(r, np.shape(q) + tuple(shp))
    return r


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None, interpolation=None):
    return quantile(a, np.asarray(q) / 100.0, axis, None, False, method, keepdims,
                    weights=weights, interpolation=interpolation)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    return quantile(a, 0.5, axis, keepdims=keepdims)


# nan-variants: NaNs replaced by the operation's identity, with traced masks ------------------

def _nanmask(a):
    from frechet._src.numpy.ufuncs import isnan  # lazy: cycle: ufuncs -> reductions at load
    return isnan(a)


def _fill_nan(a, value):
    from frechet._src.numpy.misc import where  # lazy: cycle: misc -> reductions at load
    a = asarray(a)
    if a.dtype.kind not in "fc":
        return a
    return where(_nanmask(a), np.asarray(value, a.dtype), a)


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue, where=True):
    return sum(_fill_nan(a, 0), axis, dtype, None, keepdims, initial, where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue, where=True):
    return prod(_fill_nan(a, 1), axis, dtype, None, keepdims, initial, where)


def _all_nan_to_nan(r, a, axis, keepdims):
    """Slices that are all NaN give NaN (as NumPy's nanmax/nanmin do), not the fill value."""
    from frechet._src.numpy.misc import where  # lazy: cycle: misc -> reductions at load
    a = asarray(a)
    if a.dtype.kind not in "fc":
        return r
    return where(all(_nanmask(a), axis=axis, keepdims=keepdims), np.asarray(np.nan, r.dtype), r)


def nanmax(a, axis=None, out=None, keepdims=False, initial=np._NoValue, where=True):
    r = max(_fill_nan(a, -np.inf), axis, None, keepdims, initial, where)
    return _all_nan_to_nan(r, a, axis, keepdims)


def nanmin(a, axis=None, out=None, keepdims=False, initial=np._NoValue, where=True):
    r = min(_fill_nan(a, np.inf), axis, None, keepdims, initial, where)
    return _all_nan_to_nan(r, a, axis, keepdims)


def nanargmax(a, axis=None, out=None, *, keepdims=False):
    return argmax(_fill_nan(a, -np.inf), axis, keepdims=keepdims)


def nanargmin(a, axis=None, out=None, *, keepdims=False):
    return argmin(_fill_nan(a, np.inf), axis, keepdims=keepdims)


def _notnan(a, where):
    """The entries that count: not NaN, and selected by `where`."""
    from frechet._src.numpy.ufuncs import (  # lazy: cycle: ufuncs -> reductions at load
        logical_and,
        logical_not,
    )
    keep = logical_not(_nanmask(a))
    return keep if where is True else logical_and(keep, where)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    from frechet._src.numpy.misc import where as _where  # lazy: cycle: misc -> reductions at load
    from frechet._src.numpy.ufuncs import divide  # lazy: cycle: ufuncs -> reductions at load
    a = asarray(a)
    dt = np.dtype(dtype) if dtype is not None else float_dtype(a)
    keep = _notnan(a, where)
    total = sum(_where(keep, fit(a, dt, shape_of(a)), np.zeros((), dt)), axis, keepdims=keepdims)
    return divide(total, sum(keep, axis, dtype=dt, keepdims=keepdims))


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=None,
           correction=None):
    from frechet._src.numpy.misc import real  # lazy: cycle: misc -> reductions at load
    from frechet._src.numpy.misc import where as _where  # lazy: cycle: misc -> reductions at load
    from frechet._src.numpy.ufuncs import (  # lazy: cycle: ufuncs -> reductions at load
        conjugate,
        divide,
        maximum,
        multiply,
        subtract,
    )
    if correction is not None:
        ddof = correction
    a = asarray(a)
    dt = np.dtype(dtype) if dtype is not None else float_dtype(a)
    a = fit(a, dt, shape_of(a))
    keep = _notnan(a, where)
    m = nanmean(a, axis, keepdims=True, where=where) if mean is None else mean
    d = _where(keep, subtract(a, m), np.zeros((), dt))
    sq = real(multiply(d, conjugate(d))) if dt.kind == "c" else multiply(d, d)
    n = sum(keep, axis, dtype=sq.dtype, keepdims=keepdims)
    return divide(sum(sq, axis, keepdims=keepdims), maximum(subtract(n, ddof), 0))


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=None,
           correction=None):
    # Note: the zero subgradient where the std is 0, as for std.
    return _sqrt_zero_subgradient(nanvar(a, axis, dtype, None, ddof, keepdims, where=where,
                                        mean=mean, correction=correction))


def _nan_order(fn, a, q, axis, keepdims, **kw):
    c = concrete(a, "nan-quantiles")
    if not np.isnan(c).any():
        return fn(a, q, axis, keepdims=keepdims, **kw)
    if axis is None:
        keep = np.nonzero(~np.isnan(np.ravel(c)))[0]
        return fn(getitem(ravel(a), (keep,)), q, None, keepdims=keepdims, **kw)
    raise NotImplementedError("nan-quantiles along an axis with NaNs are not supported on traced "
                              "values")


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None, interpolation=None):
    return _nan_order(quantile, a, q, axis, keepdims, method=method)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False, *, weights=None, interpolation=None):
    return _nan_order(percentile, a, q, axis, keepdims, method=method)


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    return _nan_order(quantile, a, 0.5, axis, keepdims)


# cumulative -------------------------------------------------------------------------------------

def _cum(prim, a, axis, dtype):
    a = asarray(a)
    if dtype is None:
        dtype = _sum_dtype(a)
    if dtype is not None:
        a = fit(a, np.dtype(dtype), shape_of(a))
    if axis is None:
        a, axis = ravel(a), 0
    return prim.bind(a, axis=normalize_one_axis(axis, len(shape_of(a))))


def cumsum(a, axis=None, dtype=None, out=None):
    return _cum(R.cumsum_p, a, axis, dtype)


def cumprod(a, axis=None, dtype=None, out=None):
    return _cum(R.cumprod_p, a, axis, dtype)


def nancumsum(a, axis=None, dtype=None, out=None):
    return cumsum(_fill_nan(a, 0), axis, dtype)


def nancumprod(a, axis=None, dtype=None, out=None):
    return cumprod(_fill_nan(a, 1), axis, dtype)


def _cumulative(prim, x, axis, dtype, include_initial, identity):
    x = asarray(x)
    if axis is None:
        if len(shape_of(x)) > 1:
            raise ValueError("axis must be specified for multi-dimensional arrays")
        axis = 0
    r = _cum(prim, x, axis, dtype)
    if include_initial:
        ax = normalize_one_axis(axis, len(shape_of(r)))
        shp = tuple(1 if i == ax else n for i, n in enumerate(shape_of(r)))
        r = concatenate([np.full(shp, identity, r.dtype), r], axis=ax)
    return r


def cumulative_sum(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    return _cumulative(R.cumsum_p, x, axis, dtype, include_initial, 0)


def cumulative_prod(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    return _cumulative(R.cumprod_p, x, axis, dtype, include_initial, 1)


def cumulative_extreme(a, axis, is_max):
    a = asarray(a)
    ax = normalize_one_axis(axis, len(shape_of(a)))
    return (R.cummax_p if is_max else R.cummin_p).bind(a, axis=ax)



