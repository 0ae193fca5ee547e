"""Taylor mode: truncated Taylor polynomials pushed through primitives by coefficient recurrences.

A JetTracer holds a primal x0 and the normalised Taylor coefficients x1..xK of a curve
x(t) = x0 + x1 t + ... + xK t^K (xk = x^(k)(0) / k!); each primitive's `taylor` rule maps its
inputs' coefficients to its output's, in one pass, instead of K nested JVPs. The rules, next to
each primitive (prims/rules.py, prims/elementwise.py):
  - linear primitives apply themselves to each coefficient;
  - bilinear ones (multiply, einsum) take Cauchy products, y_k = sum_j f(a_j, b_{k-j});
  - divide solves b * y = a order by order;
  - smooth unary functions with derivative d(x, y) use y' = d(x, y) x', which gives
    y_k = (1/k) sum_{j=1..k} j x_j g_{k-j} with g the series of d(x, y), itself computed by
    Taylor mode to one order less (its recursion ends because each level drops an order);
  - zero-derivative primitives give no series.
A primitive without a rule raises, naming it.

`jet(f, primals, series)` takes and returns derivative coefficients as jax.experimental.jet
does (x(t) = x0 + sum_k v_k t^k / k!); `taylor(f, x, direction, order)` returns normalised
coefficients; `derivatives(f, x, order)` the derivatives of a scalar function.
"""

from __future__ import annotations

import math

import numpy as np

from frechet._src import tree
from frechet._src.core import backend
from frechet._src.core import trace as _trace
from frechet._src.core.registry import front_end
from frechet._src.core.trace import Trace, Tracer
from frechet._src.errors import FrechetError


class PrimalTracer(Tracer):
    """A tracer that carries its primal value (Taylor mode, collapsed Taylor mode): its shape,
    dtype and concrete value are the primal's."""

    __slots__ = ("primal",)

    @property
    def shape(self):
        return np.shape(self.primal)

    @property
    def dtype(self):
        # another library's array: specs speak NumPy's dtypes (as JVPTracer's)
        return backend.dtype_of(self.primal)

    def concrete(self):
        return self.primal if not isinstance(self.primal, Tracer) else self.primal.concrete()


class JetTracer(PrimalTracer):
    __slots__ = ("series",)

    def __init__(self, trace, primal, series):
        self._trace = trace
        self.primal = primal
        self.series = series        # [x1, ..., xK] (normalised), or None: a constant

    def constant(self):
        if self.series is not None:
            return None
        p = self.primal
        return p.constant() if isinstance(p, Tracer) else p


class JetTrace(Trace):
    __slots__ = ("order",)

    def __init__(self, parent, order):
        self.parent = parent
        self.order = order

    def lift(self, value):
        return JetTracer(self, value, None)

    def process(self, prim, args, params):
        primals, series, found = list(args), [None] * len(args), False
        for i, a in enumerate(args):
            if type(a) is JetTracer and a._trace is self:
                primals[i], series[i], found = a.primal, a.series, True
        if not found or all(s is None for s in series):
            return self.parent.process(prim, primals, params)
        rule = prim.taylor
        if rule is None:
            if prim.jvp is None:
                raise FrechetError(f"primitive '{prim.name}' has no Taylor rule or JVP rule "
                                   "(frechet.jet)")
            rule = taylor_from_jvp(prim)
        with _trace.use(self.parent):
            out, out_series = rule(primals, series, **params)
        if prim.multiple_results:
            out_series = out_series if out_series is not None else [None] * len(out)
            return [JetTracer(self, o, s) for o, s in zip(out, out_series)]
        return JetTracer(self, out, out_series)


def run_series(fun, coefficients):
    """fun applied to curves given by coefficient lists [x0, x1, ..., xm] (one per argument,
    all of the same length); returns the output's list [y0, ..., ym] (zeros where its series
    is zero). Used by rules for the series of a derivative."""
    (out,) = series_of(fun, coefficients)
    return [c if c is not None else _zeros(out[0]) for c in out]


def series_of(fun, curves):
    """fun applied to curves: each argument a coefficient list [x0, ..., xm] (all of one
    length) or a constant (not a list). Returns, per output of fun (a value or a list of
    values), its coefficient list [y0, ..., ym], or [y0] + [None] * m when it does not vary."""
    m = max(len(c) for c in curves if isinstance(c, list)) - 1
    if m == 0:
        out = fun(*[c[0] if isinstance(c, list) else c for c in curves])
        return [[o] for o in (out if isinstance(out, list) else [out])]
    jt = JetTrace(_trace.current(), m)
    with _trace.transforming(jt):
        out = fun(*[JetTracer(jt, c[0], list(c[1:])) if isinstance(c, list) else c
                    for c in curves])
    result = []
    for o in (out if isinstance(out, list) else [out]):
        if type(o) is JetTracer and o._trace is jt:
            result.append([o.primal] + (list(o.series) if o.series is not None
                                        else [_zeros(o.primal)] * m))
        else:
            result.append([o] + [None] * m if o is not None else None)
    return result


