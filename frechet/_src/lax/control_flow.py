"""Structured control flow: cond, switch, while_loop, fori_loop, scan.

In eager mode tracing is execution, so these run as Python over traced values: they are
differentiable in forward and reverse mode (reverse mode through a while_loop records the
iterations that actually ran, so trip counts known only at run time are fine). Under vmap a
batched predicate or index selects per example: cond and switch compute every branch and
select; while_loop runs until no example continues, updating only those that do. With staged
values (make_program, jit) they bind primitives with sub-programs instead: cond and switch the
cond primitive (branch.py), scan and fori_loop the scan primitive and while_loop the while
primitive (loop.py, while_loop.py).
"""

from __future__ import annotations

import numpy as np

from frechet._src import tree
from frechet._src.core.registry import front_end
from frechet._src.core.trace import Tracer, concrete
from frechet._src.errors import ConcretizationError
from frechet._src.interpreters.batching import BatchTracer

# Defined here, not on first use, so that the primitive registry after `import frechet` does
# not depend on what ran before (the loops' primitives are registered when these import).
from frechet._src.lax import loop as _loop  # noqa: F401
from frechet._src.lax import tape as _tape  # noqa: F401
from frechet._src.lax import while_loop as _while_loop  # noqa: F401
from frechet._src.lax.branch import is_staged, staged_switch
from frechet._src.lax.loop import staged_scan
from frechet._src.lax.while_loop import staged_while


def _decide(pred, what):
    """The concrete truth value of a predicate, or None if it is batched (differs by example)."""
    if isinstance(pred, BatchTracer):
        return None
    return concrete(pred, what, "jit traces on concrete values (a loop's trip count becomes "
                                "a guard); staging a loop abstractly needs a while primitive, "
                                "which is not built yet")


def _select(pred, on_true, on_false):
    where = front_end().where
    return tree.tree_map(lambda a, b: where(pred, a, b), on_true, on_false)


def cond(pred, true_fun, false_fun, *operands):
    """true_fun(*operands) if pred else false_fun(*operands) (both branches, selected per
    example, when pred is batched under vmap).

    Example:
      >>> cond(x > 0, np.sin, np.cos, x)
    """
    if is_staged(pred):           # make_program, jit: a cond primitive with both branches
        return staged_switch(pred, [false_fun, true_fun], operands)
    c = _decide(pred, "cond")
    if c is not None:
        if np.ndim(c) != 0:
            raise TypeError(f"cond predicate must be a scalar, got shape {np.shape(c)}")
        return true_fun(*operands) if bool(c) else false_fun(*operands)
    return _select(pred, true_fun(*operands), false_fun(*operands))


def switch(index, branches, *operands):
    """branches[index](*operands), with index clamped to the valid range as in JAX."""
    branches = list(branches)
    if not branches:
        raise ValueError("switch needs at least one branch")
    if is_staged(index):
        return staged_switch(index, branches, operands)
    c = _decide(index, "switch")
    if c is not None:
        i = int(np.clip(c, 0, len(branches) - 1))
        return branches[i](*operands)
    clip = front_end().clip
    equal = front_end().equal
    idx = clip(index, 0, len(branches) - 1)
    outs = [b(*operands) for b in branches]
    result = outs[-1]
    for k in range(len(outs) - 2, -1, -1):
        result = _select(equal(idx, k), outs[k], result)
    return result


def while_loop(cond_fun, body_fun, init_val):
    """Repeat val = body_fun(val) while cond_fun(val); differentiable in both modes. With a
    staged carry (make_program, jit) it is one while primitive; reverse mode through it is a
    loop that records each iteration's residuals on a tape and a loop back over the tape, so
    jit(grad(f)) compiles loops (not one copy of the body per iteration) and finds the trip
    count when it runs."""
    if any(is_staged(a) for a in tree.flatten(init_val)[0]):
        return staged_while(cond_fun, body_fun, init_val)
    val = init_val
    while True:
        pred = cond_fun(val)
        c = _decide(pred, "while_loop")
        if c is not None:
            if not bool(c):
                return val
            val = body_fun(val)
            continue
        if not _any_batched(pred):            # no example continues
            return val
        val = _select(pred, body_fun(val), val)


def _any_batched(pred) -> bool:
    """Whether any example of a batched predicate is true (through nested vmaps)."""
    v = pred
    while isinstance(v, BatchTracer):
        v = v.val
    if isinstance(v, Tracer):
        c = v.concrete()
        if c is None:
            raise ConcretizationError("while_loop under vmap inside a staged context needs jit "
                                      "support for control flow, which is not built yet")
        v = c
    return bool(np.any(v))


def fori_loop(lower, upper, body_fun, init_val):
    """val = body_fun(i, val) for i in range(lower, upper). Staged (make_program, jit): a scan
    when the bounds are concrete, a while primitive when they are staged."""
    if is_staged(lower) or is_staged(upper):
        lo = hi = None
    else:
        lo = _decide(lower, "fori_loop")
        hi = _decide(upper, "fori_loop")
        if lo is not None and hi is not None and any(is_staged(a)
                                                     for a in tree.flatten(init_val)[0]):
            def step(carry, _):
                i, v = carry
                return (i + 1, body_fun(i, v)), None
            (_, val), _ = scan(step, (np.int64(int(lo)), init_val), length=max(int(hi) - int(lo), 0))
            return val
    if lo is None or hi is None:
        fnp = front_end()
        add, less = fnp.add, fnp.less
        _, val = while_loop(lambda s: less(s[0], upper), lambda s: (add(s[0], 1), body_fun(*s)),
                            (lower, init_val))
        return val
    val = init_val
    for i in range(int(lo), int(hi)):
        val = body_fun(i, val)
    return val


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """carry, y = f(carry, x) over the leading axis of xs; returns (carry, stacked ys).

    Eager code runs the loop in Python. Staged (make_program, jit), it is one scan primitive
    whose body is staged once; `unroll=True` (or an unroll of at least the length) stages
    every step instead: a longer trace and program, but each step is straight-line code that
    jit simplifies across steps (faster for small bodies; see bench/results.md)."""
    stack = front_end().stack
    leaves = tree.flatten(xs)[0] if xs is not None else []
    n = length if length is not None else (leaves[0].shape[0] if leaves else None)
    if n is None:
        raise ValueError("scan needs xs or length")
    for x in leaves:
        if x.shape[0] != n:
            raise ValueError(f"scan got leading axes of sizes {[x.shape[0] for x in leaves]} "
                             f"and length {length}")
    full = unroll is True or (not isinstance(unroll, bool) and n > 0 and unroll >= n)
    if not full and any(is_staged(a) for a in tree.flatten(init)[0] + leaves):
        return staged_scan(f, init, xs, n, reverse)     # one scan primitive, body staged once
    carry, ys = init, []
    order = range(n - 1, -1, -1) if reverse else range(n)
    for i in order:
        x = tree.tree_map(lambda a, i=i: a[i], xs) if xs is not None else None
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys = ys[::-1]
    if not ys or all(y is None for y in ys):
        return carry, None
    y_leaves = [tree.flatten(y)[0] for y in ys]
    y_tree = tree.flatten(ys[0])[1]
    stacked = [stack([yl[k] for yl in y_leaves]) for k in range(len(y_leaves[0]))]
    return carry, tree.unflatten(y_tree, stacked)
