"""The NumPy surface of tracers: operators, attributes, methods, NEP 13/18 and the Array API
namespace hook. Attached to `Tracer` so the core stays independent of the front end."""

from __future__ import annotations

import sys

import numpy as np
from frechet._src.core.chunked import is_chunked, is_chunked_type
from frechet._src.core.registry import front_end
from frechet._src.core.trace import Tracer
from frechet._src.errors import ConcretizationError, TracerConversionError, UnsupportedFunctionError
from frechet._src.interpreters.staging import _user_source
from frechet._src.numpy import aliasing, misc, patching, sorting
from frechet._src.numpy import manipulation as M
from frechet._src.numpy import reductions as R
from frechet._src.numpy import ufuncs as U
from frechet._src.numpy.base import apply_ufunc, asarray, fit, with_scalar
from frechet._src.numpy.contract import dot, matmul
from frechet._src.numpy.contract import trace as _trace
from frechet._src.numpy.dispatch import FUNCTIONS
from frechet._src.warn import PKG_DIR as _PKG_DIR


def _defers(other) -> bool:
    """Whether `other` is another array type with its own ufunc handling (xarray, pandas):
    Python then asks it, and it wraps the traced value instead of being swallowed by it. Dask
    arrays are not: they cannot hold a traced value, so frechet computes with them as data
    (core/chunked.py)."""
    if isinstance(other, (Tracer, np.ndarray, np.generic)) or is_chunked(other):
        return False
    t = type(other)
    return t.__module__ != "builtins" and getattr(t, "__array_ufunc__", None) is not None


def _binop(ufunc, reflected=False):
    if ufunc.nout > 1:
        def pair(self, other):
            if _defers(other):
                return NotImplemented
            return U.call(ufunc, other, self) if reflected else U.call(ufunc, self, other)
        return pair

    def op(self, other):      # the common case, a Python scalar, skips apply_ufunc's checks
        t = type(other)
        if t is float or t is int:
            return with_scalar(ufunc, self, other, reflected)
        if _defers(other):
            return NotImplemented
        return apply_ufunc(ufunc, other, self) if reflected else apply_ufunc(ufunc, self, other)
    return op


_OPS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.divide,
        "floordiv": np.floor_divide, "mod": np.remainder, "pow": np.power, "and": np.bitwise_and,
        "or": np.bitwise_or, "xor": np.bitwise_xor, "lshift": np.left_shift,
        "rshift": np.right_shift, "divmod": np.divmod}
for _name, _uf in _OPS.items():
    setattr(Tracer, f"__{_name}__", _binop(_uf))
    setattr(Tracer, f"__r{_name}__", _binop(_uf, reflected=True))
for _name, _uf in {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
                   "eq": np.equal, "ne": np.not_equal}.items():
    setattr(Tracer, f"__{_name}__", _binop(_uf))
Tracer.__hash__ = None   # like ndarray: __eq__ is elementwise
_FAST_POWERS = {2: np.square, 0.5: np.sqrt, -1: np.reciprocal, 1: np.positive}


def _pow(self, other):
    """x ** c: like ndarray.__pow__, Python-scalar exponents 2, 0.5, -1 and 1 use square, sqrt,
    reciprocal and positive (the same values as NumPy, and much cheaper derivatives)."""
    if type(other) in (int, float) and other in _FAST_POWERS and self.dtype.kind in "fc":
        return apply_ufunc(_FAST_POWERS[other], self)
    return apply_ufunc(np.power, self, other)


Tracer.__pow__ = _pow


def _inplace(ufunc, fn):
    def op(self, other):
        # Note: a 0-d traced value behaves as a NumPy scalar (what reductions and x[i] return):
        # `s += 1` makes a new value, as for np.float64, unless it is a 0-d view (x[3, ...]).
        # Arrays are updated in place, so every name and view that shares them sees it.
        if not self.shape and not aliasing.is_array0d(self):
            return fn(self, other)
        result = fn(self, other)
        if result is NotImplemented:
            return result
        if not np.can_cast(result.dtype, self.dtype, "same_kind"):
            raise TypeError(f"Cannot cast ufunc '{ufunc.__name__}' output from {result.dtype!r} "
                            f"to {self.dtype!r} with casting rule 'same_kind'")
        U._store(result, self)
        return self
    return op


