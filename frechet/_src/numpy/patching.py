"""NumPy's array constructors, while a transformation runs.

`np.array([a, b])` of traced scalars, `np.array(list_of_traced_rows)` and `np.asarray(x)` of a
traced x are ordinary NumPy code, but NumPy's constructors do not dispatch on what a list holds
(NEP 18 sees only `like=`): they would call `__array__` and refuse. While the first
transformation of the process runs a user's function until the last one ends (core.trace's
HOOKS), `numpy.array`, `numpy.asarray` and `numpy.asanyarray` (and the methods behind np.r_, np.c_
and np.vectorize) are replaced by wrappers that
build traced arrays from traced contents when the calling thread is inside a transformation,
and call NumPy's own function otherwise. Outside transformations NumPy is untouched.
Code that bound the functions before (`from numpy import array`) keeps NumPy's.
"""

from __future__ import annotations

import linecache
import sys

import numpy as np
from frechet._src.config import config
from frechet._src.core import trace as _trace
from frechet._src.core.chunked import refuse_conversion
from frechet._src.core.primitive import IMPL_CODES
from frechet._src.core.trace import EVAL, Tracer
from frechet._src.errors import UnsupportedFunctionError
from frechet._src.numpy.aliasing import as_array0d, clone, copy_layout, mark_array0d
from frechet._src.numpy.base import asarray as _frechet_asarray
from frechet._src.numpy.base import holds_tracer
from frechet._src.numpy.manipulation import reshape
from frechet._src.numpy.misc import full_like
from frechet._src.numpy.tricks import concatenate_items, vectorized_call
from frechet._src.warn import PKG_DIR as _PKG_DIR

_NAMES = ("array", "asarray", "asanyarray", "zeros", "ones", "empty", "full")
_ORIGINAL = {name: getattr(np, name) for name in _NAMES}
_installed = []


def _traced(obj, dtype, copy, ndmin=0, order="K"):
    out = _frechet_asarray(obj, None if dtype is None else np.dtype(dtype))
    if out is obj and copy is not False:
        out = copy_layout(clone(out), obj, order or "K")
    if ndmin > out.ndim:
        out = reshape(out, (1,) * (ndmin - out.ndim) + tuple(out.shape))
    if not out.shape:                   # np.array(s) of a scalar is a (mutable) 0-d array
        out = as_array0d(out) if out is obj else mark_array0d(out)
    return out


def _wants_frechet(obj, name) -> bool:
    if _trace.current() is EVAL or not holds_tracer(obj):
        return False
    # Note: library code (SciPy, scikit-learn, ...) converting a traced array wants an ndarray,
    # which it cannot have: it gets NumPy's own behaviour (the error naming the library
    # function, or the hook SciPy's sparse matmul uses to hand over to the tracer)
    frame = sys._getframe(2)
    return _called_as(frame, name) and (not isinstance(obj, Tracer) or not _from_library(frame))


_CALLEES: dict = {}


