"""NumPy ufuncs on traced values: `__array_ufunc__` and the `frechet.numpy` ufunc functions.

Every ufunc call becomes one strict elementwise primitive after explicit promotion and
broadcasting. `reduce`, `accumulate` and `outer` map to reductions, cumulative primitives and
broadcasting. `out=` naming a traced value rebinds it (the traced value takes the result).
"""

from __future__ import annotations

import numpy as np
from frechet._src.core.chunked import is_chunked
from frechet._src.core.trace import Tracer, current
from frechet._src.errors import ShapeError, TracerConversionError, UnsupportedFunctionError
from frechet._src.interpreters.staging import _user_source
from frechet._src.numpy import contract
from frechet._src.numpy import manipulation as M
from frechet._src.numpy import reductions as R
from frechet._src.numpy.aliasing import rebind
from frechet._src.numpy.base import (
    apply_ufunc,
    asarray,
    broadcast_shapes,
    fit,
    result_dtype,
    shape_of,
)
from frechet._src.numpy.manipulation import expand_dims, moveaxis, reshape, stack
from frechet._src.prims import elementwise as ew
from frechet._src.prims.shape import select_p

_GUFUNCS = {np.matmul: contract.matmul, np.vecdot: contract.vecdot, np.matvec: contract.matvec,
            np.vecmat: contract.vecmat}
_IGNORED = ("casting", "order", "subok", "signature")
_PLAIN = {np.ndarray, int, float, complex, bool, type(None)}


def _store(result, out, where=True):
    """Honour `out=` (a traced value is rebound; an ndarray cannot hold a traced result)."""
    if out is None:
        return result
    outs = out if isinstance(out, tuple) else (out,)
    results = result if isinstance(result, (tuple, list)) else (result,)
    for o, r in zip(outs, results):
        if o is None:
            continue
        if not isinstance(o, Tracer):
            line = _user_source()
            raise TracerConversionError(
                "make the array inside the transformed function (np.zeros(...), "
                "np.zeros_like(x)) or write `a = a + v` instead: the NumPy array of shape "
                f"{np.shape(o)} and dtype {np.asarray(o).dtype}"
                f"{f' at {line}' if line else ''} was made outside the transformation and "
                "cannot hold a traced value (out=, +=, or a[i] = ...)")
        # NumPy writes into out: the result is broadcast to out's shape and cast to its dtype
        target = tuple(o.shape)
        if broadcast_shapes(shape_of(r), target, what="result and out") != target:
            raise ShapeError(f"non-broadcastable output operand with shape {target} doesn't "
                             f"match the broadcast shape {shape_of(r)}")
        rebind(o, fit(r, o.dtype, target))
    return out if isinstance(out, tuple) and len(out) > 1 else outs[0]


def _where(result, where, out):
    if where is True:
        return result
    if out is None:
        raise UnsupportedFunctionError("ufunc where= without out= leaves entries unset; pass out=")
    o = out[0] if isinstance(out, tuple) else out
    w = np.broadcast_to(np.asarray(where, bool), shape_of(result))
    return select_p.bind(w, result, fit(o, result.dtype, shape_of(result)))


def call(ufunc, *inputs, out=None, where=True, dtype=None, **kwargs):
    for k in kwargs:
        if k not in _IGNORED:
            raise TypeError(f"{ufunc.__name__}() got an unexpected keyword argument {k!r}")
    if ufunc in _GUFUNCS:
        res = _GUFUNCS[ufunc](*inputs)
    else:
        if dtype is not None:
            inputs = tuple(asarray(x, dtype) for x in inputs)
        res = apply_ufunc(ufunc, *inputs)
    return _store(_where(res, where, out), out)


_REDUCERS = {np.add: "sum", np.multiply: "prod", np.maximum: "max", np.minimum: "min",
             np.logical_and: "all", np.logical_or: "any", np.fmax: "max", np.fmin: "min"}
_ACCUMULATORS = {np.add: "cumsum", np.multiply: "cumprod"}