for _name, _uf in _OPS.items():
    if _name != "divmod":
        setattr(Tracer, f"__i{_name}__", _inplace(_uf, getattr(Tracer, f"__{_name}__")))
Tracer.__ipow__ = _inplace(np.power, _pow)
Tracer.__imatmul__ = _inplace(np.matmul, lambda self, other: matmul(self, other))
Tracer.__matmul__ = lambda self, other: NotImplemented if _defers(other) else matmul(self, other)
Tracer.__rmatmul__ = lambda self, other: NotImplemented if _defers(other) else matmul(other, self)
Tracer.__neg__ = lambda self: U.call(np.negative, self)
Tracer.__pos__ = lambda self: aliasing.clone(self, scalar=True)   # NumPy's +x: a copy
Tracer.__abs__ = lambda self: U.call(np.absolute, self)
Tracer.__invert__ = lambda self: U.call(np.invert, self)


_BASIC = (int, np.integer, slice, type(None), type(Ellipsis))


def _getitem(self, idx):
    out = M.getitem(self, idx)
    # basic indexing (ints, slices, None, ...) gives a view, as in NumPy
    if all(isinstance(e, _BASIC) and not isinstance(e, bool)
           for e in (idx if type(idx) is tuple else (idx,))):
        return aliasing.track(out, self, aliasing.layout(self)[idx], idx)
    return out


def _setitem(self, idx, value):
    """x[idx] = value rebinds the traced x to its updated value."""
    if not aliasing.write_constant(self, idx, value):
        aliasing.check_overlap(self, idx, value)
        U.rebind(self, M.setitem(self, idx, value))


def _iter(self):
    if not self.shape:
        raise TypeError("iteration over a 0-d array")
    return (self[i] for i in range(self.shape[0]))


Tracer.__getitem__ = _getitem
Tracer.__setitem__ = _setitem
Tracer.__iter__ = _iter


def _library_caller():
    """Where library code (not frechet, not the user's) converted a traced value: (where, fix)
    for the outermost of the library frames just below the user's, or ("", None)."""
    entry = None
    f = sys._getframe(3)
    while f is not None:
        path = f.f_code.co_filename
        if not path.startswith(_PKG_DIR) and "site-packages" not in path:
            break
        if not path.startswith(_PKG_DIR):
            entry = f
        f = f.f_back
    if entry is None:
        return "", None
    module = entry.f_globals.get("__name__", "?")
    name = entry.f_code.co_name
    if name == "wrapped":               # SciPy's array-API dispatch wrapper (SCIPY_ARRAY_API=1)
        name = getattr(entry.f_locals.get("self"), "name", name)
    where = f" inside {module}.{name}, library code that converts its input to a NumPy array"
    equivalent = frechet_equivalent(f) if f is not None else None
    if equivalent is None and module.startswith("scipy.special"):
        equivalent = _frechet_attr("scipy.special", [name])
    if equivalent is not None:
        return where, f"call {equivalent} instead (it is the traced version)"
    return where, (f"use a frechet equivalent of {module}.{name}, or wrap the call in "
                   "frechet.custom_vjp")


def frechet_equivalent(frame) -> str | None:
    """frechet's version of the SciPy function `frame` is calling (`scipy.linalg.expm(a)` ->
    frechet.scipy.linalg.expm), found from the call's source and the names it resolves to."""
    import types
    text = patching.callee(frame)
    if not text or not text.replace(".", "").replace("_", "").isalnum():
        return None
    parts = text.split(".")
    obj = frame.f_locals.get(parts[0], frame.f_globals.get(parts[0]))
    module, rest = None, parts[1:]
    while isinstance(obj, types.ModuleType):
        module = obj.__name__
        if not rest:
            return None
        obj, rest = getattr(obj, rest[0], None), rest[1:]
    if module is None:              # a name imported from its module: where it was defined
        module = getattr(obj, "__module__", None) or ""
        rest = []
    public = [p for p in module.split(".") if not p.startswith("_")]
    if not public or public[0] != "scipy" or obj is None:
        return None
    name = parts[-1] if module != getattr(obj, "__module__", None) or rest else \
        getattr(obj, "__name__", parts[-1])
    path = parts[len(parts) - len(rest) - 1:] if rest else [name]
    return _frechet_attr(".".join(public), path)


