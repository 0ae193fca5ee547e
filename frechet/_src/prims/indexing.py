"""Indexing: `getitem` (NumPy basic and advanced indexing, a gather) and its transpose
`index_add` (a scatter-add), plus `index_set` for `x[i] = v`.

The index is a static param, a tuple whose entries are `("s", start, stop, step)` for a slice,
`("i", k)` for an integer, `None` for a new axis and `("a",)` for an integer index array; the
arrays themselves are trailing positional arguments (constants, never differentiated).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from frechet._src.core.backend import defbackend, device_of, dtype_of, name_of
from frechet._src.core.primitive import primitive
from frechet._src.core.registry import Role, declare
from frechet._src.core.spec import ArraySpec
from frechet._src.errors import BackendError
from frechet._src.interpreters.ad import is_undefined
from frechet._src.interpreters.batching import with_batch_axis
from frechet._src.interpreters.enclosure import rules as enc
from frechet._src.ir import codegen, native_rules, scalar_loops
from frechet._src.prims.elementwise import UFUNC_PRIMS
from frechet._src.prims.rules import deflinear
from frechet._src.prims.shape import broadcast_in_dim_p, reshape, select_p, transpose


def encode(idx) -> tuple:
    """Turn a normalised NumPy index (no Ellipsis, no booleans) into (param, arrays)."""
    param, arrays = [], []
    for e in idx:
        if e is None:
            param.append(None)
        elif isinstance(e, slice):
            param.append(("s", e.start, e.stop, e.step))
        elif isinstance(e, (int, np.integer)):
            param.append(("i", int(e)))
        elif e is Ellipsis or isinstance(e, (bool, np.bool_)):
            raise TypeError("getitem takes a normalised index (no Ellipsis or booleans)")
        else:
            param.append(("a",))
            arrays.append(e)
    return tuple(param), arrays


def build(index, arrays) -> tuple:
    it = iter(arrays)
    out = []
    for e in index:
        if e is None:
            out.append(None)
        elif e[0] == "s":
            out.append(slice(e[1], e[2], e[3]))
        elif e[0] == "i":
            out.append(e[1])
        else:
            out.append(next(it))
    return tuple(out)


def _fake(spec):
    """A zero-stride array of the spec: any shape, no memory."""
    return np.lib.stride_tricks.as_strided(np.zeros(1, spec.dtype), spec.shape,
                                           (0,) * len(spec.shape))


@functools.lru_cache(maxsize=4096)
def _result_shape(shape, index, array_shapes):
    arrays = [np.zeros(s, np.intp) for s in array_shapes]
    dummy = np.lib.stride_tricks.as_strided(np.zeros(1), shape, (0,) * len(shape))
    return np.shape(dummy[build(index, arrays)])


def _getitem_abstract(x, *arrays, index):
    return ArraySpec(_result_shape(x.shape, index, tuple(a.shape for a in arrays)), x.dtype)


getitem_p = primitive("getitem", lambda x, *arrays, index: x[build(index, arrays)],
                      _getitem_abstract)


def _index_add_impl(x, v, *arrays, index):
    out = np.array(x, copy=True)
    idx = build(index, arrays)
    if arrays:
        np.add.at(out, idx, v)
    else:
        out[idx] += v
    return out


def _index_set_impl(x, v, *arrays, index):
    out = np.array(x, copy=True)
    out[build(index, arrays)] = v
    return out


def _update_abstract(x, v, *arrays, index):
    want = _result_shape(x.shape, index, tuple(a.shape for a in arrays))
    if v.shape != want or v.dtype != x.dtype:
        raise TypeError(f"index update of {x} at an index of shape {want} with {v}")
    return x


index_add_p = primitive("index_add", _index_add_impl, _update_abstract)
index_set_p = primitive("index_set", _index_set_impl, _update_abstract)


def _zeros(spec):
    return np.zeros(spec.shape, spec.dtype)


def _getitem_transpose(ct, x, *arrays, index):
    return (index_add_p.bind(_zeros(x.spec), ct, *arrays, index=index),) + (None,) * len(arrays)


def _index_add_transpose(ct, x, v, *arrays, index):
    return (ct if is_undefined(x) else None,
            getitem_p.bind(ct, *arrays, index=index) if is_undefined(v) else None,
            *([None] * len(arrays)))


def _written(x, v, arrays, index):
    """Which elements of v `x[index] = v` keeps: with repeated advanced indices NumPy's last
    write wins, so the others reach nothing. Found by NumPy's own rule, on their positions."""
    pos = np.arange(np.prod(v.shape, dtype=np.intp), dtype=np.intp).reshape(v.shape)
    landed = index_set_p.bind(np.full(x.shape, -1, np.intp), pos, *arrays, index=index)
    return UFUNC_PRIMS[np.equal].bind(getitem_p.bind(landed, *arrays, index=index), pos)