def taylor_from_jvp(prim):
    """The Taylor rule of any primitive with a JVP rule: with y(t) = f(x(t)),
    y'(t) = Df(x(t))[x'(t)], so y_k = (1/k) [t^(k-1)] of the JVP's tangent, run in Taylor mode
    to order K-1 on x(t) and x'(t) (coefficients (j+1) x_(j+1)). The JVP rule evaluates f
    itself to order K-1 on the way, so the recursion ends after K levels."""
    def rule(primals, series, **params):
        order = len(next(s for s in series if s is not None))
        live = [i for i, s in enumerate(series) if s is not None]
        n = len(primals)
        curves = [[p] + list(s[:order - 1]) if s is not None else p
                  for p, s in zip(primals, series)]
        curves += [[(j + 1) * series[i][j] for j in range(order)] for i in live]

        def tangent(*args):
            tangents = [None] * n
            for i, t in zip(live, args[n:]):
                tangents[i] = t
            _, tout = prim.jvp(list(args[:n]), tangents, **params)
            return list(tout) if prim.multiple_results else tout
        ans = prim.bind(*primals, **params)
        d = series_of(tangent, curves)
        outs = [None if c is None or c[0] is None else
                [(c[k] if c[k] is not None else _zeros(c[0])) * (1.0 / (k + 1))
                 for k in range(order)] for c in d]
        return ans, (outs if prim.multiple_results else outs[0])
    return rule


def _zeros(x):
    return front_end().zeros_like(x)


def _jet_flat(fun, primals, coefficients, order):
    """fun of flat arrays under Taylor mode: (outputs, their coefficient lists, output tree)."""
    trees = []

    def flat(*xs):
        leaves, treedef = tree.flatten(fun(*xs))
        trees.append(treedef)
        return list(leaves)
    out = series_of(flat, [[p] + list(c) for p, c in zip(primals, coefficients)])
    values = [o[0] for o in out]
    series = [[c if c is not None else _zeros(o[0]) for c in o[1:]] for o in out]
    return values, series, trees[0]


def _as_array(x):
    """Arrays and tracers as they are; Python numbers as float64 arrays."""
    if isinstance(x, (np.ndarray, Tracer)) or backend.is_foreign(x):
        return x
    return np.asarray(x, dtype=float) if isinstance(x, (int, float)) else np.asarray(x)


def jet(fun, primals, series):
    """Taylor-mode derivatives, with jax.experimental.jet's conventions.

    Args:
      fun: a function of arrays (pytrees allowed).
      primals: a tuple of its arguments, the expansion point.
      series: a tuple with, per argument, a list [v1, ..., vK] of derivative coefficients of
        the input curve x(t) = x0 + sum_k v_k t^k / k! (same structure as the argument).

    Returns (fun(*primals), [w1, ..., wK]): the output curve's derivative coefficients,
    w_k = d^k/dt^k fun(x(t)) at t = 0.

    Example:
      >>> y, ws = jet(np.sin, (0.5,), ([1.0, 0.0, 0.0],))   # ws = [cos .5, -sin .5, -cos .5]
    """
    primals, series = tuple(primals), tuple(series)
    if len(primals) != len(series):
        raise ValueError(f"jet: {len(primals)} primals but {len(series)} series")
    orders = {len(s) for s in series}
    if len(orders) != 1:
        raise ValueError(f"jet: every series must have the same length, got {sorted(orders)}")
    (order,) = orders
    leaves, treedef = tree.flatten(list(primals))
    leaves = [_as_array(x) for x in leaves]
    coeffs = []
    for k in range(order):
        term, term_def = tree.flatten([s[k] for s in series])
        if term_def != treedef:
            raise ValueError("jet: each series term must have its primal's structure")
        coeffs.append([_as_array(t) / math.factorial(k + 1) for t in term])
    per_leaf = [[c[i] for c in coeffs] for i in range(len(leaves))]

    def flat(*xs):
        return fun(*tree.unflatten(treedef, list(xs)))
    values, out_series, out_tree = _jet_flat(flat, leaves, per_leaf, order)
    out = tree.unflatten(out_tree, values)
    terms = [tree.unflatten(out_tree, [s[k] * math.factorial(k + 1) for s in out_series])
             for k in range(order)]
    return out, terms


def taylor(fun, x, direction, order):
    """[f(x), c1, ..., c_order]: the normalised Taylor coefficients of t -> fun(x + t direction)
    (c_k = (d/dt)^k fun / k! at t = 0), arrays shaped like fun's output."""
    x, v = _as_array(x), _as_array(direction)
    values, out_series, out_tree = _jet_flat(
        fun, [x], [[v] + [_zeros(x)] * (order - 1)], order)
    return [tree.unflatten(out_tree, values)] + [
        tree.unflatten(out_tree, [s[k] for s in out_series]) for k in range(order)]


def derivatives(fun, x, order):
    """[f(x), f'(x), ..., f^(order)(x)] for a function of one variable (elementwise over an
    array x, for elementwise fun)."""
    x = _as_array(x)
    cs = taylor(fun, x, backend.full_like(x, 1) if backend.is_foreign(x) else np.ones_like(x),
                order)
    return [c * math.factorial(k) for k, c in enumerate(cs)]