def _frechet_attr(module, path) -> str | None:
    import importlib
    try:
        obj = importlib.import_module("frechet." + module)
    except ImportError:
        return None
    for p in path:
        obj = getattr(obj, p, None)
        if obj is None:
            return None
    return "frechet." + module + "." + ".".join(path)


def _user_line() -> str:
    line = _user_source(past_libraries=True)
    return "" if line is None else f" (at {line})"


def _conversion_error(kind, fix, convert):
    def f(self, *args, **kwargs):
        c = self.constant()
        if c is not None:               # nothing of the transformation to lose
            return convert(c, *args, **kwargs)
        where, library_fix = _library_caller()
        raise TracerConversionError(
            f"{library_fix or fix}, or stop the derivative explicitly with "
            f"frechet.stop_gradient: a traced value reached {kind}{where}{_user_line()}, "
            "which would drop its derivative")
    return f


def _sparse_defers() -> bool:
    """Whether SciPy's sparse matmul is converting this tracer: it gives up on a 0-d object
    array (returning NotImplemented), so Python then asks the tracer's reflected operator."""
    f = sys._getframe(2)
    if f.f_code.co_filename == patching.__file__:     # through NumPy's wrapped constructors
        f = f.f_back
    return f.f_code.co_name in ("_matmul_dispatch", "_rmatmul_dispatch") and \
        f.f_globals.get("__name__", "").startswith("scipy.sparse")


_array_error = _conversion_error(
    "np.asarray/np.array (__array__)",
    "build arrays of traced values with np.stack or with np.zeros_like(x) and item writes, "
    "never by writing them into a NumPy array; for a traced index, index the traced array or "
    "use frechet.numpy.take(x, i) or np.take_along_axis",
    lambda c, *args, **kwargs: np.asarray(c, *args, **{k: v for k, v in kwargs.items()
                                                       if k != "copy"}))


def _array(self, *args, **kwargs):
    if _sparse_defers():
        return np.array(None, dtype=object)
    return _array_error(self, *args, **kwargs)


Tracer.__array__ = _array
_SCALAR_FIX = ("keep the value an array (x.item(), float(x) and .tolist() only outside "
               "differentiated code)")
Tracer.__float__ = _conversion_error("float()", _SCALAR_FIX, lambda c: float(c))
Tracer.__complex__ = _conversion_error("complex()", _SCALAR_FIX, lambda c: complex(c))
Tracer.tolist = _conversion_error(".tolist()", _SCALAR_FIX, lambda c: np.asarray(c).tolist())
Tracer.item = _conversion_error(".item()", _SCALAR_FIX, lambda c, *a: np.asarray(c).item(*a))


def _bool(self):
    c = self.concrete()
    if c is None:
        raise ConcretizationError(
            "the truth value of a staged array is not known while tracing; use frechet.numpy."
            "where or frechet.cond instead of Python `if`")
    return bool(c)


def _index(self):
    if self.dtype.kind not in "iub":
        raise TypeError("only integer arrays can be converted to an index")
    c = self.concrete()
    if c is None:
        raise ConcretizationError("a staged integer was used as a Python int (an index or range)")
    return int(c)


def _repr(self):
    c = self.concrete()
    kind = type(self).__name__
    if c is None:
        return f"{kind}<{self.dtype.name}[{','.join(map(str, self.shape))}]>"
    if is_chunked(c):                 # printing must not compute it
        return f"{kind}({c!r})"
    body = np.array2string(np.asarray(c), separator=", ", prefix=kind + "(")
    return f"{kind}({body})"


def _str(self):
    c = self.concrete()
    return repr(self) if c is None or is_chunked(c) else str(np.asarray(c))


Tracer.__repr__ = _repr
Tracer.__str__ = _str
Tracer.__bool__ = _bool
def _int(self):
    if self.dtype.kind not in "iub":
        raise TracerConversionError(
            "use np.floor(x) or x.astype(int) to keep a traced value an array (or "
            "frechet.stop_gradient(x) first): int() of a traced float would drop its "
            "derivative")
    return _index(self)


Tracer.__index__ = _index
Tracer.__int__ = _int
Tracer.__array_ufunc__ = U.array_ufunc


_PUBLIC_SUBMODULES = ("linalg", "fft", "lib.stride_tricks", "lib.scimath", "char", "strings",
                      "rec", "ma", "polynomial.polynomial")


