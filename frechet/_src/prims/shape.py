"""Structural primitives: dtype conversion, broadcasting, reshaping, permuting, summing,
joining, selecting. All but `select`'s predicate are linear; their transposes pair up
(broadcast_in_dim <-> reduce_sum, reshape <-> reshape, transpose(p) <-> transpose(p^-1))."""

from __future__ import annotations

import math

import numpy as np

from frechet._src.core.backend import dtype_of, namespace_dtype
from frechet._src.core.chunked import broadcast as chunked_broadcast
from frechet._src.core.chunked import is_chunked
from frechet._src.core.chunked import zeros_like as chunked_zeros_like
from frechet._src.core.primitive import primitive
from frechet._src.core.registry import Role, declare
from frechet._src.core.spec import ArraySpec, is_complex, is_inexact, numpy_dtype
from frechet._src.interpreters import arrays
from frechet._src.interpreters.ad import is_undefined
from frechet._src.interpreters.batching import broadcast_batched
from frechet._src.interpreters.enclosure import arithmetic as E
from frechet._src.interpreters.enclosure import interval as iv
from frechet._src.interpreters.enclosure import rules as enc
from frechet._src.ir import codegen, fusion, native_rules, scalar_loops
from frechet._src.prims.rules import deflinear, defvectorized, taylor_by_jvp


def _spec(shape, dtype):
    return ArraySpec(tuple(shape), np.dtype(dtype))


# convert_element_type ---------------------------------------------------------------------

def _convert_impl(x, *, dtype):
    if is_complex(x.dtype) and not is_complex(dtype):
        x = np.real(x)   # Note: drops the imaginary part, as NumPy does (without its warning)
    if x.dtype == dtype:
        return x
    return (x if is_chunked(x) else np.asarray(x)).astype(dtype, copy=False)   # Dask: lazy


convert_element_type_p = primitive(
    "convert_element_type", _convert_impl, lambda x, *, dtype: _spec(x.shape, dtype))


def _convert_jvp(primals, tangents, *, dtype):
    (x,), (t,) = primals, tangents
    ans = convert_element_type_p.bind(x, dtype=dtype)
    if t is None or not (is_inexact(x.dtype) and is_inexact(dtype)):
        return ans, None
    return ans, convert_element_type_p.bind(t, dtype=dtype)


def _convert_transpose(ct, x, *, dtype):
    return (convert_element_type_p.bind(ct, dtype=x.dtype),)


convert_element_type_p.jvp = _convert_jvp
convert_element_type_p.transpose = _convert_transpose
convert_element_type_p.linear = True
defvectorized(convert_element_type_p)


def convert(x, dtype):
    dtype = numpy_dtype(dtype)
    if x.dtype == dtype or dtype_of(x) == dtype:
        return x
    return convert_element_type_p.bind(x, dtype=dtype)


# broadcast_in_dim / reduce_sum ---------------------------------------------------------------

def _bid_impl(x, *, shape, broadcast_dimensions):
    expanded = [1] * len(shape)
    for d, n in zip(broadcast_dimensions, np.shape(x)):
        expanded[d] = n
    x = x.reshape(expanded)
    if type(x) is not np.ndarray and is_chunked(x):
        return chunked_broadcast(x, shape)
    size = 1
    for n in shape:
        size *= n
    if size <= 4096:       # a small copy is cheaper than NumPy's Python-level broadcast_to
        out = np.empty(shape, x.dtype)
        out[...] = x
        return out
    return np.broadcast_to(x, shape)


def _bid_abstract(x, *, shape, broadcast_dimensions):
    if len(broadcast_dimensions) != x.ndim:
        raise TypeError(f"broadcast_in_dim: {x} needs {x.ndim} dimensions")
    for d, n in zip(broadcast_dimensions, x.shape):
        if n != 1 and shape[d] != n:
            raise TypeError(f"broadcast_in_dim: cannot broadcast {x} to {shape}")
    return _spec(shape, x.dtype)


broadcast_in_dim_p = primitive("broadcast_in_dim", _bid_impl, _bid_abstract)


