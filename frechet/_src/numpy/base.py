"""What every front-end function needs: recognising traced values, lifting operands, NumPy's
promotion (NEP 50) and broadcasting made explicit, axis normalisation."""

from __future__ import annotations

import math
import numbers

import numpy as np
from frechet._src.core.backend import dtype_of, is_foreign
from frechet._src.core.chunked import broadcast_like, first_chunked, is_chunked
from frechet._src.core.trace import Tracer, current
from frechet._src.errors import ShapeError
from frechet._src.prims import elementwise as ew
from frechet._src.prims.shape import broadcast_to, convert
from numpy import asarray as _np_asarray
from numpy import empty as _np_empty


def is_traced(x) -> bool:
    return isinstance(x, Tracer)


def any_traced(xs) -> bool:
    return any(isinstance(x, Tracer) for x in xs)


def asarray(x, dtype=None):
    """A tracer stays itself (converted to `dtype` if given); lists holding tracers are stacked;
    anything else becomes an ndarray."""
    if isinstance(x, Tracer):
        return x if dtype is None else convert(x, dtype)
    if isinstance(x, (list, tuple)) and _has_tracer(x):
        from frechet._src.numpy.manipulation import (
            stack,  # lazy: cycle: manipulation -> base at load
        )
        out = stack([asarray(e) for e in x])
        return out if dtype is None else convert(out, dtype)
    if is_chunked(x):                    # stays lazy (core/chunked.py)
        return x if dtype is None or x.dtype == dtype else x.astype(dtype)
    if is_foreign(x):       # another library's array stays one (core/backend.py)
        return x if dtype is None or dtype_of(x) == np.dtype(dtype) else convert(x, dtype)
    return np.asarray(x, dtype=dtype)


def _has_tracer(xs) -> bool:
    for e in xs:
        if isinstance(e, Tracer) or (isinstance(e, (list, tuple)) and _has_tracer(e)):
            return True
    return False


def holds_tracer(x) -> bool:
    """Whether x is a traced value or a (nested) list or tuple holding one."""
    return isinstance(x, Tracer) or (isinstance(x, (list, tuple)) and _has_tracer(x))


def weak(x):
    """What NumPy's promotion sees: a Python scalar's type (weak, NEP 50), else a dtype. A
    Python bool is not weak: it promotes as np.bool_ does."""
    if type(x) is bool:
        return np.dtype(bool)
    if isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic):
        return type(x)
    if isinstance(x, numbers.Number) and not isinstance(x, np.generic):
        return type(x)
    if isinstance(x, Tracer) and x.weak_type is not None:
        return x.weak_type
    return dtype_of(x) if hasattr(x, "dtype") else np.asarray(x).dtype


def shape_of(x) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def broadcast_shapes(*shapes, what="operands"):
    if len(shapes) == 2:               # the common case, without NumPy's Python-level helper
        a, b = shapes
        if a == b or not b:
            return tuple(a)
        if not a:
            return tuple(b)
        n = max(len(a), len(b))
        a = (1,) * (n - len(a)) + tuple(a)
        b = (1,) * (n - len(b)) + tuple(b)
        out = []
        for x, y in zip(a, b):
            if x == y or y == 1:
                out.append(x)
            elif x == 1:
                out.append(y)
            else:
                break
        else:
            return tuple(out)
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(f"{what} could not be broadcast together with shapes "
                         + " ".join(str(tuple(s)) for s in shapes)) from None


_SMALL_BROADCAST = 4096                 # elements


def fit(x, dtype, shape, like=None):
    """x converted to `dtype` and broadcast to `shape`: primitives for tracers, NumPy for
    constants (a constant never needs a derivative), lazily where they meet the Dask array
    `like` (core/chunked.py)."""
    if isinstance(x, Tracer):
        if x.dtype != dtype:
            x = convert(x, dtype)
        return broadcast_to(x, shape) if tuple(x.shape) != shape else x
    if is_chunked(x):                    # stays lazy (core/chunked.py)
        x = x if x.dtype == dtype else x.astype(dtype)
        return x if x.shape == shape else np.broadcast_to(x, shape)
    # Note: NumPy's own asarray and empty, bound at import: while a transformation runs the
    # module's names are wrappers for the user's code (numpy/patching.py), too slow for this path
    if type(x) is not np.ndarray and is_foreign(x):     # another library's constant
        if dtype_of(x) != dtype:
            x = convert(x, dtype)
        return broadcast_to(x, shape) if tuple(x.shape) != shape else x
    x = x if type(x) is np.ndarray else _np_asarray(x)
    if x.dtype != dtype:
        x = x.astype(dtype) if not (x.dtype.kind == "c" and dtype.kind != "c") else x.real.astype(dtype)
    if x.shape == shape:
        return x
    if like is not None:
        return broadcast_like(x, shape, like)
    if x.ndim == 0:
        return ew.full(shape, x.item(), dtype)
    if math.prod(shape) > _SMALL_BROADCAST:
        return np.broadcast_to(x, shape)
    out = _np_empty(shape, dtype)        # small: a copy is ~8x cheaper than broadcast_to's view
    out[...] = x
    return out