def _public_name(func) -> str:
    """How a user would spell a NumPy function: np.name or np.submodule.name."""
    name = getattr(func, "__name__", repr(func))
    if getattr(np, name, None) is func:
        return f"np.{name}"
    for sub in _PUBLIC_SUBMODULES:
        mod = np
        for part in sub.split("."):
            mod = getattr(mod, part, None)
        if mod is not None and getattr(mod, name, None) is func:
            return f"np.{sub}.{name}"
    return f"np.{name}"


def _array_function(self, func, types, args, kwargs):
    for t in types:
        if not (issubclass(t, (Tracer, np.ndarray)) or is_chunked_type(t)):
            return NotImplemented
    impl = FUNCTIONS.get(func)
    if impl is None and func in patching.LIKE:      # np.zeros(n, like=x), np.array([...], like=x), ...
        return patching.like(func, args, kwargs)
    if func in _VIEW_FUNCTIONS and impl is not None:
        return _track_views(func, args, kwargs, impl(*args, **kwargs))
    if func in _FILLABLE and isinstance(args[0], Tracer):
        # a constant of x's own transformation, so that later `out[i] = ...` writes of traced
        # values can update it (an ndarray would refuse them)
        out = impl(*args, **kwargs)
        return out if isinstance(out, Tracer) else args[0]._trace.lift(out)
    if impl is not None and func not in _SAME_OBJECT:
        out = impl(*args, **kwargs)
        if isinstance(out, Tracer) and any(out is a for a in args):
            src = out
            out = aliasing.clone(out)        # NumPy returns a new array: so does frechet
            if func is np.copy:              # an array, as np.copy(x, order='K') lays it out
                out = aliasing.copy_layout(aliasing.mark_array0d(out) if not out.shape else out,
                                           src, kwargs.get("order", "K"))
        return out
    if impl is None:
        name = _public_name(func)
        raise UnsupportedFunctionError(
            f"{name} is not supported on traced values (frechet cannot "
            f"differentiate through it). Wrap the code that calls it in frechet.custom_vjp "
            f"(or custom_jvp) and give its derivative; `python -m frechet coverage` lists what "
            "is supported")
    return impl(*args, **kwargs)


# NumPy functions whose results may be views of their arguments, and those that return their
# argument itself
_VIEW_FUNCTIONS = frozenset(getattr(np, n) for n in (
    "reshape", "ravel", "transpose", "permute_dims", "matrix_transpose", "swapaxes", "moveaxis",
    "rollaxis", "squeeze", "expand_dims", "atleast_1d", "atleast_2d", "atleast_3d",
    "broadcast_to", "broadcast_arrays", "diagonal", "split", "array_split", "hsplit", "vsplit",
    "dsplit", "unstack", "flip", "fliplr", "flipud", "rot90", "real", "imag")
    if hasattr(np, n))
_FILLABLE = frozenset((np.zeros_like, np.ones_like, np.empty_like, np.full_like))
_SAME_OBJECT = frozenset((np.asarray, np.asanyarray, np.ascontiguousarray, np.require))


def _track_views(func, args, kwargs, out):
    """out, with each traced array in it made a view where NumPy's result on the stand-ins is."""
    tracers = [a for a in args if isinstance(a, Tracer)]
    if func in (np.real, np.imag) and tracers and tracers[0].dtype.kind == "c":
        return aliasing.readonly_view(out, tracers[0], f"writing into np.{func.__name__} of a "
                                      "complex traced array is not supported; build the new "
                                      "value instead (x = re + 1j * im)")
    stand = [aliasing.layout(a) if isinstance(a, Tracer) else a for a in args]
    got = func(*stand, **kwargs)
    if isinstance(out, (tuple, list)):
        return type(out)(_track_one(o, g, tracers) for o, g in zip(out, got))
    return _track_one(out, got, tracers)


def _track_one(out, stand_in, sources):
    for src in sources:
        if isinstance(stand_in, np.ndarray) and np.may_share_memory(
                stand_in, aliasing.layout(src)):
            return aliasing.track(out, src, stand_in)
    return aliasing.clone(out) if any(out is s for s in sources) else out


Tracer.__array_function__ = _array_function


def _namespace(self, api_version=None):
    return front_end()


Tracer.__array_namespace__ = _namespace
assert patching.HOOKS_INSTALLED  # the constructors are wrapped while transformations run