def _index_set_transpose(ct, x, v, *arrays, index):
    cx = index_set_p.bind(ct, np.zeros(v.shape, dtype_of(v)), *arrays, index=index) if is_undefined(x) else None
    cv = None
    if is_undefined(v):
        cv = getitem_p.bind(ct, *arrays, index=index)
        if arrays:          # advanced indices may repeat: the overwritten elements get zero
            cv = select_p.bind(_written(x, v, arrays, index), cv, np.zeros(v.shape, dtype_of(v)))
    return (cx, cv, *([None] * len(arrays)))


deflinear(getitem_p, _getitem_transpose, nlinear=1)
deflinear(index_add_p, _index_add_transpose, nlinear=2)
deflinear(index_set_p, _index_set_transpose, nlinear=2)


def _advanced_axis(index, arrays):
    """Where the batch axis lands when a full slice is put in front of `index`: 0, unless the
    advanced indices are separated, in which case NumPy puts their dimensions first."""
    if not arrays:
        return 0
    pos = [k for k, e in enumerate(index) if e is not None and e[0] in "ai"]
    if pos == list(range(pos[0], pos[-1] + 1)):
        return 0
    return len(np.broadcast_shapes(*[a.shape for a in arrays]))


def _batched_index(index, arrays, batched_arrays, n):
    """The index and arrays that gather example b from x[b] for every b at once, when some
    index arrays carry the batch axis: a batch index array goes first, every other array gets
    the batch axis (broadcast when unbatched). Also returns the permutation that restores the
    unbatched layout, or None: with the batch index first, NumPy puts the advanced dimensions
    first, which differs when the original advanced block did not start the index."""
    core = [a.shape[1:] if b else a.shape for a, b in zip(arrays, batched_arrays)]
    S = np.broadcast_shapes(*core)
    padded = []
    for a, b, c in zip(arrays, batched_arrays, core):
        if not b:
            a = broadcast_in_dim_p.bind(a, shape=(n, *c), broadcast_dimensions=tuple(
                range(1, len(c) + 1)))
        padded.append(reshape(a, (n,) + (1,) * (len(S) - len(c)) + tuple(c)))
    bidx = np.arange(n).reshape((n,) + (1,) * len(S))
    pos = [k for k, e in enumerate(index) if e is not None and e[0] in "ai"]
    perm = None
    if pos == list(range(pos[0], pos[-1] + 1)) and pos[0] > 0:
        before, k = pos[0], len(S)     # dims: (batch, S, before, after) -> (batch, before, S, after)
        perm = [0, *range(1 + k, 1 + k + before), *range(1, 1 + k)]
    return (("a",),) + index, [bidx, *padded], perm


def _complete(perm, ndim):
    return perm + list(range(len(perm), ndim))


def _getitem_batch(args, batched, *, index):
    x, *arrays = args
    if any(batched[1:]):
        n = next(a.shape[0] for a, b in zip(args, batched) if b)
        if not batched[0]:
            x = with_batch_axis(x, n)
        new_index, new_arrays, perm = _batched_index(index, arrays, batched[1:], n)
        out = getitem_p.bind(x, *new_arrays, index=new_index)
        return transpose(out, _complete(perm, out.ndim)) if perm else out
    out = getitem_p.bind(x, *arrays, index=(("s", None, None, None),) + index)
    k = _advanced_axis(index, arrays)
    if k:
        perm = [k] + [i for i in range(out.ndim) if i != k]
        out = transpose(out, perm)
    return out


def _update_batch(prim):
    def rule(args, batched, *, index):
        # the batch size from any batched argument: only the indices may carry it (a sort's
        # permutation under vmap)
        n = next(a.shape[0] for a, b in zip(args, batched) if b)
        x, v = (a if b else with_batch_axis(a, n) for a, b in zip(args[:2], batched[:2]))
        arrays = args[2:]
        if any(batched[2:]):
            n = x.shape[0]
            new_index, new_arrays, perm = _batched_index(index, arrays, batched[2:], n)
            if perm:       # v is laid out as the unbatched result: bring it to NumPy's layout
                v = transpose(v, np.argsort(_complete(perm, v.ndim)).tolist())
            return prim.bind(x, v, *new_arrays, index=new_index)
        k = _advanced_axis(index, arrays)
        if k:
            perm = list(range(1, k + 1)) + [0] + list(range(k + 1, v.ndim))
            v = transpose(v, perm)
        return prim.bind(x, v, *arrays, index=(("s", None, None, None),) + index)
    return rule