def _bid_transpose(ct, x, *, shape, broadcast_dimensions):
    new_dims = tuple(d for d in range(len(shape)) if d not in broadcast_dimensions)
    ones = tuple(d for d, n in zip(broadcast_dimensions, x.shape) if n == 1 and shape[d] != 1)
    out = reduce_sum_p.bind(ct, axes=tuple(sorted(new_dims + ones)))
    return (reshape_p.bind(out, shape=x.shape) if out.shape != x.shape else out,)


def _bid_batch(args, batched, *, shape, broadcast_dimensions):
    (x,) = args
    return broadcast_in_dim_p.bind(x, shape=(x.shape[0], *shape),
                                   broadcast_dimensions=(0, *[d + 1 for d in broadcast_dimensions]))


deflinear(broadcast_in_dim_p, _bid_transpose)
broadcast_in_dim_p.batch = _bid_batch


def _sum_impl(x, *, axes):
    # np.sum's Python wrapper costs more than the sum; other array types (Dask: a tree
    # reduction over its chunks) take np.sum, which dispatches to their own
    return np.add.reduce(x, axis=axes) if type(x) is np.ndarray else np.sum(x, axis=axes)


def _sum_abstract(x, *, axes):
    return _spec([n for i, n in enumerate(x.shape) if i not in axes], x.dtype)


reduce_sum_p = primitive("reduce_sum", _sum_impl, _sum_abstract)


def _sum_transpose(ct, x, *, axes):
    kept = tuple(i for i in range(len(x.shape)) if i not in axes)
    return (broadcast_in_dim_p.bind(ct, shape=x.shape, broadcast_dimensions=kept),)


deflinear(reduce_sum_p, _sum_transpose)
reduce_sum_p.batch = lambda args, batched, *, axes: reduce_sum_p.bind(
    args[0], axes=tuple(a + 1 for a in axes))


def broadcast_to(x, shape):
    """Broadcast with NumPy's rules, as an explicit broadcast_in_dim."""
    shape = tuple(shape)
    if tuple(x.shape) == shape:
        return x
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ValueError(f"cannot broadcast shape {x.shape} to {shape}")
    return broadcast_in_dim_p.bind(x, shape=shape, broadcast_dimensions=tuple(range(lead, len(shape))))


def reduce_sum(x, axes):
    axes = tuple(sorted(axes))
    return reduce_sum_p.bind(x, axes=axes) if axes else x


# reshape / transpose --------------------------------------------------------------------------

reshape_p = primitive("reshape", lambda x, *, shape: x.reshape(shape),
                      lambda x, *, shape: _reshape_abstract(x, shape))


def _reshape_abstract(x, shape):
    if math.prod(shape) != x.size:
        raise TypeError(f"cannot reshape array of size {x.size} into shape {shape}")
    return _spec(shape, x.dtype)


deflinear(reshape_p, lambda ct, x, *, shape: (reshape_p.bind(ct, shape=x.shape),))
reshape_p.batch = lambda args, batched, *, shape: reshape_p.bind(
    args[0], shape=(args[0].shape[0], *shape))


def reshape(x, shape):
    shape = tuple(shape)
    return x if tuple(x.shape) == shape else reshape_p.bind(x, shape=shape)


transpose_p = primitive("transpose", lambda x, *, permutation: x.transpose(permutation),
                        lambda x, *, permutation: _spec([x.shape[p] for p in permutation], x.dtype))


def _transpose_transpose(ct, x, *, permutation):
    return (transpose_p.bind(ct, permutation=tuple(np.argsort(permutation).tolist())),)


deflinear(transpose_p, _transpose_transpose)
transpose_p.batch = lambda args, batched, *, permutation: transpose_p.bind(
    args[0], permutation=(0, *[p + 1 for p in permutation]))


def transpose(x, permutation):
    permutation = tuple(int(p) for p in permutation)
    if permutation == tuple(range(len(permutation))):
        return x
    return transpose_p.bind(x, permutation=permutation)


# concatenate -----------------------------------------------------------------------------------