def apply_ufunc(ufunc, *args):
    """ufunc(*args) with NumPy's loop selection and broadcasting, as one strict primitive."""
    prim = ew.UFUNC_PRIMS[ufunc]
    if len(args) == 1:
        x = args[0]
        if isinstance(x, Tracer) and ew.out_dtypes(ufunc, (x.dtype,))[0] == x.dtype:
            return current().process(prim, args, {})     # the common case: nothing to convert
    elif len(args) == 2:
        x, y = args
        tx, ty = type(x), type(y)
        if isinstance(x, Tracer) and (ty is float or ty is int):    # tracer with a Python scalar
            return with_scalar(ufunc, x, y)
        if isinstance(y, Tracer) and (tx is float or tx is int):
            return with_scalar(ufunc, y, x, True)
        if (tx is np.ndarray or isinstance(x, Tracer)) and (ty is np.ndarray or isinstance(y, Tracer)) \
                and x.dtype == y.dtype and x.shape == y.shape:
            dts = ew.out_dtypes(ufunc, (x.dtype, y.dtype))
            if dts[0] == x.dtype and dts[1] == x.dtype:     # nothing to convert or broadcast
                return current().process(prim, args, {})
    dts = ew.out_dtypes(ufunc, tuple(weak(a) for a in args))
    shapes = [shape_of(a) for a in args]
    shape = shapes[0] if all(s == shapes[0] for s in shapes) else broadcast_shapes(
        *shapes, what=f"operands of {ufunc.__name__}")
    like = first_chunked(args) if math.prod(shape) > _SMALL_BROADCAST else None
    ins = [fit(a, d, shape, like) for a, d in zip(args, dts)]
    return prim.bind(*ins)


_SCALAR_DTYPES: dict = {}


def with_scalar(ufunc, x, c, reflected=False):
    """ufunc(x, c) (or ufunc(c, x)) for a traced x and a Python scalar c (weak, NEP 50)."""
    key = (ufunc, x.dtype, type(c), reflected)
    dts = _SCALAR_DTYPES.get(key)
    if dts is None:      # NumPy's loop selection for (dtype, Python scalar type), memoised
        d = ew.out_dtypes(ufunc, (type(c), x.dtype) if reflected else (x.dtype, type(c)))
        dts = _SCALAR_DTYPES[key] = (d[1], d[0]) if reflected else (d[0], d[1])
    dx, dc = dts
    if x.dtype != dx:
        x = convert(x, dx)
    k = ew.full(x.shape, c, dc)
    if k.size > _SMALL_BROADCAST:        # lazy where x is a Dask array (core/chunked.py)
        like = first_chunked((x,))
        k = k if like is None else broadcast_like(np.asarray(c, dc), x.shape, like)
    return current().process(ew.UFUNC_PRIMS[ufunc], (k, x) if reflected else (x, k), {})


def normalize_axis(axis, ndim, what="axis"):
    """axis (None, an int or a tuple) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(a, ndim)
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"duplicate value in '{what}'")
    return tuple(sorted(out))


def normalize_one_axis(axis, ndim) -> int:
    (a,) = normalize_axis(int(axis), ndim)
    return a


def result_dtype(*xs):
    """np.result_type of the values, Python scalars weak (NEP 50): np.result_type sees a Python
    float value as weak but the type `float` as float64, so scalars are passed as values."""
    return np.result_type(*[_WEAK_VALUE.get(w, w) for w in map(weak, xs)])


_WEAK_VALUE = {bool: False, int: 0, float: 0.0, complex: 0j}


def float_dtype(x):
    """The inexact dtype NumPy computes in for x (float64 for integers and booleans)."""
    dt = np.dtype(weak(x)) if not isinstance(weak(x), type) else np.dtype(float)
    return dt if dt.kind in "fc" else np.dtype(np.float64)
