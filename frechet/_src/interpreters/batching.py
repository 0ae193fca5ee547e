"""Batching: run a computation on a stack of inputs at once, the batch axis first.

Jacobians use it to push a whole basis through a linear program in one pass. A batch rule
receives the arguments and which of them carry the batch axis (always axis 0) and returns the
output with the batch axis first.
"""

from __future__ import annotations

import numpy as np

from frechet._src import tree
from frechet._src.core import trace as _trace
from frechet._src.core.backend import dtype_of
from frechet._src.core.registry import BUILTIN, front_end
from frechet._src.core.trace import Trace, Tracer
from frechet._src.errors import FrechetError

# How a batching trace applies each named collective (psum, ...): filled by lax/collectives.py,
# which defines them above this layer.
COLLECTIVE_RULES: dict = {}


class BatchTracer(Tracer):
    __slots__ = ("val",)

    def __init__(self, trace, val):
        self._trace = trace
        self.val = val

    @property
    def shape(self):
        return tuple(self.val.shape[1:])

    @property
    def dtype(self):
        return dtype_of(self.val)


class BatchTrace(Trace):
    __slots__ = ("axis_name", "size")

    def __init__(self, parent, size, axis_name=None):
        self.parent = parent
        self.size = size
        self.axis_name = axis_name

    def lift(self, value):
        """A constant, the same for every example."""
        return BatchTracer(self, with_batch_axis(value, self.size))

    def process(self, prim, args, params):
        if prim.collective:
            return self._collective(prim, args, params)
        vals = list(args)
        batched = [False] * len(args)
        found = False
        for i, a in enumerate(args):
            if type(a) is BatchTracer and a._trace is self:
                vals[i] = a.val
                batched[i] = True
                found = True
        if not found:
            return self.parent.process(prim, vals, params)
        rule = prim.batch
        if rule is None:
            raise FrechetError(f"primitive '{prim.name}' has no batching rule")
        token = _trace.set_current(self.parent)
        try:
            out = rule(vals, tuple(batched), **params)
        finally:
            _trace.reset_current(token)
        if prim.multiple_results:
            return [BatchTracer(self, o) for o in out]
        return BatchTracer(self, out)

    def _split(self, args):
        vals = [a.val if type(a) is BatchTracer and a._trace is self else a for a in args]
        return vals, [type(a) is BatchTracer and a._trace is self for a in args]

    def _in_parent(self, method, *rest):
        token = _trace.set_current(self.parent)
        try:
            outs = method(*rest)
        finally:
            _trace.reset_current(token)
        return [BatchTracer(self, o) for o in outs]

    def process_custom_jvp(self, fun, jvp, args):
        """A custom-JVP function of batched values: the function and its rule, both batched,
        make a custom-JVP function of the parent's values (the rule is kept)."""
        vals, batched = self._split(args)
        if not any(batched):
            return self.parent.process_custom_jvp(fun, jvp, vals)
        n = self.size

        def bfun(*xs):
            return batch_flat(fun, list(xs), batched, n)

        def bjvp(primals, tangents):
            k = len(primals)

            def both(*pt):
                out, tout = jvp(list(pt[:k]), list(pt[k:]))
                return list(out) + list(tout)
            res = batch_flat(both, list(primals) + list(tangents), batched + batched, n)
            return res[:len(res) // 2], res[len(res) // 2:]
        return self._in_parent(self.parent.process_custom_jvp, bfun, bjvp, vals)

    def process_custom_vjp(self, fun, fwd, bwd, args):
        """Likewise for custom-VJP functions: fwd and bwd run batched; the cotangent of an
        argument shared by all examples is the sum of the examples' cotangents."""
        vals, batched = self._split(args)
        if not any(batched):
            return self.parent.process_custom_vjp(fun, fwd, bwd, vals)
        n = self.size
        example_shapes = [v.shape[1:] if b else v.shape for v, b in zip(vals, batched)]

        def bfun(*xs):
            return batch_flat(fun, list(xs), batched, n)

        def bfwd(*xs):
            store = []

            def flat_fwd(*ys):
                outs, res = fwd(*ys)
                leaves, res_tree = tree.flatten(res)
                store.append((len(outs), res_tree))
                return list(outs) + leaves
            vals_out, flags = batch_flat_raw(flat_fwd, list(xs), batched, n)
            k, res_tree = store[0]
            outs = [o if b else with_batch_axis(o, n) for o, b in zip(vals_out[:k], flags[:k])]
            return outs, (res_tree, vals_out[k:], flags[k:])

        def bbwd(res, ct):
            res_tree, res_leaves, res_flags = res
            cts = list(ct) if isinstance(ct, tuple) else [ct]
            m = len(res_leaves)

            def flat_bwd(*zs):
                out = bwd(tree.unflatten(res_tree, list(zs[:m])),
                          tuple(zs[m:]) if len(zs) - m > 1 else zs[m])
                return [np.zeros(s, v.dtype) if o is None else o
                        for o, s, v in zip(out, example_shapes, vals)]
            per_example = batch_flat(flat_bwd, res_leaves + cts, list(res_flags) + [True] * len(cts),
                                     n)
            return [c if b else BUILTIN.reduce_sum.bind(c, axes=(0,))
                    for c, b in zip(per_example, batched)]
        return self._in_parent(self.parent.process_custom_vjp, bfun, bfwd, bbwd, vals)

    def _collective(self, prim, args, params):
        vals, batched = self._split(args)
        if params["axis_name"] != self.axis_name and not any(batched):
            return self.parent.process(prim, vals, params)
        token = _trace.set_current(self.parent)
        try:
            out, b = COLLECTIVE_RULES[prim](self, prim, vals, batched, params)
        finally:
            _trace.reset_current(token)
        return BatchTracer(self, out) if b else out


def axis_size(axis_name) -> int:
    """The size of the enclosing vmap axis called `axis_name`."""
    t = _trace.current()
    while t is not None:
        if type(t) is BatchTrace and t.axis_name == axis_name:
            return t.size
        t = t.parent
    raise FrechetError(f"unbound axis name {axis_name!r}: collectives need an enclosing "
                       f"frechet.vmap(..., axis_name={axis_name!r})")


def with_batch_axis(x, n):
    """x broadcast along a new leading batch axis of size n (a view in NumPy)."""
    return BUILTIN.broadcast_in_dim.bind(x, shape=(n, *x.shape),
                                   broadcast_dimensions=tuple(range(1, len(x.shape) + 1)))


def select_examples(pick, on_true, on_false):
    """Per example (leading axis): on_true where pick (a vector of booleans), else on_false."""
    where = front_end().where
    return where(pick.reshape(pick.shape + (1,) * (on_true.ndim - 1)), on_true, on_false)


def broadcast_batched(args, batched):
    """Give every unbatched argument the batch axis."""
    n = next(a.shape[0] for a, b in zip(args, batched) if b)
    return [a if b else with_batch_axis(a, n) for a, b in zip(args, batched)]


def batch_flat(fun, args, batched, size=None):
    """Run `fun` on flat `args`, those flagged in `batched` carrying the batch axis first.
    Returns outputs, each with the batch axis first (unbatched outputs are broadcast)."""
    outs, out_batched = batch_flat_raw(fun, args, batched, size)
    n = size if size is not None else next(a.shape[0] for a, b in zip(args, batched) if b)
    return [o if b else with_batch_axis(o, n) for o, b in zip(outs, out_batched)]


def batch_flat_raw(fun, args, batched, size=None, axis_name=None):
    """Like batch_flat, but returns (outputs, which outputs carry the batch axis)."""
    n = size if size is not None else next(a.shape[0] for a, b in zip(args, batched) if b)
    bt = BatchTrace(_trace.current(), n, axis_name)
    ins = [BatchTracer(bt, a) if b else a for a, b in zip(args, batched)]
    with _trace.transforming(bt):
        outs = fun(*ins)
    vals, out_batched = [], []
    for o in outs:
        mine = type(o) is BatchTracer and o._trace is bt
        vals.append(o.val if mine else o)
        out_batched.append(mine)
    return vals, out_batched