# attributes and methods -------------------------------------------------------------------------
def _viewing(np_func, fn):
    """A method that returns a view where NumPy's does (decided by NumPy on the stand-in)."""
    def method(self, *args, **kwargs):
        return aliasing.track(fn(self, *args, **kwargs), self,
                              np_func(aliasing.layout(self), *args, **kwargs))
    return method


def _copying(fn, order="K"):
    """A method that returns a new array, never its input object (NumPy's copies, laid out by
    `order`); a 0-d array's copy is a 0-d array."""
    def method(self, *args, **kwargs):
        out = fn(self, *args, **kwargs)
        if out is self:
            out = aliasing.clone(out)        # (a 0-d array's clone is a 0-d array)
        elif not self.shape and isinstance(out, Tracer) and not out.shape \
                and aliasing.is_array0d(self):
            return aliasing.mark_array0d(out)
        return aliasing.copy_layout(out, self, kwargs.get("order", order))
    return method


def _complex_part(fn, part):
    def get(self):
        out = fn(self)
        if self.dtype.kind != "c":
            # Note: NumPy's .imag of a real array is a new read-only array of zeros
            return aliasing.track(out, self, aliasing.layout(self)) if part == "real" else out
        return aliasing.readonly_view(
            out, self, f"writing into .{part} of a complex traced array is not supported; "
            f"build the new value instead (x = re + 1j * im)")
    return property(get)


def _flat(self):
    out = M.ravel(self)
    return aliasing.track_index(aliasing.clone(out) if out is self else out, self,
                                np.arange(self.size))


Tracer.T = property(_viewing(lambda a: a.T, lambda self: M.transpose(self)))
Tracer.mT = property(_viewing(lambda a: a.mT, lambda self: M.matrix_transpose(self)))
Tracer.real = _complex_part(misc.real, "real")
Tracer.imag = _complex_part(misc.imag, "imag")
Tracer.flat = property(_flat)


def _reshape(self, *shape, order="C"):
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = shape[0]
    return M.reshape(self, shape, order)


def _transpose(self, *axes):
    if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
        axes = axes[0]
    return M.transpose(self, axes or None)


def _sort(self, axis=-1, kind=None, order=None):
    U.rebind(self, sorting.sort(self, axis))


def _fill(self, value):
    U.rebind(self, fit(asarray(value), self.dtype, self.shape))


def _view(self, dtype=None, type=None):
    if dtype is not None and np.dtype(dtype) != self.dtype:
        raise UnsupportedFunctionError("x.view(dtype) reinterprets bytes, which has no "
                                       "derivative; use x.astype(dtype)")
    return aliasing.track(aliasing.clone(self), self, aliasing.layout(self).view())


_METHODS = {
    "sum": R.sum, "prod": R.prod, "mean": R.mean, "var": R.var, "std": R.std, "max": R.max,
    "min": R.min, "all": R.all, "any": R.any, "argmax": R.argmax, "argmin": R.argmin,
    "cumsum": R.cumsum, "cumprod": R.cumprod, "ptp": R.ptp, "repeat": M.repeat,
    "take": M.take, "clip": misc.clip, "round": misc.round,
    "nonzero": misc.nonzero, "argsort": sorting.argsort, "dot": dot, "trace": _trace,
    "conj": U.conjugate, "conjugate": U.conjugate,
    "astype": _copying(lambda self, dtype, **k: M.astype(self, dtype)),
    "copy": lambda self, order="C": aliasing.copy_layout(aliasing.clone(self), self, order),
    "sort": _sort, "fill": _fill,
    "view": _view, "flatten": _copying(M.ravel, "C"),
    "reshape": _viewing(np.ndarray.reshape, _reshape),
    "transpose": _viewing(np.ndarray.transpose, _transpose),
    "ravel": _viewing(np.ndarray.ravel, M.ravel),
    "squeeze": _viewing(np.ndarray.squeeze, M.squeeze),
    "swapaxes": _viewing(np.ndarray.swapaxes, M.swapaxes),
    "diagonal": _viewing(np.ndarray.diagonal, M.diagonal), "compress": lambda self, condition, axis=None: M.compress(condition, self, axis),
}
for _name, _fn in _METHODS.items():
    setattr(Tracer, _name, _fn)
