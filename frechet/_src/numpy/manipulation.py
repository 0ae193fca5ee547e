"""Shape manipulation, joining and splitting, and indexing, as compositions of primitives."""

from __future__ import annotations

import builtins
import itertools
import math

import numpy as np
from frechet._src.core.backend import dtype_of, is_foreign, to_host
from frechet._src.core.trace import Tracer, concrete
from frechet._src.errors import ShapeError
from frechet._src.numpy.base import (
    asarray,
    broadcast_shapes,
    fit,
    normalize_axis,
    normalize_one_axis,
    result_dtype,
    shape_of,
)
from frechet._src.prims import indexing as ix
from frechet._src.prims import shape as S
from frechet._src.warn import warn


def _nd(x):
    return len(shape_of(x))


def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C":
        raise NotImplementedError("reshape: only order='C' is supported on traced values")
    shape = newshape if shape is None else shape
    a = asarray(a)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    size = math.prod(shape_of(a))
    if -1 in shape:
        known = math.prod([s for s in shape if s != -1])
        if shape.count(-1) > 1 or known == 0 or size % known:
            raise ShapeError(f"cannot reshape array of size {size} into shape {shape}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    if math.prod(shape) != size:
        raise ShapeError(f"cannot reshape array of size {size} into shape {shape}")
    return S.reshape(a, shape)


def ravel(a, order="C"):
    return reshape(a, (-1,), order)


def transpose(a, axes=None):
    a = asarray(a)
    nd = _nd(a)
    axes = tuple(range(nd))[::-1] if axes is None else tuple(normalize_one_axis(x, nd) for x in axes)
    if sorted(axes) != list(range(nd)):
        raise ValueError("axes don't match array")
    return S.transpose(a, axes)


permute_dims = transpose


def matrix_transpose(x):
    x = asarray(x)
    if _nd(x) < 2:
        raise ValueError("matrix_transpose needs at least 2 dimensions")
    return swapaxes(x, -1, -2)


def swapaxes(a, axis1, axis2):
    a = asarray(a)
    nd = _nd(a)
    p = list(range(nd))
    i, j = normalize_one_axis(axis1, nd), normalize_one_axis(axis2, nd)
    p[i], p[j] = p[j], p[i]
    return S.transpose(a, p)


def moveaxis(a, source, destination):
    a = asarray(a)
    nd = _nd(a)
    src = [normalize_one_axis(s, nd) for s in np.atleast_1d(source)]
    dst = [normalize_one_axis(d, nd) for d in np.atleast_1d(destination)]
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return S.transpose(a, order)


def rollaxis(a, axis, start=0):
    nd = _nd(a)
    axis = normalize_one_axis(axis, nd)
    start = start % (nd + 1) if start < 0 else start
    if axis < start:
        start -= 1
    return moveaxis(a, axis, start) if axis != start else asarray(a)


def squeeze(a, axis=None):
    a = asarray(a)
    s = shape_of(a)
    axes = [i for i, n in enumerate(s) if n == 1] if axis is None else normalize_axis(axis, len(s))
    for i in axes:
        if s[i] != 1:
            raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    return S.reshape(a, tuple(n for i, n in enumerate(s) if i not in axes))


def expand_dims(a, axis):
    a = asarray(a)
    s = list(shape_of(a))
    axes = normalize_axis(axis, len(s) + (1 if isinstance(axis, (int, np.integer)) else len(axis)))
    for i in axes:
        s.insert(i, 1)
    return S.reshape(a, tuple(s))


def atleast_1d(*arys):
    out = [reshape(a, (1,)) if _nd(a) == 0 else asarray(a) for a in arys]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_2d(*arys):
    out = []
    for a in arys:
        a = asarray(a)
        out.append(reshape(a, (1,) * (2 - _nd(a)) + shape_of(a)) if _nd(a) < 2 else a)
    return out[0] if len(out) == 1 else tuple(out)


def atleast_3d(*arys):
    out = []
    for a in arys:
        a = asarray(a)
        s = shape_of(a)
        new = {0: (1, 1, 1), 1: (1, *s, 1), 2: (*s, 1)}.get(len(s), s)
        out.append(reshape(a, new))
    return out[0] if len(out) == 1 else tuple(out)


def broadcast_to(array, shape, subok=False):
    array = asarray(array)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if broadcast_shapes(shape_of(array), shape, what="array and shape") != shape:
        raise ShapeError(f"cannot broadcast shape {shape_of(array)} to {shape}")
    return fit(array, array.dtype, shape)


def broadcast_arrays(*args, subok=False):
    shape = broadcast_shapes(*[shape_of(a) for a in args])
    return tuple(broadcast_to(a, shape) for a in args)


# joining -------------------------------------------------------------------------------------

def concatenate(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    arrays = [asarray(a) for a in arrays]
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    dt = np.dtype(dtype) if dtype is not None else result_dtype(*arrays)
    nd = _nd(arrays[0])
    if nd == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    axis = normalize_one_axis(axis, nd)
    arrays = [fit(a, dt, shape_of(a)) for a in arrays]
    if len(arrays) == 1:
        return arrays[0]
    return S.concatenate_p.bind(*[a if isinstance(a, Tracer) or is_foreign(a) else
                                  np.ascontiguousarray(a) for a in arrays], axis=axis)


concat = concatenate


def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    arrays = [asarray(a) for a in arrays]
    shapes = {shape_of(a) for a in arrays}
    if len(shapes) != 1:
        raise ValueError("all input arrays must have the same shape")
    axis = normalize_one_axis(axis, _nd(arrays[0]) + 1)
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis, dtype=dtype)


def vstack(tup, *, dtype=None, casting="same_kind"):
    return concatenate(atleast_2d(*tup) if len(tup) > 1 else [atleast_2d(tup[0])], 0, dtype=dtype)


row_stack = vstack


def hstack(tup, *, dtype=None, casting="same_kind"):
    arrs = [atleast_1d(a) for a in tup]
    return concatenate(arrs, 0 if _nd(arrs[0]) == 1 else 1, dtype=dtype)


def dstack(tup):
    return concatenate([atleast_3d(a) for a in tup], 2)


def column_stack(tup):
    return concatenate([reshape(a, (-1, 1)) if _nd(a) < 2 else asarray(a) for a in tup], 1)


def block(arrays):
    def depth(x):
        return 1 + depth(x[0]) if isinstance(x, list) else 0
    d = depth(arrays)

    def rec(x, level):
        if not isinstance(x, list):
            a = asarray(x)
            return reshape(a, (1,) * (d - _nd(a)) + shape_of(a)) if _nd(a) < d else a
        return concatenate([rec(e, level + 1) for e in x], axis=-(d - level))
    return rec(arrays, 0)


def unstack(x, /, *, axis=0):
    x = moveaxis(asarray(x), axis, 0)
    return tuple(x[i] for i in range(shape_of(x)[0]))


# splitting -------------------------------------------------------------------------------------

def array_split(ary, indices_or_sections, axis=0):
    ary = asarray(ary)
    axis = normalize_one_axis(axis, _nd(ary))
    n = shape_of(ary)[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0:
            raise ValueError("number sections must be larger than 0.")
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
        bounds = np.concatenate([[0], np.cumsum(sizes)])
    else:
        bounds = [0, *[int(i) for i in indices_or_sections], n]
    pre = (slice(None),) * axis
    out = []
    for a, b in itertools.pairwise(bounds):
        lo = builtins.min(int(a), n)
        out.append(ix.getitem(ary, pre + (slice(lo, builtins.min(builtins.max(int(b), lo), n)),)))
    return out


def split(ary, indices_or_sections, axis=0):
    if isinstance(indices_or_sections, (int, np.integer)):
        n = shape_of(ary)[normalize_one_axis(axis, _nd(ary))]
        if n % indices_or_sections:
            raise ValueError("array split does not result in an equal division")
    return array_split(ary, indices_or_sections, axis)


def hsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, 1 if _nd(ary) > 1 else 0)


def vsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, 0)


def dsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, 2)


# indexing ---------------------------------------------------------------------------------------

def normalize_index(idx, shape):
    """A NumPy index as a tuple of slices, ints, None and integer arrays: Ellipsis expanded,
    boolean masks turned into integer arrays (they need concrete values)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    for e in idx:
        if isinstance(e, Tracer):
            if e.dtype == np.bool_:
                out.extend(np.nonzero(concrete(e, "boolean-mask indexing")))
                continue
            if e.dtype.kind not in "iu":
                raise IndexError("arrays used as indices must be of integer (or boolean) type")
            c = e.concrete()
            out.append(e if c is None else to_host(c))
            continue
        if isinstance(e, (list, np.ndarray)) or (hasattr(e, "__array__") and not isinstance(e, slice)):
            arr = np.asarray(e) if isinstance(e, (list, np.ndarray)) else to_host(e)   # indices
            if arr.dtype == np.bool_:
                out.extend(np.nonzero(arr))
                continue
            if arr.dtype.kind not in "iu" and arr.size:
                raise IndexError("arrays used as indices must be of integer (or boolean) type")
            out.append(arr.astype(np.intp))
            continue
        if isinstance(e, (bool, np.bool_)):
            raise IndexError("boolean scalar indices are not supported on traced values")
        out.append(e)
    n_real = sum(1 for e in out if e is not None and e is not Ellipsis)
    ell = [k for k, e in enumerate(out) if e is Ellipsis]
    if len(ell) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if ell:
        k = ell[0]
        out[k:k + 1] = [slice(None)] * (len(shape) - n_real)
    elif n_real < len(shape):
        out.extend([slice(None)] * (len(shape) - n_real))
    if n_real > len(shape):
        raise IndexError(f"too many indices for array: array is {len(shape)}-dimensional, "
                         f"but {n_real} were indexed")
    d = 0
    for e in out:
        if e is None:
            continue
        if isinstance(e, (int, np.integer)) and not -shape[d] <= e < shape[d]:
            raise IndexError(f"index {e} is out of bounds for axis {d} with size {shape[d]}")
        d += 1
    return tuple(out)


def getitem(x, idx):
    return ix.getitem(x, normalize_index(idx, shape_of(x)))


def setitem(x, idx, value):
    """The value of x with x[idx] = value (a new value; the caller rebinds)."""
    if isinstance(value, (list, tuple)):    # [traced, 0.0]: stacked as np.array would
        value = asarray(value)
    if type(value) is complex and x.dtype.kind != "c":     # as NumPy refuses it
        raise TypeError(f"{'float' if x.dtype.kind == 'f' else 'int'}() argument must be a "
                        "string or a real number, not 'complex'")
    if np.dtype(getattr(value, "dtype", np.float64)).kind == "c" and x.dtype.kind != "c":
        warn("Casting complex values to real discards the imaginary part", np.exceptions.ComplexWarning)
    idx = normalize_index(idx, shape_of(x))
    index, arrays = ix.encode(idx)
    target = ix._result_shape(tuple(shape_of(x)), index, tuple(np.shape(a) for a in arrays))
    v = fit(asarray(value), x.dtype, broadcast_shapes(shape_of(value), target, what="value and "
                                                       "indexed array")) \
        if shape_of(value) != target else fit(asarray(value), x.dtype, target)
    if shape_of(v) != target:
        raise ShapeError(f"could not broadcast input array from shape {shape_of(value)} into "
                         f"shape {target}")
    return ix.index_set_p.bind(x, v, *arrays, index=index)


def index_add(x, idx, value):
    idx = normalize_index(idx, shape_of(x))
    index, arrays = ix.encode(idx)
    target = ix._result_shape(tuple(shape_of(x)), index, tuple(np.shape(a) for a in arrays))
    return ix.index_add_p.bind(x, fit(asarray(value), x.dtype, target), *arrays, index=index)


def take(a, indices, axis=None, out=None, mode="raise"):
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_one_axis(axis, _nd(a))
    n = shape_of(a)[axis]
    if isinstance(indices, Tracer):     # traced indices (under vmap, say): NumPy's own checks
        if indices.dtype.kind not in "iu":
            raise IndexError("arrays used as indices must be of integer type")
        if mode in ("wrap", "clip"):
            from frechet._src.numpy.misc import clip  # lazy: cycle: misc -> manipulation at load
            from frechet._src.numpy.ufuncs import (
                remainder,  # lazy: cycle: ufuncs -> manipulation at load
            )
            indices = remainder(indices, n) if mode == "wrap" else clip(indices, 0, n - 1)
        return ix.getitem(a, (slice(None),) * axis + (indices,))
    ind = np.asarray(indices)
    if mode == "wrap":
        ind = ind % n
    elif mode == "clip":
        ind = np.clip(ind, 0, n - 1)
    elif np.any((ind < -n) | (ind >= n)):
        raise IndexError(f"index out of bounds for axis {axis} with size {n}")
    return ix.getitem(a, (slice(None),) * axis + (ind,))


def take_along_axis(arr, indices, axis=-1):
    arr = asarray(arr)
    if axis is None:
        arr, axis = ravel(arr), 0
    axis = normalize_one_axis(axis, _nd(arr))
    ind = asarray(indices)            # may be traced (an argsort of traced values, say)
    if dtype_of(ind).kind not in "iu":
        raise IndexError("`indices` must be an integer array")
    shape = list(broadcast_shapes(tuple(1 if i == axis else n for i, n in enumerate(shape_of(arr))),
                                  tuple(1 if i == axis else n for i, n in enumerate(shape_of(ind)))))
    ind = broadcast_to(ind, tuple(shape_of(ind)[axis] if i == axis else n for i, n in enumerate(shape)))
    arr = broadcast_to(arr, tuple(shape_of(arr)[axis] if i == axis else n for i, n in enumerate(shape)))
    return ix.take_along_axis(arr, ind, axis)


def _mesh(ind, axis):
    mesh = []
    for d in range(ind.ndim):
        if d == axis:
            mesh.append(ind)
        else:
            s = [1] * ind.ndim
            s[d] = ind.shape[d]
            mesh.append(np.broadcast_to(np.arange(ind.shape[d]).reshape(s), ind.shape))
    return tuple(mesh)


def put_along_axis(arr, indices, values, axis):
    """Note: NumPy writes into `arr` in place; on traced values the result is returned and `arr`
    (if traced) is rebound."""
    from frechet._src.numpy.ufuncs import rebind  # lazy: cycle: ufuncs -> manipulation at load
    a = asarray(arr)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_one_axis(axis, _nd(a))
    ind = np.asarray(concrete(indices, "np.put_along_axis indices"))
    ind = np.broadcast_to(ind, broadcast_shapes(ind.shape, np.shape(values) if not isinstance(values, Tracer) else shape_of(values)))
    res = setitem(a, _mesh(ind, axis), broadcast_to(asarray(values), ind.shape))
    if isinstance(arr, Tracer):
        rebind(arr, res)
        return None
    return res


def compress(condition, a, axis=None, out=None):
    cond = np.asarray(concrete(condition, "np.compress condition"), bool)
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_one_axis(axis, _nd(a))
    return ix.getitem(a, (slice(None),) * axis + (np.nonzero(cond)[0],))


def extract(condition, arr):
    cond = np.asarray(concrete(condition, "np.extract condition"), bool)
    return ix.getitem(ravel(arr), (np.nonzero(np.ravel(cond))[0],))


def choose(a, choices, out=None, mode="raise"):
    idx = np.asarray(concrete(a, "np.choose index"))
    n = len(choices)
    if mode == "wrap":
        idx = idx % n
    elif mode == "clip":
        idx = np.clip(idx, 0, n - 1)
    elif np.any((idx < 0) | (idx >= n)):
        raise ValueError("invalid entry in choice array")
    stacked = stack(broadcast_arrays(*choices, np.zeros(idx.shape))[:-1])
    shape = shape_of(stacked)[1:]
    idx = np.broadcast_to(idx, shape)
    return ix.getitem(stacked, (idx,) + tuple(np.indices(shape, sparse=True)))


def diagonal(a, offset=0, axis1=0, axis2=1):
    a = asarray(a)
    nd = _nd(a)
    i, j = normalize_one_axis(axis1, nd), normalize_one_axis(axis2, nd)
    a = moveaxis(a, (i, j), (-2, -1))
    n, m = shape_of(a)[-2:]
    if offset >= 0:
        k = builtins.max(0, builtins.min(n, m - offset))
        r, c = np.arange(k), np.arange(k) + offset
    else:
        k = builtins.max(0, builtins.min(n + offset, m))
        r, c = np.arange(k) - offset, np.arange(k)
    return ix.getitem(a, (slice(None),) * (_nd(a) - 2) + (r, c))


def diag(v, k=0):
    v = asarray(v)
    if _nd(v) == 2:
        return diagonal(v, k)
    if _nd(v) != 1:
        raise ValueError("Input must be 1- or 2-d.")
    n = shape_of(v)[0] + abs(k)
    r = np.arange(shape_of(v)[0]) + builtins.max(0, -k)
    c = np.arange(shape_of(v)[0]) + builtins.max(0, k)
    return ix.index_add_p.bind(np.zeros((n, n), v.dtype), v, r, c,
                               index=(("a",), ("a",)))


def diagflat(v, k=0):
    return diag(ravel(v), k)


def _tri_mask(shape, k, lower):
    n, m = shape[-2:]
    mask = np.tri(n, m, k, dtype=bool)
    return mask if lower else ~np.tri(n, m, k - 1, dtype=bool)


def tril(m, k=0):
    from frechet._src.numpy.misc import where  # lazy: cycle: misc -> manipulation at load
    m = asarray(m)
    return where(np.broadcast_to(_tri_mask(shape_of(m), k, True), shape_of(m)), m,
                 np.zeros((), dtype_of(m)))


def triu(m, k=0):
    from frechet._src.numpy.misc import where  # lazy: cycle: misc -> manipulation at load
    m = asarray(m)
    return where(np.broadcast_to(_tri_mask(shape_of(m), k, False), shape_of(m)), m,
                 np.zeros((), dtype_of(m)))


def flip(m, axis=None):
    m = asarray(m)
    axes = normalize_axis(axis, _nd(m))
    return ix.getitem(m, tuple(slice(None, None, -1) if d in axes else slice(None)
                               for d in range(_nd(m))))


def fliplr(m):
    return flip(m, 1)


def flipud(m):
    return flip(m, 0)


def rot90(m, k=1, axes=(0, 1)):
    m = asarray(m)
    k %= 4
    a0, a1 = axes
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, a0), a1)
    p = list(range(_nd(m)))
    a0n, a1n = normalize_one_axis(a0, _nd(m)), normalize_one_axis(a1, _nd(m))
    p[a0n], p[a1n] = p[a1n], p[a0n]
    return S.transpose(flip(m, a1), p) if k == 1 else flip(S.transpose(m, p), a1)


def roll(a, shift, axis=None):
    a = asarray(a)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), shape_of(a))
    shifts = np.broadcast_to(shift, np.shape(axis)).tolist() if np.ndim(axis) else [shift]
    axes = np.atleast_1d(axis).tolist()
    for s, ax in zip(np.atleast_1d(shifts), axes):
        ax = normalize_one_axis(ax, _nd(a))
        n = shape_of(a)[ax]
        if n:
            idx = (np.arange(n) - int(s)) % n
            a = ix.getitem(a, (slice(None),) * ax + (idx,))
    return a


def tile(A, reps):
    A = asarray(A)
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    nd = builtins.max(_nd(A), len(reps))
    A = reshape(A, (1,) * (nd - _nd(A)) + shape_of(A))
    reps = (1,) * (nd - len(reps)) + reps
    idx = tuple(np.arange(n * r) % n if r != 1 else slice(None)
                for n, r in zip(shape_of(A), reps))
    arrays = [i for i in idx if not isinstance(i, slice)]
    if not arrays:
        return A
    # index one axis at a time (advanced indices on several axes would pair up)
    for d, i in enumerate(idx):
        if not isinstance(i, slice):
            A = ix.getitem(A, (slice(None),) * d + (i,))
    return A


def repeat(a, repeats, axis=None):
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_one_axis(axis, _nd(a))
    reps = np.broadcast_to(np.asarray(concrete(repeats, "np.repeat counts")), (shape_of(a)[axis],))
    return ix.getitem(a, (slice(None),) * axis + (np.repeat(np.arange(shape_of(a)[axis]), reps),))


def resize(a, new_shape):
    a = ravel(a)
    new_shape = (new_shape,) if isinstance(new_shape, (int, np.integer)) else tuple(new_shape)
    n = math.prod(new_shape)
    size = shape_of(a)[0]
    if size == 0 or n == 0:
        return np.zeros(new_shape, a.dtype)
    return reshape(ix.getitem(a, (np.arange(n) % size,)), new_shape)


def append(arr, values, axis=None):
    if axis is None:
        return concatenate([ravel(arr), ravel(values)])
    return concatenate([arr, values], axis=axis)


def delete(arr, obj, axis=None):
    arr = asarray(arr)
    if axis is None:
        arr, axis = ravel(arr), 0
    axis = normalize_one_axis(axis, _nd(arr))
    n = shape_of(arr)[axis]
    keep = np.ones(n, bool)
    keep[np.arange(n)[obj] if isinstance(obj, slice) else np.asarray(obj)] = False
    return ix.getitem(arr, (slice(None),) * axis + (np.nonzero(keep)[0],))


def insert(arr, obj, values, axis=None):
    arr = asarray(arr)
    if axis is None:
        arr, axis = ravel(arr), 0
    axis = normalize_one_axis(axis, _nd(arr))
    n = shape_of(arr)[axis]
    pos = np.arange(n)[obj] if isinstance(obj, slice) else np.asarray(obj)
    if pos.dtype.kind not in "iu":
        raise IndexError("index array argument obj to insert must be one dimensional or scalar")
    if np.any((pos < -n) | (pos > n)):
        raise IndexError(f"index {obj} is out of bounds for axis {axis} with size {n}")
    pos = np.where(pos < 0, pos + n, pos)            # negative positions count from n, as NumPy
    vals = fit(asarray(values), arr.dtype, shape_of(values))
    shape = list(shape_of(arr))
    if pos.ndim == 0:      # every value goes in at one position, along `axis`
        vals = reshape(vals, (1,) * (_nd(arr) - _nd(vals)) + shape_of(vals))
        vals = moveaxis(vals, 0, axis)
        shape[axis] = shape_of(vals)[axis]
        pos = np.full(shape[axis], int(pos))
    else:
        shape[axis] = pos.size
    vals = broadcast_to(vals, tuple(shape))
    order = np.argsort(np.concatenate([np.arange(n), pos - 0.5]), kind="stable")
    joined = concatenate([arr, vals], axis=axis)
    return ix.getitem(joined, (slice(None),) * axis + (order,))


def pad(array, pad_width, mode="constant", **kwargs):
    array = asarray(array)
    nd = _nd(array)
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (nd, 2))
    out = array
    for d in range(nd):
        lo, hi = int(pw[d, 0]), int(pw[d, 1])
        if lo == hi == 0:
            continue
        n = shape_of(out)[d]
        if mode == "constant":
            cv = np.broadcast_to(np.asarray(kwargs.get("constant_values", 0)), (nd, 2))
            shape = list(shape_of(out))
            shape[d] = n + lo + hi
            base = np.zeros(shape, dtype_of(out))
            sl = [slice(None)] * nd
            sl[d] = slice(0, lo)
            base[tuple(sl)] = cv[d, 0]
            sl[d] = slice(lo + n, None)
            base[tuple(sl)] = cv[d, 1]
            sl[d] = slice(lo, lo + n)
            out = ix.index_add_p.bind(base, fit(out, out.dtype, shape_of(out)),
                                      index=tuple(("s", s.start, s.stop, s.step) for s in sl))
            continue
        src = np.arange(-lo, n + hi)
        if mode == "edge":
            idx = np.clip(src, 0, n - 1)
        elif mode == "wrap":
            idx = src % n
        elif mode in ("reflect", "symmetric"):
            period = 2 * n - 2 if mode == "reflect" else 2 * n
            period = builtins.max(period, 1)
            m = src % period
            idx = np.where(m < n, m, period - m - (0 if mode == "reflect" else 1))
        else:
            raise NotImplementedError(f"np.pad mode {mode!r} is not supported on traced values")
        out = ix.getitem(out, (slice(None),) * d + (idx,))
    return out


def copy(a, order="K", subok=False):
    return asarray(a)


def astype(x, dtype, /, *, copy=True, device=None):
    return fit(asarray(x), np.dtype(dtype), shape_of(x))


def shape(a):
    return shape_of(a)


def ndim(a):
    return len(shape_of(a))


def size(a, axis=None):
    s = shape_of(a)
    return math.prod(s) if axis is None else s[axis]