def _concat_abstract(*xs, axis):
    shape = list(xs[0].shape)
    shape[axis] = sum(x.shape[axis] for x in xs)
    for x in xs:
        if x.dtype != xs[0].dtype or len(x.shape) != len(shape) or any(
                a != b for i, (a, b) in enumerate(zip(x.shape, shape)) if i != axis):
            raise TypeError(f"concatenate: mismatched {x} and {xs[0]}")
    return _spec(shape, xs[0].dtype)


concatenate_p = primitive("concatenate", lambda *xs, axis: np.concatenate(xs, axis=axis),
                          _concat_abstract)


def _concat_transpose(ct, *xs, axis):
    from frechet._src.prims.indexing import getitem  # lazy: cycle: indexing -> shape at load
    out, start = [], 0
    for x in xs:
        n = x.shape[axis]
        if is_undefined(x):
            idx = (slice(None),) * axis + (slice(start, start + n),)
            out.append(getitem(ct, idx))
        else:
            out.append(None)
        start += n
    return out


deflinear(concatenate_p, _concat_transpose)
concatenate_p.batch = lambda args, batched, *, axis: concatenate_p.bind(
    *broadcast_batched(args, batched), axis=axis + 1)


# select ----------------------------------------------------------------------------------------

def _select_abstract(pred, a, b):
    if not (pred.shape == a.shape == b.shape) or a.dtype != b.dtype or pred.dtype != np.bool_:
        raise TypeError(f"select: {pred}, {a}, {b}")
    return a


select_p = primitive("select", lambda pred, a, b: np.where(pred, a, b), _select_abstract)


def _select_jvp(primals, tangents):
    pred, a, b = primals
    _, ta, tb = tangents
    ans = select_p.bind(pred, a, b)
    if ta is None and tb is None:
        return ans, None
    za = chunked_zeros_like(a) if is_chunked(a) else np.zeros(a.shape, dtype_of(a))
    return ans, select_p.bind(pred, za if ta is None else ta, za if tb is None else tb)


def _select_transpose(ct, pred, a, b):
    z = chunked_zeros_like(ct) if is_chunked(ct) else np.zeros(ct.shape, dtype_of(ct))
    return (None, select_p.bind(pred, ct, z) if is_undefined(a) else None,
            select_p.bind(pred, z, ct) if is_undefined(b) else None)


select_p.jvp = _select_jvp
select_p.transpose = _select_transpose
select_p.linear = True
defvectorized(select_p)


# stop_gradient -----------------------------------------------------------------------------------

stop_gradient_p = primitive("stop_gradient", lambda x: x, lambda x: x)
stop_gradient_p.jvp = lambda primals, tangents: (stop_gradient_p.bind(*primals), None)
defvectorized(stop_gradient_p)

# Taylor rules: linear in the tangents with weights fixed by the primal.
for _p in (select_p, convert_element_type_p):
    _p.taylor = taylor_by_jvp(_p)
# a constant: no series at all (not a series of zeros, which would make every primitive after
# it run its Taylor rule, as det's JVP rule does on the condition it computes)
stop_gradient_p.taylor = lambda primals, series: (stop_gradient_p.bind(*primals), None)

# Enclosure rules (frechet.bounds): moves and concatenation apply the primitive itself to both
# ends of every term, exactly; sums add the ends with outward rounding.
for _p in (reshape_p, transpose_p, broadcast_in_dim_p, convert_element_type_p, stop_gradient_p):
    _p.enclosure = enc.move(_p)


def _reduce_sum_enclosure(args, reg, *, axes):
    (x,) = args
    axes = tuple(a + 1 for a in axes)
    return [None if t is None else iv.total(t, axes) for t in x.terms]


def _concat_enclosure(args, reg, **params):
    terms = [enc.terms_of(a, reg) for a in args]
    whole = [enc.dense(t, reg) for t in terms]
    return [None if all(t[k] is None for t in terms) else
            tuple(enc.batched(concatenate_p, [w[k][e] for w in whole], [], params)
                  for e in (0, 1))
            for k in range(reg.d + 1)]


