"""The NumPy surface of tracers: operators, attributes, methods, NEP 13/18 and the Array API
namespace hook. Attached to `Tracer` so the core stays independent of the front end."""

from __future__ import annotations

import sys

import numpy as np
from frechet._src.core.trace import Tracer
from frechet._src.errors import ConcretizationError, TracerConversionError, UnsupportedFunctionError
from frechet._src.ir.staging import _PKG_DIR
from frechet._src.numpy import manipulation as M
from frechet._src.numpy import misc, sorting
from frechet._src.numpy import reductions as R
from frechet._src.numpy import ufuncs as U
from frechet._src.numpy.base import apply_ufunc, with_scalar
from frechet._src.numpy.contract import dot, matmul
from frechet._src.numpy.contract import trace as _trace


def _binop(ufunc, reflected=False):
    if ufunc.nout > 1:
        if reflected:
            return lambda self, other: U.call(ufunc, other, self)
        return lambda self, other: U.call(ufunc, self, other)
    def op(self, other):      # the common case, a Python scalar, skips apply_ufunc's checks
        t = type(other)
        if t is float or t is int:
            return with_scalar(ufunc, self, other, reflected)
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
Tracer.__matmul__ = lambda self, other: matmul(self, other)
Tracer.__rmatmul__ = lambda self, other: matmul(other, self)
Tracer.__neg__ = lambda self: U.call(np.negative, self)
Tracer.__pos__ = lambda self: self
Tracer.__abs__ = lambda self: U.call(np.absolute, self)
Tracer.__invert__ = lambda self: U.call(np.invert, self)


def _getitem(self, idx):
    return M.getitem(self, idx)


def _setitem(self, idx, value):
    """x[idx] = value rebinds the traced x to its updated value."""
    U.rebind(self, M.setitem(self, idx, value))


def _iter(self):
    if not self.shape:
        raise TypeError("iteration over a 0-d array")
    return (self[i] for i in range(self.shape[0]))


Tracer.__getitem__ = _getitem
Tracer.__setitem__ = _setitem
Tracer.__iter__ = _iter


def _library_caller() -> str:
    """Where library code (not frechet, not the user's) converted a traced value: the
    outermost of the library frames just below the user's, named with a hint, or ''."""
    entry = None
    f = sys._getframe(2)
    while f is not None:
        path = f.f_code.co_filename
        if not path.startswith(_PKG_DIR) and "site-packages" not in path:
            break
        if not path.startswith(_PKG_DIR):
            entry = f
        f = f.f_back
    if entry is None:
        return ""
    module = entry.f_globals.get("__name__", "?")
    name = entry.f_code.co_name
    if name == "wrapped":               # SciPy's array-API dispatch wrapper (SCIPY_ARRAY_API=1)
        name = getattr(entry.f_locals.get("self"), "name", name)
    where = f" (inside {module}.{name}, library code that converts its input to a NumPy array"
    if module.startswith("scipy.special"):
        import frechet.scipy.special as fss
        if hasattr(fss, name):
            return where + f": frechet.scipy.special.{name} is its traced version)"
    return where + ": use a frechet equivalent or wrap the call in frechet.custom_vjp)"


def _conversion_error(kind):
    def f(self, *args, **kwargs):
        raise TracerConversionError(
            f"a traced value reached {kind}{_library_caller()}, which would drop its "
            "derivative. Keep the "
            "computation in NumPy functions (np.stack([...]) instead of np.array([...]), "
            "x.item() only outside differentiated code), or stop the derivative explicitly "
            "with frechet.stop_gradient")
    return f


def _sparse_defers() -> bool:
    """Whether SciPy's sparse matmul is converting this tracer: it gives up on a 0-d object
    array (returning NotImplemented), so Python then asks the tracer's reflected operator."""
    f = sys._getframe(2)
    return f.f_code.co_name in ("_matmul_dispatch", "_rmatmul_dispatch") and \
        f.f_globals.get("__name__", "").startswith("scipy.sparse")


_array_error = _conversion_error(
    "np.asarray/np.array (__array__; indexing a NumPy array with a traced index also lands here: "
    "use frechet.numpy.take(x, i) or np.take_along_axis, or index a traced array)")


def _array(self, *args, **kwargs):
    if _sparse_defers():
        return np.array(None, dtype=object)
    return _array_error(self, *args, **kwargs)


Tracer.__array__ = _array
Tracer.__float__ = _conversion_error("float()")
Tracer.__complex__ = _conversion_error("complex()")
Tracer.tolist = _conversion_error(".tolist()")
Tracer.item = _conversion_error(".item()")


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
    body = np.array2string(np.asarray(c), separator=", ", prefix=kind + "(")
    return f"{kind}({body})"


def _str(self):
    c = self.concrete()
    return repr(self) if c is None else str(np.asarray(c))


Tracer.__repr__ = _repr
Tracer.__str__ = _str
Tracer.__bool__ = _bool
Tracer.__index__ = _index
Tracer.__int__ = _index
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
    from frechet._src.numpy.dispatch import FUNCTIONS
    for t in types:
        if not (issubclass(t, (Tracer, np.ndarray))):
            return NotImplemented
    impl = FUNCTIONS.get(func)
    if impl is None:
        name = _public_name(func)
        raise UnsupportedFunctionError(
            f"{name} is not supported on traced values (frechet cannot "
            f"differentiate through it). Wrap the code that calls it in frechet.custom_vjp "
            f"(or custom_jvp) and give its derivative; `python -m frechet coverage` lists what "
            "is supported")
    return impl(*args, **kwargs)


Tracer.__array_function__ = _array_function


def _namespace(self, api_version=None):
    import frechet.numpy
    return frechet.numpy


Tracer.__array_namespace__ = _namespace

# attributes and methods -------------------------------------------------------------------------
Tracer.T = property(lambda self: M.transpose(self))
Tracer.mT = property(lambda self: M.matrix_transpose(self))
Tracer.real = property(lambda self: misc.real(self))
Tracer.imag = property(lambda self: misc.imag(self))
Tracer.flat = property(lambda self: M.ravel(self))


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


_METHODS = {
    "sum": R.sum, "prod": R.prod, "mean": R.mean, "var": R.var, "std": R.std, "max": R.max,
    "min": R.min, "all": R.all, "any": R.any, "argmax": R.argmax, "argmin": R.argmin,
    "cumsum": R.cumsum, "cumprod": R.cumprod, "ptp": R.ptp, "ravel": M.ravel,
    "flatten": M.ravel, "squeeze": M.squeeze, "swapaxes": M.swapaxes, "repeat": M.repeat,
    "take": M.take, "diagonal": M.diagonal, "clip": misc.clip, "round": misc.round,
    "nonzero": misc.nonzero, "argsort": sorting.argsort, "dot": dot, "trace": _trace,
    "conj": U.conjugate, "conjugate": U.conjugate, "astype": lambda self, dtype, **k: M.astype(self, dtype),
    "copy": lambda self, order="K": self, "reshape": _reshape, "transpose": _transpose,
    "sort": _sort, "compress": lambda self, condition, axis=None: M.compress(condition, self, axis),
}
for _name, _fn in _METHODS.items():
    setattr(Tracer, _name, _fn)
