"""Reductions and cumulative operations (reduce_sum lives with its transpose in shape.py).

max/min pass the tangent of the maximising elements, averaged over ties. prod and cumprod use
products of the other elements (exclusive products), so zeros in the input are exact.
"""

from __future__ import annotations

import math

import numpy as np

from frechet._src.core.backend import defbackend
from frechet._src.core.primitive import primitive
from frechet._src.core.spec import ArraySpec
from frechet._src.interpreters.enclosure import arithmetic as E
from frechet._src.interpreters.enclosure import rules as enc
from frechet._src.ir import native_rules, scalar_loops
from frechet._src.prims import elementwise as ew
from frechet._src.prims.contractions import einsum_p
from frechet._src.prims.elementwise import const
from frechet._src.prims.indexing import getitem, take_along_axis
from frechet._src.prims.rules import deflinear, defzero
from frechet._src.prims.shape import (
    broadcast_in_dim_p,
    concatenate_p,
    convert,
    reduce_sum,
    reshape,
    transpose,
)


def _reduced(x, axes, dtype=None):
    return ArraySpec(tuple(n for i, n in enumerate(x.shape) if i not in axes),
                     np.dtype(dtype or x.dtype))


def _axes_batch(prim):
    return lambda args, batched, *, axes: prim.bind(args[0], axes=tuple(a + 1 for a in axes))


def _axis_batch(prim):
    return lambda args, batched, **p: prim.bind(args[0], **{**p, "axis": p["axis"] + 1})


def expand(ans, x, axes):
    """Broadcast a reduced result back to x's shape."""
    kept = tuple(i for i in range(x.ndim) if i not in axes)
    return broadcast_in_dim_p.bind(ans, shape=tuple(x.shape), broadcast_dimensions=kept)


def plain(x):
    """x where it is a plain array (eager mode, first order), else None. Rules use it for a
    cheaper form of the same derivative, never a traced value's concrete one: reading that
    would make jit guard on the data and trace again for every new input."""
    return x if isinstance(x, np.ndarray) else None


# max / min ---------------------------------------------------------------------------------

def _reduction(fast, generic):
    """An impl: the ufunc's reduce for ndarrays (np.max's Python wrapper costs more than small
    reductions); other array types (Dask: a tree reduction over its chunks) take the NumPy
    function, which dispatches to their own."""
    return lambda x, *, axes: fast(x, axis=axes) if type(x) is np.ndarray else generic(x, axis=axes)


def _minmax(name, fn):
    p = primitive(name, fn, lambda x, *, axes: _reduced(x, axes))

    def jvp(primals, tangents, *, axes):
        (x,), (t,) = primals, tangents
        ans = p.bind(x, axes=axes)
        # weights: 1/k on the k elements attaining the extreme (ties share), 0 elsewhere
        mask = convert(ew.bind("equal", x, expand(ans, x, axes)), x.dtype)
        weights = ew.div(mask, expand(reduce_sum(mask, axes), x, axes))
        return ans, reduce_sum(ew.mul(t, weights), axes)
    p.jvp = jvp
    p.batch = _axes_batch(p)
    return p


reduce_max_p = _minmax("reduce_max", _reduction(np.maximum.reduce, np.max))
reduce_min_p = _minmax("reduce_min", _reduction(np.minimum.reduce, np.min))


def _minmax_enclosure(sign):
    """frechet.bounds: max (min) over axes as a tree of pairwise maxima (minima), each by the
    elementwise rule: the axes moved last and flattened, then halves compared until one element
    is left."""
    pair = enc.minmax(sign)
    pick = np.maximum if sign > 0 else np.minimum

    def rule(args, reg, *, axes):
        (x,) = args
        shape = E.value_shape(x.terms)
        keep = [a for a in range(len(shape)) if a not in axes]
        k = math.prod(shape[a] for a in axes)

        def arrange(end, lead):
            order = tuple(range(lead)) + tuple(a + lead for a in keep + list(axes))
            moved = np.transpose(end, order)
            return moved.reshape(moved.shape[:lead + len(keep)] + (k,))
        value = enc.Enc([tuple(arrange(e, 1) for e in t) for t in enc.dense(x.terms, reg)],
                        None if x.range is None else tuple(arrange(e, 0) for e in x.range))
        while k > 1:
            half = k // 2
            a = enc.slice_last(value, slice(0, half))
            b = enc.slice_last(value, slice(half, 2 * half))
            out = enc.Enc(enc.dense(pair([a, b], reg), reg), None if a.range is None else
                          (pick(a.range[0], b.range[0]), pick(a.range[1], b.range[1])))
            if k % 2:                       # the odd one out goes on to the next round
                out = enc.joined(out, enc.slice_last(value, slice(k - 1, k)))
            value, k = out, half + k % 2
        return [(t[0][..., 0], t[1][..., 0]) for t in value.terms]
    return rule


reduce_max_p.enclosure, reduce_min_p.enclosure = _minmax_enclosure(1), _minmax_enclosure(-1)

# any / all / argmax / argmin: no derivative ------------------------------------------------------