def reduce(ufunc, a, axis=0, dtype=None, out=None, keepdims=False, initial=np._NoValue,
           where=True):
    if ufunc in _REDUCERS:
        kw = {} if initial is np._NoValue else {"initial": initial}
        if where is not True:
            kw["where"] = where
        fn = getattr(R, _REDUCERS[ufunc])
        if ufunc in (np.add, np.multiply):
            kw["dtype"] = dtype
        return _store(fn(a, axis=axis, keepdims=keepdims, **kw), out)
    # Any other binary ufunc: fold along one axis, left to right.
    a = asarray(a)
    if axis is None or isinstance(axis, tuple):
        raise UnsupportedFunctionError(f"{_ufunc_name(ufunc)}.reduce over several axes")
    x = moveaxis(a, axis, 0)
    acc = x[0] if initial is np._NoValue else call(ufunc, initial, x[0])
    for i in range(1, shape_of(x)[0]):
        acc = call(ufunc, acc, x[i])
    return _store(expand_dims(acc, axis) if keepdims else acc, out)


def accumulate(ufunc, a, axis=0, dtype=None, out=None):
    if ufunc in _ACCUMULATORS:
        return _store(getattr(R, _ACCUMULATORS[ufunc])(a, axis=axis, dtype=dtype), out)
    if ufunc in (np.maximum, np.minimum, np.fmax, np.fmin):
        return _store(R.cumulative_extreme(a, axis, ufunc in (np.maximum, np.fmax)), out)
    x = moveaxis(asarray(a), axis, 0)
    accs = [x[0]]
    for i in range(1, shape_of(x)[0]):
        accs.append(call(ufunc, accs[-1], x[i]))
    return _store(moveaxis(stack(accs), 0, axis), out)


def at(ufunc, a, indices, b=None):
    """np.ufunc.at: unbuffered in-place application, repeated indices applied once each, in
    order (np.add.at(x, [0, 0], 1) adds 2)."""
    if not isinstance(a, Tracer):
        raise TracerConversionError(
            f"{_ufunc_name(ufunc)}.at would write traced values into a NumPy array, which cannot "
            "hold them; make the array with np.zeros_like(x) (or another traced array) first")
    flat_pos = np.arange(a.size).reshape(a.shape)[M.normalize_index(indices, a.shape)]
    pos = np.ravel(flat_pos)
    if ufunc in (np.add, np.subtract) and b is not None:
        v = b if ufunc is np.add else call(np.negative, b)
        v = fit(asarray(v), a.dtype, np.shape(flat_pos))
        rebind(a, M.reshape(M.index_add(M.ravel(a), (pos,), M.ravel(v)), a.shape))
        return
    vals = None if b is None else M.ravel(fit(asarray(b), result_dtype(a, b),
                                              np.shape(flat_pos)))
    # k-th occurrences of each position: one gather-compute-scatter pass per multiplicity
    order = np.argsort(pos, kind="stable")
    sorted_pos = pos[order]
    first = np.r_[True, sorted_pos[1:] != sorted_pos[:-1]]
    starts = np.maximum.accumulate(np.where(first, np.arange(pos.size), 0))
    rank = np.empty(pos.size, np.intp)
    rank[order] = np.arange(pos.size) - starts
    flat = M.ravel(a)
    for r in range(int(rank.max(initial=-1)) + 1):
        sel = np.nonzero(rank == r)[0]
        cur = M.getitem(flat, (pos[sel],))
        new = call(ufunc, cur) if vals is None else call(ufunc, cur, M.getitem(vals, (sel,)))
        flat = M.setitem(flat, (pos[sel],), fit(new, a.dtype, (sel.size,)))
    rebind(a, M.reshape(flat, a.shape))
    return


def outer(ufunc, a, b, **kwargs):
    a, b = asarray(a), asarray(b)
    sa, sb = shape_of(a), shape_of(b)
    return call(ufunc, reshape(a, sa + (1,) * len(sb)), b, **kwargs)


def _composites():
    """SciPy ufuncs that frechet computes as compositions (with safe derivatives at 0)."""
    import scipy.special as sps

    from frechet._src.numpy import (
        scipy_special as fsp,  # lazy: cycle: scipy_special -> ufuncs at load
    )
    return {sps.entr: fsp.entr}


_UNARY_SAME: dict = {}


def _unary_same(ufunc, dtype):
    """The primitive of a unary ufunc that computes in `dtype` (nothing to convert), else False."""
    prim = ew.UFUNC_PRIMS.get(ufunc)
    return prim if prim is not None and ew.out_dtypes(ufunc, (dtype,))[0] == dtype else False