getitem_p.batch = _getitem_batch
index_add_p.batch = _update_batch(index_add_p)
index_set_p.batch = _update_batch(index_set_p)
# frechet.bounds: getitem moves elements, applied to both ends of every term (constant indices)
getitem_p.enclosure = enc.move(getitem_p)


def getitem(x, idx):
    """x[idx] for a normalised index tuple."""
    index, arrays = encode(idx)
    return getitem_p.bind(x, *arrays, index=index)


def take_along_axis(x, idx, axis):
    """x gathered along `axis` by an integer array idx of x's rank (open-mesh indexing)."""
    nd = x.ndim
    mesh = []
    for d in range(nd):
        if d == axis:
            mesh.append(idx)
        else:
            shape = [1] * nd
            shape[d] = idx.shape[d]
            mesh.append(np.arange(idx.shape[d]).reshape(shape))
    return getitem(x, tuple(mesh))


# Passes and back ends: peephole forwarding, codegen's static-index forms, the scan compiler.
declare(getitem_p, Role.GETITEM)
declare(index_add_p, Role.INDEX_ADD)
codegen.INLINE[getitem_p] = codegen.static_index(build, add=False)
codegen.INLINE[index_add_p] = codegen.static_index(build, add=True)
scalar_loops.MOVES.add(getitem_p)
scalar_loops.SCATTER_ADDS[index_add_p] = build


# Other array libraries (core/backend.py): the standard's indexing, with slices of negative
# step taken as flips (the standard allows them, PyTorch does not); scatter-adds at index
# arrays (np.add.at: repeated indices add up) have no standard form, so each library names
# its own.
def _xp_index(xp, x, index, arrays):
    """(x', idx) with x'[idx] == x[build(index, arrays)] and no negative steps in idx."""
    idx, dim = [], 0
    for e in build(index, arrays):
        if isinstance(e, slice) and e.step is not None and e.step < 0:
            start, stop, step = e.indices(x.shape[dim])
            x = xp.flip(x, axis=dim)
            n = x.shape[dim]
            e = slice(n - 1 - start, n - 1 - stop, -step)
        idx.append(e)
        dim += e is not None
    return x, tuple(idx)


def _getitem_xp(xp):
    def getitem(x, *arrays, index):
        x, idx = _xp_index(xp, x, index, arrays)
        return x[idx]
    return getitem


def _index_set_xp(xp):
    def index_set(x, v, *arrays, index):
        out = xp.reshape(xp.asarray(x, copy=True), (-1,))
        out[_positions(xp, x, index, arrays)] = xp.reshape(v, (-1,))
        return xp.reshape(out, tuple(x.shape))
    return index_set


def _positions(xp, x, index, arrays):
    """The flat positions x[index] reads, in the order it reads them (a view's flat index)."""
    n = math.prod(x.shape)
    pos = xp.reshape(xp.arange(n, device=device_of(x)), tuple(x.shape))
    pos, idx = _xp_index(xp, pos, index, arrays)
    return xp.reshape(pos[idx], (-1,))


def _index_add_xp(xp):
    """x with v added at a basic index (slices, integers, new axes) by the standard's
    __setitem__; adding at index arrays, where repeated indices add up, is each library's
    own scatter-add (the tables below), and raises for a library without one."""
    def index_add(x, v, *arrays, index):
        if arrays:
            raise BackendError(
                f"primitive 'index_add' at index arrays has no implementation for the "
                f"{name_of(xp)} back end (no scatter-add in the standard): index with slices, "
                f"or register one with frechet.extend.defbackend(index_add_p, ...)")
        x, idx = _xp_index(xp, xp.asarray(x, copy=True), index, arrays)
        x[idx] = x[idx] + v
        return _xp_index(xp, x, index, arrays)[0]   # flipped back where a step was negative
    return index_add


def _torch_index_add(x, v, *arrays, index):
    import array_api_compat.torch as xp  # lazy: only torch tensors come here
    out = x.clone().reshape(-1)
    out.index_put_((_positions(xp, x, index, arrays),), v.reshape(-1), accumulate=True)
    return out.reshape(x.shape)


def _cupy_index_add(x, v, *arrays, index):
    import array_api_compat.cupy as xp  # lazy: only CuPy arrays come here
    import cupyx
    out = x.copy().reshape(-1)
    cupyx.scatter_add(out, _positions(xp, x, index, arrays), v.reshape(-1))
    return out.reshape(x.shape)


getitem_p.array_api = _getitem_xp
index_set_p.array_api = _index_set_xp
index_add_p.array_api = _index_add_xp
defbackend(index_add_p, torch=_torch_index_add, cupy=_cupy_index_add)

native_rules.defrule(getitem_p, native_rules.GetItem())        # whole-program native code
native_rules.defrule(index_add_p, native_rules.Update(add=True))
native_rules.defrule(index_set_p, native_rules.Update(add=False))
