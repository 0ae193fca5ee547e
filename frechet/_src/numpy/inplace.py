"""NumPy's in-place functions (put, putmask, place, fill_diagonal, copyto) on traced arrays:
the traced array is rebound to its updated value. Plus apply_along_axis/apply_over_axes and the
index helpers that depend only on shapes."""

from __future__ import annotations

import math

import numpy as np
from frechet._src.core.trace import Tracer, concrete
from frechet._src.numpy.aliasing import check_overlap, rebind
from frechet._src.numpy.base import asarray, fit, shape_of
from frechet._src.numpy.manipulation import expand_dims, moveaxis, ravel, reshape, setitem, stack
from frechet._src.numpy.misc import where as _where
from frechet._src.numpy.ufuncs import _store
from frechet._src.prims.indexing import getitem


def _rebind(a, new):
    if not isinstance(a, Tracer):
        _store(new, a)                  # raises, saying which array and what to do
    rebind(a, new)


def put(a, ind, v, mode="raise"):
    flat = ravel(a)
    idx = np.ravel(np.asarray(concrete(ind, "np.put indices")))
    vals = ravel(asarray(v))
    n = idx.size
    if shape_of(vals)[0] != n:
        vals = getitem(vals, (np.arange(n) % shape_of(vals)[0],))
    _rebind(a, reshape(setitem(flat, (idx,), vals), shape_of(a)))


def putmask(a, mask, values):
    m = np.asarray(concrete(mask, "np.putmask mask"), bool)
    vals = ravel(asarray(values))
    k = int(m.sum())
    pos = np.nonzero(np.ravel(m))[0]
    picked = getitem(vals, (pos % shape_of(vals)[0],))
    _rebind(a, reshape(setitem(ravel(a), (pos,), picked), shape_of(a)) if k else asarray(a))


def place(arr, mask, vals):
    m = np.asarray(concrete(mask, "np.place mask"), bool)
    pos = np.nonzero(np.ravel(m))[0]
    v = ravel(asarray(vals))
    picked = getitem(v, (np.arange(pos.size) % shape_of(v)[0],))
    _rebind(arr, reshape(setitem(ravel(arr), (pos,), picked), shape_of(arr)))


def fill_diagonal(a, val, wrap=False):
    shape = shape_of(a)
    if len(shape) == 2:          # NumPy's definition: every (m+1)-th element of the flat array
        step = shape[1] + 1
        end = None if wrap else shape[1] * shape[1]
    else:
        if len(set(shape)) != 1:
            raise ValueError("All dimensions of input must be of equal length")
        step = 1 + int(np.cumprod(shape[:-1]).sum())
        end = None
    idx = np.arange(math.prod(shape))[:end:step]
    vals = ravel(asarray(val))
    vals = getitem(vals, (np.arange(idx.size) % shape_of(vals)[0],))
    _rebind(a, reshape(setitem(ravel(a), (idx,), vals), shape))


def copyto(dst, src, casting="same_kind", where=True):
    check_overlap(dst, None, src)
    new = fit(asarray(src), asarray(dst).dtype, shape_of(dst))
    if where is not True:
        new = _where(np.broadcast_to(np.asarray(where, bool), shape_of(dst)), new, dst)
    _rebind(dst, new)


def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    arr = moveaxis(asarray(arr), axis, -1)
    outer = shape_of(arr)[:-1]
    flat = reshape(arr, (-1, shape_of(arr)[-1]))
    res = stack([asarray(func1d(flat[i], *args, **kwargs)) for i in range(shape_of(flat)[0])])
    res = reshape(res, outer + shape_of(res)[1:])
    nres = len(shape_of(res)) - len(outer)
    if nres == 0:
        return res
    ax = axis % (len(outer) + 1)
    return moveaxis(res, tuple(range(len(outer), len(outer) + nres)),
                    tuple(range(ax, ax + nres)))


def apply_over_axes(func, a, axes):
    val = asarray(a)
    for ax in np.atleast_1d(axes):
        res = func(val, int(ax))
        if len(shape_of(res)) == len(shape_of(val)) - 1:
            res = expand_dims(res, int(ax))
        val = res
    return val


def diag_indices_from(arr):
    return np.diag_indices(shape_of(arr)[0], len(shape_of(arr)))


def tril_indices_from(arr, k=0):
    return np.tril_indices(shape_of(arr)[-2], k, shape_of(arr)[-1])


def triu_indices_from(arr, k=0):
    return np.triu_indices(shape_of(arr)[-2], k, shape_of(arr)[-1])


def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    return np.ravel_multi_index(tuple(concrete(i, "np.ravel_multi_index") for i in multi_index),
                                dims, mode, order)


def unravel_index(indices, shape, order="C"):
    return np.unravel_index(concrete(indices, "np.unravel_index"), shape, order)


def may_share_memory(a, b, max_work=None):
    # Note: traced values are immutable; two of them never share memory.
    return False


def shares_memory(a, b, max_work=None):
    return False