def callee(frame) -> str | None:
    """The expression `frame` is calling (`np.zeros`, `scipy.linalg.expm`), read from its source
    at the executing instruction; None where that cannot be known."""
    code = frame.f_code
    key = (code, frame.f_lasti)
    text = _CALLEES.get(key, False)
    if text is False:
        text = None
        try:
            positions = getattr(code, "co_positions", None)       # Python >= 3.11
            if positions is not None:
                lineno, _, col, _ = list(positions())[frame.f_lasti // 2]
                line = linecache.getline(code.co_filename, lineno).encode()[col:].decode()
                if "(" in line:
                    text = line.split("(", 1)[0].strip()
        except (IndexError, TypeError, UnicodeDecodeError):
            text = None
        if len(_CALLEES) > 4096:
            _CALLEES.clear()
        _CALLEES[key] = text
    return text


def _called_as(frame, name) -> bool:
    """Whether `frame` is calling the function by this name (`np.zeros(...)`). Compiled code
    calls NumPy's functions through the module too, with the user's frame still on top: it must
    get NumPy's ndarrays, since it writes their memory directly. Where the source cannot be
    read, the answer is no (NumPy's own behaviour)."""
    text = callee(frame)
    return text is not None and (text == name or text.endswith("." + name))


def _from_library(frame) -> bool:
    """Whether frame runs an installed package's code other than frechet's."""
    path = frame.f_code.co_filename
    return ("site-packages" in path or "dist-packages" in path) and not path.startswith(_PKG_DIR)


def _from_user(frame) -> bool:
    """Whether frame runs the user's own code: neither frechet's nor a library's, nor a
    primitive's impl (which frechet calls on plain arrays while a transformation is current)."""
    if frame.f_code.co_filename.startswith(_PKG_DIR) or _from_library(frame):
        return False
    f = frame
    while f is not None and not f.f_code.co_filename.startswith(_PKG_DIR):
        if f.f_code in IMPL_CODES:
            return False
        f = f.f_back
    return True


def _fillable(out, name):
    """An array the user's code allocates inside a transformation, as a constant of the current
    one, so that later `out[i] = traced` writes can update it (an ndarray would refuse them).
    Only floating and complex arrays (integer and boolean ones index and count), only from the
    user's own code (libraries and frechet get NumPy's arrays)."""
    t = _trace.current()
    if t is EVAL or isinstance(out, Tracer) or out.dtype.kind not in "fc":    # (like=x: made)
        return out
    frame = sys._getframe(2)
    if not _from_user(frame) or not _called_as(frame, name):
        return out
    return mark_array0d(t.lift(out)) if not out.shape else t.lift(out)


def zeros(shape, *args, **kwargs):
    return _fillable(_ORIGINAL["zeros"](shape, *args, **kwargs), "zeros")


def ones(shape, *args, **kwargs):
    return _fillable(_ORIGINAL["ones"](shape, *args, **kwargs), "ones")


def empty(shape, *args, **kwargs):
    # Note: zeros while a transformation runs, where NumPy leaves the memory as it was
    return _fillable(_ORIGINAL["zeros"](shape, *args, **kwargs), "empty")


def full(shape, fill_value, *args, **kwargs):
    if _wants_frechet(fill_value, "full"):
        out = _ORIGINAL["empty"](shape, *args, **kwargs)
        return full_like(out, fill_value, dtype=kwargs.get("dtype", args[0] if args else None))
    return _fillable(_ORIGINAL["full"](shape, fill_value, *args, **kwargs), "full")


def array(object, dtype=None, *args, copy=True, ndmin=0, **kwargs):
    if _wants_frechet(object, "array"):
        return _traced(object, dtype, copy, ndmin, kwargs.get("order", "K"))
    if type(object) is not np.ndarray:
        refuse_conversion(object, "np.array while a transformation runs")
    return _ORIGINAL["array"](object, dtype, *args, copy=copy, ndmin=ndmin, **kwargs)


def asarray(a, dtype=None, *args, **kwargs):
    if _wants_frechet(a, "asarray"):
        return _traced(a, dtype, False)
    if type(a) is not np.ndarray:
        refuse_conversion(a, "np.asarray while a transformation runs")
    return _ORIGINAL["asarray"](a, dtype, *args, **kwargs)


def asanyarray(a, dtype=None, *args, **kwargs):
    if _wants_frechet(a, "asanyarray"):
        return _traced(a, dtype, False)
    if type(a) is not np.ndarray:
        refuse_conversion(a, "np.asanyarray while a transformation runs")
    return _ORIGINAL["asanyarray"](a, dtype, *args, **kwargs)


# NumPy's constructors that take `like=` (NEP 35): called with a traced `like`, they dispatch
# to the tracer, which makes what NumPy would, as a value of the current transformation
LIKE = frozenset(_ORIGINAL[n] for n in _NAMES) | frozenset(getattr(np, n) for n in (
    "zeros", "ones", "empty", "full", "arange", "eye", "identity", "frombuffer",
    "fromfunction", "fromiter", "fromstring", "genfromtxt", "loadtxt", "require", "tri",
    "ascontiguousarray", "asfortranarray") if hasattr(np, n))


def like(func, args, kwargs):
    """func(*args, **kwargs) called with like= a traced array."""
    func = getattr(func, "__wrapped__", func)       # NumPy passes what numpy.NAME is now
    name = getattr(func, "__name__", "")
    if name in _ORIGINAL and args and holds_tracer(args[0]):
        dtype = args[1] if len(args) > 1 else kwargs.get("dtype")
        return _traced(args[0], dtype, kwargs.get("copy", name == "array"),
                       kwargs.get("ndmin", 0))
    if any(holds_tracer(a) for a in args) or any(holds_tracer(v) for v in kwargs.values()):
        raise UnsupportedFunctionError(f"np.{name} with traced arguments is not supported; "
                                       "build the array from traced values with np.stack")
    out = _ORIGINAL.get(name, func)(*args, **kwargs)
    t = _trace.current()
    return out if t is EVAL or not isinstance(out, np.ndarray) else t.lift(out)


_WRAPPERS = {"array": array, "asarray": asarray, "asanyarray": asanyarray, "zeros": zeros,
             "ones": ones, "empty": empty, "full": full}
LIKE = LIKE | frozenset(_WRAPPERS.values())
for _name, _f in _WRAPPERS.items():
    _f.__doc__ = _ORIGINAL[_name].__doc__
    _f.__wrapped__ = _ORIGINAL[_name]


# NumPy's Python-level helpers that build arrays with NumPy's own module-level functions:
# their methods are wrapped the same way (numpy/tricks.py has the traced versions)
_CONCATENATOR = type(np.r_).__mro__[1]          # AxisConcatenator, behind np.r_ and np.c_
_METHODS = {(_CONCATENATOR, "__getitem__"): _CONCATENATOR.__getitem__,
            (np.vectorize, "__call__"): np.vectorize.__call__}


def _concatenator_getitem(self, key):
    if _trace.current() is not EVAL and config.patch_numpy_creation and holds_tracer(key):
        return concatenate_items(self, key)
    return _METHODS[_CONCATENATOR, "__getitem__"](self, key)


def _vectorize_call(self, *args, **kwargs):
    if _trace.current() is not EVAL and config.patch_numpy_creation and (holds_tracer(args) or
                                         holds_tracer(tuple(kwargs.values()))):
        return vectorized_call(self, args, kwargs)
    return _METHODS[np.vectorize, "__call__"](self, *args, **kwargs)


_METHOD_WRAPPERS = {(_CONCATENATOR, "__getitem__"): _concatenator_getitem,
                    (np.vectorize, "__call__"): _vectorize_call}


def _install():
    if config.patch_numpy_creation:
        for name, f in _WRAPPERS.items():
            setattr(np, name, f)
        _installed.append(True)


def _restore():
    if _installed:
        for name, f in _ORIGINAL.items():
            setattr(np, name, f)
        _installed.clear()


# Note: the methods behind np.r_, np.c_ and np.vectorize stay wrapped: setting a class's
# attribute on every transformation's entry costs more than the wrapper's one check costs
# these (slow, Python-level) methods outside transformations
for (_cls, _name), _f in _METHOD_WRAPPERS.items():
    setattr(_cls, _name, _f)


_trace.HOOKS.append((_install, _restore))
HOOKS_INSTALLED = True
