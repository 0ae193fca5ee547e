"""Sorting, searching and set operations (histograms: histograms.py).

Sorted values are differentiable (a permutation of the input). Indices, counts and memberships
are integer or boolean and have no derivative; they are computed from concrete values. Unique
values are gathered from the input, so they carry its derivative.
"""

from __future__ import annotations

import numpy as np
from frechet._src.core.trace import concrete
from frechet._src.numpy.base import (
    asarray,
    fit,
    float_dtype,
    normalize_one_axis,
    result_dtype,
    shape_of,
)
from frechet._src.numpy.manipulation import concatenate, ravel
from frechet._src.prims import indexing as ix
from frechet._src.prims import sorting as S


def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    return S.sort_p.bind(a, axis=normalize_one_axis(axis, len(shape_of(a))))


def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    return S.argsort_p.bind(a, axis=normalize_one_axis(axis, len(shape_of(a))))


def sort_complex(a):
    a = ravel(asarray(a)) if len(shape_of(a)) != 1 else asarray(a)
    a = fit(a, np.result_type(a.dtype, np.complex64), shape_of(a))
    return ix.getitem(a, (S.argsort_p.bind(a, axis=0),))    # lexicographic: real, then imag


def partition(a, kth, axis=-1, kind="introselect", order=None):
    # Note: returns a full sort, which is one valid partition.
    return sort(a, axis)


def argpartition(a, kth, axis=-1, kind="introselect", order=None):
    return argsort(a, axis)


def lexsort(keys, axis=-1):
    return np.lexsort([concrete(k, "np.lexsort") for k in keys], axis)


def searchsorted(a, v, side="left", sorter=None):
    return np.searchsorted(concrete(a, "np.searchsorted"), concrete(v, "np.searchsorted"), side,
                           sorter)


def digitize(x, bins, right=False):
    return np.digitize(concrete(x, "np.digitize"), concrete(bins, "np.digitize"), right)


def bincount(x, weights=None, minlength=0):
    xc = concrete(x, "np.bincount")
    if weights is None:
        return np.bincount(xc, minlength=minlength)
    w = asarray(weights)
    n = max(int(xc.max()) + 1 if xc.size else 0, minlength)
    w = fit(w, float_dtype(w), shape_of(w))
    return ix.index_add_p.bind(np.zeros(n, w.dtype), w, xc.astype(np.intp), index=(("a",),))


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True, sorted=True):
    c = concrete(ar, "np.unique")
    if axis is not None:
        raise NotImplementedError("np.unique(axis=...) is not supported on traced values")
    _, index, inverse, counts = np.unique(c, True, True, True, equal_nan=equal_nan)
    out = [ix.getitem(ravel(ar), (index,))]
    if return_index:
        out.append(index)
    if return_inverse:
        out.append(inverse.reshape(np.shape(c)) if c.ndim > 1 else inverse)
    if return_counts:
        out.append(counts)
    return out[0] if len(out) == 1 else tuple(out)


def unique_values(x):
    return unique(x)


def unique_counts(x):
    from collections import namedtuple
    v, c = unique(x, return_counts=True)
    return namedtuple("UniqueCountsResult", "values counts")(v, c)


def unique_inverse(x):
    from collections import namedtuple
    v, i = unique(x, return_inverse=True)
    return namedtuple("UniqueInverseResult", "values inverse_indices")(
        v, i.reshape(shape_of(x)))


def unique_all(x):
    from collections import namedtuple
    v, idx, inv, cnt = unique(x, True, True, True)
    return namedtuple("UniqueAllResult", "values indices inverse_indices counts")(
        v, idx, inv.reshape(shape_of(x)), cnt)


def isin(element, test_elements, assume_unique=False, invert=False, *, kind=None):
    return np.isin(concrete(element, "np.isin"), concrete(test_elements, "np.isin"),
                   assume_unique, invert)


def _set_op(name):
    def f(ar1, ar2, *args, **kwargs):
        a = np.ravel(concrete(ar1, f"np.{name}"))
        b = np.ravel(concrete(ar2, f"np.{name}"))
        vals = getattr(np, name)(a, b, *args, **kwargs)
        both = np.concatenate([a, b])
        # gather each result value from the first input holding it, so values carry derivatives
        dt = result_dtype(ar1, ar2)
        src = concatenate([fit(ravel(asarray(ar1)), dt, (a.size,)), fit(ravel(asarray(ar2)), dt, (b.size,))])
        pos = np.array([np.flatnonzero(both == v)[0] for v in np.ravel(vals)], dtype=np.intp)
        return ix.getitem(src, (pos,))
    f.__name__ = name
    return f


intersect1d = _set_op("intersect1d")
union1d = _set_op("union1d")
setdiff1d = _set_op("setdiff1d")
setxor1d = _set_op("setxor1d")


def trim_zeros(filt, trim="fb", axis=None):
    c = concrete(filt, "np.trim_zeros")
    nz = np.flatnonzero(c)
    start = nz[0] if ("f" in trim and nz.size) else (c.size if nz.size == 0 else 0)
    stop = nz[-1] + 1 if ("b" in trim and nz.size) else (0 if nz.size == 0 else c.size)
    return ix.getitem(asarray(filt), (slice(int(start), int(max(stop, start))),))


# Printing and bit packing work on concrete values (no derivative is involved).

def array2string(a, *args, **kwargs):
    return np.array2string(concrete(a, "np.array2string"), *args, **kwargs)


def array_repr(arr, *args, **kwargs):
    return np.array_repr(concrete(arr, "np.array_repr"), *args, **kwargs)


def array_str(a, *args, **kwargs):
    return np.array_str(concrete(a, "np.array_str"), *args, **kwargs)


def packbits(a, *args, **kwargs):
    return np.packbits(concrete(a, "np.packbits"), *args, **kwargs)


def unpackbits(a, *args, **kwargs):
    return np.unpackbits(concrete(a, "np.unpackbits"), *args, **kwargs)