reduce_or_p = primitive("reduce_or", _reduction(np.logical_or.reduce, np.any),
                        lambda x, *, axes: _reduced(x, axes, np.bool_))
reduce_and_p = primitive("reduce_and", _reduction(np.logical_and.reduce, np.all),
                         lambda x, *, axes: _reduced(x, axes, np.bool_))
for _p in (reduce_or_p, reduce_and_p):
    defzero(_p)
    _p.batch = _axes_batch(_p)

argmax_p = primitive("argmax", lambda x, *, axis: np.argmax(x, axis=axis),
                     lambda x, *, axis: _reduced(x, (axis,), np.intp))
argmin_p = primitive("argmin", lambda x, *, axis: np.argmin(x, axis=axis),
                     lambda x, *, axis: _reduced(x, (axis,), np.intp))
for _p in (argmax_p, argmin_p):
    defzero(_p)
    _p.batch = _axis_batch(_p)

# cumulative ---------------------------------------------------------------------------------------


def _cum(fn, reverse, x, axis):
    if reverse:
        return np.flip(fn(np.flip(x, axis), axis=axis), axis)
    return fn(x, axis=axis)


def _cum_abstract(x, *, axis, reverse=False):
    return x


cumsum_p = primitive("cumsum", lambda x, *, axis, reverse=False: _cum(np.cumsum, reverse, x, axis),
                     _cum_abstract)
deflinear(cumsum_p, lambda ct, x, *, axis, reverse=False: (
    cumsum_p.bind(ct, axis=axis, reverse=not reverse),))
cumsum_p.batch = _axis_batch(cumsum_p)

cumprod_p = primitive("cumprod",
                      lambda x, *, axis, reverse=False: _cum(np.cumprod, reverse, x, axis),
                      _cum_abstract)
cumprod_p.batch = _axis_batch(cumprod_p)


def _last(x, s):
    """An index applying slice s to the last axis of x."""
    return (slice(None),) * (x.ndim - 1) + (s,)


def _to_last(x, axis):
    perm = [i for i in range(x.ndim) if i != axis] + [axis]
    return transpose(x, perm), perm


def _from_last(x, perm):
    return transpose(x, np.argsort(perm).tolist())


def _cumprod_jvp(primals, tangents, *, axis, reverse=False):
    (x,), (t,) = primals, tangents
    ans = cumprod_p.bind(x, axis=axis, reverse=reverse)
    cx = plain(x)
    if cx is not None and np.all(cx != 0):   # d y_k = y_k * sum_{i<=k} t_i / x_i
        return ans, ew.mul(ans, cumsum_p.bind(ew.div(t, x), axis=axis, reverse=reverse))
    return ans, _cumprod_jvp_exact(x, t, axis, reverse)


def _cumprod_jvp_exact(x, t, axis, reverse):
    """d y_k = sum_{i<=k} t_i prod_{j<=k, j!=i} x_j without dividing (zeros allowed); O(n^2)."""
    if reverse:
        flip = (slice(None),) * axis + (slice(None, None, -1),)
        return getitem(_cumprod_jvp_exact(getitem(x, flip), getitem(t, flip), axis, False), flip)
    xl, perm = _to_last(x, axis)
    tl, _ = _to_last(t, axis)
    n = xl.shape[-1]
    ones = const(xl, 1)[..., :1]
    cp = cumprod_p.bind(xl, axis=xl.ndim - 1)
    left = concatenate_p.bind(ones, getitem(cp, _last(xl, slice(None, n - 1))), axis=xl.ndim - 1) \
        if n > 1 else ones
    big = broadcast_in_dim_p.bind(xl, shape=(*xl.shape, n),
                                  broadcast_dimensions=tuple(range(xl.ndim - 1)) + (xl.ndim,))
    upper = np.triu(np.ones((n, n), bool), 1)          # j > i
    upper_b = np.broadcast_to(upper, big.shape)
    right = cumprod_p.bind(ew.select(upper_b, big, const(big, 1)), axis=big.ndim - 1)
    w = ew.mul(right, const(right, np.triu(np.ones((n, n)))))   # keep i <= k
    lead = "abcdefghijklmnopqrstuvw"[:xl.ndim - 1]
    out = einsum_p.bind(ew.mul(tl, left), w, spec=f"{lead}y,{lead}yz->{lead}z")
    return _from_last(out, perm)


cumprod_p.jvp = _cumprod_jvp


def _cumext(name, ufunc):
    p = primitive(name, lambda x, *, axis, reverse=False: _cum(ufunc.accumulate, reverse, x, axis),
                  _cum_abstract)

    def jvp(primals, tangents, *, axis, reverse=False):
        (x,), (t,) = primals, tangents
        ans = p.bind(x, axis=axis, reverse=reverse)
        # the index of the element each running extreme comes from: the last one so far
        # that equals it (in traced operations, so that jit does not guard on the data)
        n = x.shape[axis]
        pos = np.broadcast_to(np.arange(n, dtype=np.intp).reshape(
            [-1 if d == axis else 1 for d in range(len(x.shape))]), x.shape)
        hit = ew.bind("equal", x, ans)
        if reverse:
            idx = cummin_p.bind(ew.select(hit, pos, np.full(x.shape, n - 1, np.intp)),
                                axis=axis, reverse=True)
        else:
            idx = cummax_p.bind(ew.select(hit, pos, np.zeros(x.shape, np.intp)), axis=axis)
        return ans, take_along_axis(t, idx, axis)
    p.jvp = jvp
    p.batch = _axis_batch(p)
    return p