def _select_enclosure(args, reg):
    pred, a, b = args
    if isinstance(pred, enc.Enc):
        raise NotImplementedError("taylor_bound: a select whose condition varies with x")
    ndim = max(np.ndim(pred), enc.value_ndim(a), enc.value_ndim(b))
    a, b = ([E.lift(t, ndim) for t in enc.terms_of(v, reg)] for v in (a, b))
    out = []
    for x, y in zip(a, b):
        if x is None and y is None:
            out.append(None)
            continue
        x = x if x is not None else iv.point(np.zeros_like(y[0]))
        y = y if y is not None else iv.point(np.zeros_like(x[0]))
        out.append((np.where(pred, x[0], y[0]), np.where(pred, x[1], y[1])))
    return out


reduce_sum_p.enclosure = _reduce_sum_enclosure
concatenate_p.enclosure = _concat_enclosure
select_p.enclosure = _select_enclosure

# Back ends and passes: what jit's peephole pass rewrites, codegen's inline forms, fused-loop
# templates, and how the scan compiler writes these out element by element.
declare(reshape_p, Role.RESHAPE)
declare(transpose_p, Role.TRANSPOSE)
declare(broadcast_in_dim_p, Role.BROADCAST_IN_DIM)
declare(reduce_sum_p, Role.REDUCE_SUM)
declare(concatenate_p, Role.CONCATENATE)
codegen.INLINE[reshape_p] = codegen.method("reshape", "shape")
fusion.deftemplate(select_p, "({1} if {0} else {2})")
scalar_loops.MOVES.update((reshape_p, concatenate_p, broadcast_in_dim_p, transpose_p,
                           stop_gradient_p))
scalar_loops.CONVERTS.add(convert_element_type_p)
scalar_loops.REDUCTIONS[reduce_sum_p] = "({0} + {1})"


# Other array libraries (core/backend.py): the same operations through the standard.
def _convert_xp(xp):
    def convert_(x, *, dtype):
        if is_complex(dtype_of(x)) and not is_complex(dtype):
            x = xp.real(x)      # Note: drops the imaginary part, as the NumPy impl does
        return x if dtype_of(x) == dtype else xp.astype(x, namespace_dtype(xp, dtype))
    return convert_


def _bid_xp(xp):
    def bid(x, *, shape, broadcast_dimensions):
        expanded = [1] * len(shape)
        for d, n in zip(broadcast_dimensions, x.shape):
            expanded[d] = n
        return xp.broadcast_to(xp.reshape(x, tuple(expanded)), tuple(shape))
    return bid


convert_element_type_p.array_api = _convert_xp
broadcast_in_dim_p.array_api = _bid_xp
reduce_sum_p.array_api = lambda xp: lambda x, *, axes: xp.sum(x, axis=axes, dtype=x.dtype)
reshape_p.array_api = lambda xp: lambda x, *, shape: xp.reshape(x, tuple(shape))
transpose_p.array_api = lambda xp: lambda x, *, permutation: xp.permute_dims(x, permutation)
concatenate_p.array_api = lambda xp: lambda *xs, axis: xp.concat(xs, axis=axis)
select_p.array_api = lambda xp: xp.where
stop_gradient_p.array_api = lambda xp: stop_gradient_p.impl

# whole-program native code (ir/native.py): index arithmetic, and the sum as a loop from +0.0,
# as NumPy's sums start (a sum of negative zeros is +0.0)
for _p, _rule in ((convert_element_type_p, native_rules.Convert()),
                  (stop_gradient_p, native_rules.Identity()),
                  (broadcast_in_dim_p, native_rules.Broadcast()),
                  (transpose_p, native_rules.Transpose()), (reshape_p, native_rules.Reshape()),
                  (reduce_sum_p, native_rules.Reduction("_T(0.0)", "{0} + {1}"))):
    native_rules.defrule(_p, _rule)
arrays.deflinear(reshape_p, lambda shape_in, shape_out: arrays.Reshape((shape_in, shape_out)))
