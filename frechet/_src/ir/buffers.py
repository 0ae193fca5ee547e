"""Buffer planning: compiled programs write large intermediates into buffers they keep.

A fresh large NumPy array costs more than its arithmetic: the allocator hands memory back to
the operating system when it is freed and takes it again (page faults, cold caches) on the next
call. Measured on mlp_grad's program: the same equations take 6.2 ms writing into live memory
and 10.3 ms allocating afresh. So a compiled program gives each large intermediate computed
by a ufunc (or a matmul) a slot, reused by later intermediates of the same shape and dtype once
every value that may share its memory is dead, and passes it as `out=`.

A value that reaches an output is never given a slot (the caller keeps it); a value made by
anything other than a ufunc with out= may be a view of its inputs (reshape, transpose,
broadcast, slicing), so it keeps their slots alive as long as it lives.
"""

from __future__ import annotations

import math

import numpy as np

from frechet._src.ir.fusion import Fused
from frechet._src.ir.program import Program

# Intermediates smaller than this keep NumPy's allocation: out= costs ~0.1 us of argument
# parsing, and small blocks come from the allocator's free lists anyway.
MIN_BYTES = 1 << 16


# Primitive -> out_form(eqn): a function computing eqn (its inputs as positional arguments)
# that takes out=, or None; for primitives whose impl is not a plain ufunc (a matmul).
OUT_FORM: dict = {}


def out_ufunc(eqn):
    """The ufunc (or other function) computing `eqn` with an out= argument, or None."""
    impl = eqn.primitive.impl
    if isinstance(impl, np.ufunc) and not eqn.params and impl.nout == 1:
        return impl
    form = OUT_FORM.get(eqn.primitive)
    return None if form is None else form(eqn)


def _elementwise(eqn) -> bool:
    impl = eqn.primitive.impl
    return isinstance(impl, np.ufunc) and impl.signature is None


def plan(program: Program, items) -> tuple[dict, list]:
    """Slots for the intermediates of `items` (the program's equations, with fused runs).
    Returns ({item index: slot}, [slot spec]) where each slot spec is (shape, dtype)."""
    last_use: dict = {}
    for i, item in enumerate(items):
        for v in item.inputs:
            last_use[v] = i
    end = len(items)
    for v in program.outvars:
        if v is not None:
            last_use[v] = end
    # roots[v]: the slotted vars whose memory v may share
    roots: dict = {}
    candidate: dict = {}
    for i, item in enumerate(items):
        if isinstance(item, Fused):         # numba returns fresh arrays: no slot, no views
            continue
        if len(item.outputs) == 1 and out_ufunc(item):
            v = item.outputs[0]
            if v.spec.shape and v.spec.dtype.itemsize * math.prod(v.spec.shape) >= MIN_BYTES:
                candidate[i] = v
                roots[v] = frozenset((v,))
                continue
        r = frozenset().union(*(roots.get(v, ()) for v in item.inputs))
        for v in item.outputs:              # anything else may return views of its inputs
            roots[v] = r
    escaping = set().union(*(roots.get(v, ()) for v in program.outvars if v is not None))
    free_at: dict = {}
    for v, r in roots.items():
        for b in r:
            free_at[b] = max(free_at.get(b, -1), last_use.get(v, -1))
    slots, specs = {}, []
    free: dict = {}          # (shape, dtype) -> free slot ids
    release: dict = {}       # item index -> slots freed after it
    for i, item in enumerate(items):
        v = candidate.get(i)
        if v is not None and _elementwise(item):
            # an elementwise ufunc may write over an input read for the last time here (NumPy
            # buffers any overlap it cannot do in place): `sin(x) * cos(x)` needs 2 slots, not 3
            for key, s in release.pop(i, ()):
                free.setdefault(key, []).append(s)
        if v is not None and v not in escaping and free_at.get(v, -1) > i:
            key = (v.spec.shape, v.spec.dtype)
            pool = free.get(key)
            if pool:
                s = pool.pop()
            else:
                s = len(specs)
                specs.append(key)
            slots[i] = s
            release.setdefault(free_at[v], []).append((key, s))
        for key, s in release.pop(i, ()):
            free.setdefault(key, []).append(s)
    return slots, specs