def _ufunc_name(ufunc) -> str:
    """How the user spells the ufunc: np.NAME, or scipy.special.NAME for SciPy's."""
    import scipy.special as sps
    name = ufunc.__name__
    if getattr(np, name, None) is not ufunc and getattr(sps, name, None) is not None:
        return f"scipy.special.{name}"
    return f"np.{name}"


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """Tracer.__array_ufunc__ (NEP 13)."""
    # The common unary call, handled before the general path: this repeats apply_ufunc's own
    # unary check on purpose, because skipping its frame is ~5% of eager overhead (measured).
    if len(inputs) == 1 and method == "__call__" and not kwargs:
        prim = _UNARY_SAME.get((ufunc, self.dtype))
        if prim is None:
            prim = _UNARY_SAME[(ufunc, self.dtype)] = _unary_same(ufunc, self.dtype)
        if prim:
            return current().process(prim, inputs, {})
    for x in inputs:
        t = type(x)
        if t not in _PLAIN and not isinstance(x, (Tracer, np.ndarray, np.generic, list, tuple)) \
                and hasattr(t, "__array_ufunc__") and not is_chunked(x):
            # let another array type (xarray) handle it first; Dask arrays cannot hold a
            # traced value: they are data here (core/chunked.py)
            return NotImplemented
    if method == "__call__" and not kwargs and ufunc in ew.UFUNC_PRIMS:
        return apply_ufunc(ufunc, *inputs)
    composite = _composites().get(ufunc)
    if composite is not None and method == "__call__":
        return composite(*inputs, **kwargs)
    if ufunc not in ew.UFUNC_PRIMS and ufunc not in _GUFUNCS:
        raise UnsupportedFunctionError(
            f"the ufunc {_ufunc_name(ufunc)} is not supported on traced values; define its "
            "derivative with frechet.custom_vjp or frechet.custom_jvp")
    if method == "__call__":
        return call(ufunc, *inputs, **kwargs)
    if method == "reduce":
        return reduce(ufunc, *inputs, **kwargs)
    if method == "accumulate":
        return accumulate(ufunc, *inputs, **kwargs)
    if method == "outer":
        return outer(ufunc, *inputs, **kwargs)
    if method == "at":
        return at(ufunc, *inputs, **kwargs)
    raise UnsupportedFunctionError(f"{_ufunc_name(ufunc)}.{method} is not supported on traced "
                                   "values")


def _make(ufunc, name):
    def f(*inputs, **kwargs):
        return call(ufunc, *inputs, **kwargs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"np.{ufunc.__name__}, differentiable (see NumPy's documentation)."
    f.reduce = lambda *a, **k: reduce(ufunc, *a, **k)
    f.accumulate = lambda *a, **k: accumulate(ufunc, *a, **k)
    f.outer = lambda *a, **k: outer(ufunc, *a, **k)
    f.ufunc = ufunc
    return f


UFUNCS = {}
for _u in ew.ALL_UFUNCS:
    UFUNCS[_u.__name__] = _make(_u, _u.__name__)
for _alias, _name in ew._ALIASES.items():
    if hasattr(np, _alias) or _alias in ("acos", "asin", "atan", "atan2", "acosh", "asinh",
                                         "atanh", "pow"):
        UFUNCS[_alias] = _make(getattr(np, _name), _alias)
globals().update(UFUNCS)
# Names the front end uses directly (kept explicit for readers and linters).
add, subtract, multiply, divide = UFUNCS["add"], UFUNCS["subtract"], UFUNCS["multiply"], UFUNCS["divide"]
negative, conjugate, absolute, sqrt = (UFUNCS["negative"], UFUNCS["conjugate"], UFUNCS["absolute"],
                                       UFUNCS["sqrt"])
exp, log, power, square = UFUNCS["exp"], UFUNCS["log"], UFUNCS["power"], UFUNCS["square"]
maximum, minimum, equal, isnan = UFUNCS["maximum"], UFUNCS["minimum"], UFUNCS["equal"], UFUNCS["isnan"]
logical_not, greater, less = UFUNCS["logical_not"], UFUNCS["greater"], UFUNCS["less"]
floor, sign, isinf, isfinite = UFUNCS["floor"], UFUNCS["sign"], UFUNCS["isinf"], UFUNCS["isfinite"]
true_divide = divide
