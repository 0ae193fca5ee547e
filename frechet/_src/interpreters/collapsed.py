"""Collapsed Taylor mode: sums of second directional derivatives (Laplacians, diffusion
operators) in one forward pass.

For directions v_1..v_R, Taylor mode to order 2 along each would push R second-order
coefficients through the program. Only their sum is wanted, and the second-order coefficient of
a composition is linear in the inputs' second-order coefficients, so the sum can be formed at
every primitive instead (Dangel et al., "Kronecker-factored approximate curvature for
physics-informed neural networks" and "collapsing Taylor mode"; Li et al.'s forward
Laplacian): each value carries its primal x0, its R first-order coefficients X1 (a leading axis)
and one collapsed second-order coefficient x2, and a primitive f maps them to
    y1_r = Df(x0)[x1_r],   y2 = Df(x0)[x2] + sum_r D^2 f(x0)[x1_r, x1_r].
(Here x2 is the second derivative along the curve, not the normalised coefficient.) The local
second derivatives come from the primitive's JVP rule differentiated once more, batched over the
directions; a linear primitive with one varying input has none.
"""

from __future__ import annotations

import numpy as np

from frechet._src import tree
from frechet._src.core import backend
from frechet._src.core import trace as _trace
from frechet._src.core.registry import front_end
from frechet._src.core.trace import Trace, Tracer
from frechet._src.errors import FrechetError
from frechet._src.interpreters.ad import jvp_flat
from frechet._src.interpreters.batching import batch_flat
from frechet._src.interpreters.jet import PrimalTracer


class CollapsedTracer(PrimalTracer):
    __slots__ = ("first", "second")

    def __init__(self, trace, primal, first, second):
        self._trace = trace
        self.primal = primal
        self.first = first          # (R, *shape): Df[v_r] so far, or None
        self.second = second        # sum_r D^2[v_r, v_r] (+ Df[b]), or None


class CollapsedTrace(Trace):
    __slots__ = ("size",)

    def __init__(self, parent, size):
        self.parent = parent
        self.size = size

    def lift(self, value):
        return CollapsedTracer(self, value, None, None)

    def process(self, prim, args, params):
        primals, firsts, seconds = list(args), [None] * len(args), [None] * len(args)
        for i, a in enumerate(args):
            if type(a) is CollapsedTracer and a._trace is self:
                primals[i], firsts[i], seconds[i] = a.primal, a.first, a.second
        if all(f is None and s is None for f, s in zip(firsts, seconds)):
            return self.parent.process(prim, primals, params)
        if prim.jvp is None:
            raise FrechetError(f"primitive '{prim.name}' has no JVP rule (collapsed Taylor mode)")
        with _trace.use(self.parent):
            out, first, second = _rule(prim, primals, firsts, seconds, params)
        if prim.multiple_results:
            return [CollapsedTracer(self, o, f, s) for o, f, s in zip(out, first, second)]
        return CollapsedTracer(self, out[0], first[0], second[0])


def _listed(x, multiple):
    return list(x) if multiple else [x]


def _rule(prim, primals, firsts, seconds, params):
    multiple = prim.multiple_results
    live = [i for i, f in enumerate(firsts) if f is not None]

    def tangent_map(tangents, at=primals):
        ts = [None] * len(at)
        for i, t in zip(live, tangents):
            ts[i] = t
        return prim.jvp(list(at), ts, **params)

    if all(s is None for s in seconds):
        out, drift = prim.bind(*primals, **params), None
    else:
        out, drift = prim.jvp(list(primals), seconds, **params)
    out = _listed(out, multiple)
    drift = _listed(drift, multiple) if drift is not None else [None] * len(out)
    if not live:
        return out, [None] * len(out), drift

    def first_one(*ts):
        t = tangent_map(ts)[1]
        return [_zero_like(o) if x is None else x for o, x in zip(out, _listed(t, multiple))]
    first = batch_flat(first_one, [firsts[i] for i in live], [True] * len(live))
    curvature = [None] * len(out)
    if not (prim.linear and len(live) == 1):
        def second_one(*ts):
            def along(*xs):
                at = list(primals)
                for i, x in zip(live, xs):
                    at[i] = x
                t = tangent_map(ts, at)[1]
                return [_zero_like(o) if x is None else x for o, x in zip(out, _listed(t, multiple))]
            t = jvp_flat(along, [primals[i] for i in live], list(ts))[1]
            return [_zero_like(o) if x is None else x for o, x in zip(out, t)]
        per = batch_flat(second_one, [firsts[i] for i in live], [True] * len(live))
        curvature = [p.sum(axis=0) for p in per]
    second = [c if d is None else d if c is None else d + c for c, d in zip(curvature, drift)]
    return out, list(first), second


def _zero_like(x):
    return front_end().zeros_like(x)


def second_order(fun, directions, drift=None):
    """The operator u -> sum_r D^2 u(x)[v_r, v_r] + Du(x)[b] applied to `fun`, computed by
    collapsed Taylor mode: x -> that value (shaped like fun's output).

    Args:
      fun: a function of one array x.
      directions: the v_r, stacked: shape (R, *x.shape). With directions = sigma^T the operator
        is tr(sigma sigma^T Hess u), the diffusion part of a PDE's generator.
      drift: b (shaped like x), or None.
    """
    def op(x):
        v = directions if not callable(directions) else directions(x)
        ct = CollapsedTrace(_trace.current(), np.shape(v)[0])
        with _trace.transforming(ct):
            y = fun(CollapsedTracer(ct, x, v, drift))
        leaves, treedef = tree.flatten(y)
        outs = []
        for o in leaves:
            mine = type(o) is CollapsedTracer and o._trace is ct
            s = o.second if mine else None
            outs.append(s if s is not None else _zero_like(o.primal if mine else o))
        return tree.unflatten(treedef, outs)
    return op


def laplacian(fun):
    """x -> the Laplacian of fun at x (sum of its second derivatives along each coordinate of
    x, elementwise over fun's outputs), by collapsed Taylor mode: one pass carrying n first-order
    coefficients and one second-order coefficient, instead of n Hessian-vector products."""
    def op(x):
        x = x if isinstance(x, Tracer) or backend.is_foreign(x) else np.asarray(x)
        n = int(np.prod(x.shape))
        # a NumPy constant, made x's library's by the primitives that meet it (core/backend.py)
        basis = np.eye(n, dtype=backend.dtype_of(x)).reshape((n, *x.shape))
        return second_order(fun, basis)(x)
    return op