cummax_p = _cumext("cummax", np.maximum)
cummin_p = _cumext("cummin", np.minimum)

# prod ------------------------------------------------------------------------------------------

reduce_prod_p = primitive("reduce_prod", _reduction(np.multiply.reduce, np.prod),
                          lambda x, *, axes: _reduced(x, axes))
reduce_prod_p.batch = _axes_batch(reduce_prod_p)


def _prod_jvp(primals, tangents, *, axes):
    (x,), (t,) = primals, tangents
    ans = reduce_prod_p.bind(x, axes=axes)
    cx = plain(x)
    if cx is not None and np.all(cx != 0):
        return ans, reduce_sum(ew.mul(t, ew.div(expand(ans, x, axes), x)), axes)
    # products of the other elements: exclusive cumulative products from both sides.
    kept = [i for i in range(x.ndim) if i not in axes]
    perm = kept + list(axes)
    flat_shape = tuple(x.shape[i] for i in kept) + (-1,)
    xf = reshape(transpose(x, perm), _fix(flat_shape, x))
    tf = reshape(transpose(t, perm), _fix(flat_shape, x))
    last = xf.ndim - 1
    n = xf.shape[-1]
    ones = const(xf, 1)[..., :1]
    if n == 1:
        return ans, reshape(tf, ans.shape)
    left = concatenate_p.bind(ones, getitem(cumprod_p.bind(xf, axis=last),
                                            _last(xf, slice(None, n - 1))), axis=last)
    right = concatenate_p.bind(getitem(cumprod_p.bind(xf, axis=last, reverse=True),
                                       _last(xf, slice(1, None))), ones, axis=last)
    return ans, reshape(reduce_sum(ew.mul(tf, ew.mul(left, right)), (last,)), ans.shape)


def _fix(shape, x):
    n = math.prod([d for d in shape if d != -1])
    return tuple(math.prod(x.shape) // max(n, 1) if d == -1 else d for d in shape)


reduce_prod_p.jvp = _prod_jvp

# The scan compiler's pairwise forms (fusion.HELPERS' _maximum/_minimum propagate NaN).
scalar_loops.REDUCTIONS.update({reduce_prod_p: "({0} * {1})", reduce_max_p: "_maximum({0}, {1})",
                                reduce_min_p: "_minimum({0}, {1})",
                                reduce_and_p: "({0} and {1})", reduce_or_p: "({0} or {1})"})


# Other array libraries (core/backend.py): the standard's reductions and cumulative sums.
def _cum_xp(fn):
    def make(xp):
        def cum(x, *, axis, reverse=False):
            f = getattr(xp, fn)
            if reverse:
                return xp.flip(f(xp.flip(x, axis=axis), axis=axis), axis=axis)
            return f(x, axis=axis)
        return cum
    return make


reduce_max_p.array_api = lambda xp: lambda x, *, axes: xp.max(x, axis=axes)
reduce_min_p.array_api = lambda xp: lambda x, *, axes: xp.min(x, axis=axes)
reduce_or_p.array_api = lambda xp: lambda x, *, axes: xp.any(x, axis=axes)
reduce_and_p.array_api = lambda xp: lambda x, *, axes: xp.all(x, axis=axes)
reduce_prod_p.array_api = lambda xp: lambda x, *, axes: xp.prod(x, axis=axes, dtype=x.dtype)
argmax_p.array_api = lambda xp: lambda x, *, axis: xp.argmax(x, axis=axis)
argmin_p.array_api = lambda xp: lambda x, *, axis: xp.argmin(x, axis=axis)
cumsum_p.array_api = _cum_xp("cumulative_sum")
cumprod_p.array_api = _cum_xp("cumulative_prod")


def _torch_cum(name):
    def cum(x, *, axis, reverse=False):
        import torch  # lazy: only torch tensors come here
        f = getattr(torch, name)
        if reverse:
            return torch.flip(f(torch.flip(x, (axis,)), dim=axis).values, (axis,))
        return f(x, dim=axis).values
    return cum


defbackend(cummax_p, torch=_torch_cum("cummax"))
defbackend(cummin_p, torch=_torch_cum("cummin"))

# whole-program native code (ir/native.py): loops from the identity, NaN and -0.0 as NumPy's
native_rules.defrule(reduce_max_p, native_rules.Reduction("_T(-np.inf)", "_maximum({0}, {1})"))
native_rules.defrule(reduce_min_p, native_rules.Reduction("_T(np.inf)", "_minimum({0}, {1})"))
