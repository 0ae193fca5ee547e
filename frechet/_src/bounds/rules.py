"""The enclosure rules of taylor_bound's interpreter, one per primitive: each takes the
arguments (enclosures as Enc, constants as arrays) and the region and returns the result's
terms (interpreters/enclosure/arithmetic.py). ENCLOSURE maps each Primitive object to its rule (bounds is a library
on top of the primitives, so its table names them here); the rules for moves of elements,
concatenation and contractions also get the primitive itself, whose impl or batching rule
they apply to the ends of every term.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from frechet._src.interpreters.ad import add_any_p
from frechet._src.interpreters.enclosure import arithmetic as E
from frechet._src.interpreters.enclosure import elementary
from frechet._src.interpreters.enclosure import interval as iv
from frechet._src.prims.contractions import einsum_p
from frechet._src.prims.elementwise import UFUNC_PRIMS
from frechet._src.prims.indexing import getitem_p
from frechet._src.prims.reductions import reduce_max_p, reduce_min_p
from frechet._src.prims.shape import (
    broadcast_in_dim_p,
    concatenate_p,
    convert_element_type_p,
    reduce_sum_p,
    reshape_p,
    select_p,
    stop_gradient_p,
    transpose_p,
)
from frechet._src.prims.special import erf_p, erfc_p, expit_p, xlog1py_p, xlogy_p

_EPS = np.finfo(np.float64).eps
# moves of one argument's elements (the others are indices): both ends move exactly
_MOVES = (reshape_p, transpose_p, broadcast_in_dim_p, getitem_p, convert_element_type_p,
          stop_gradient_p)


class Enc:
    """An enclosure's terms, and the value's range from plain interval arithmetic (or None)."""

    __slots__ = ("range", "terms")

    def __init__(self, terms, value_range=None):
        self.terms, self.range = terms, value_range


def _terms(x, reg):
    return x.terms if isinstance(x, Enc) else E.constant(x, reg)


def _value_ndim(x):
    return len(E.value_shape(x.terms)) if isinstance(x, Enc) else np.ndim(x)


def _lifted(args, reg):
    """The arguments' terms, their value axes padded to a common number (for broadcasting)."""
    ndim = max(_value_ndim(a) for a in args)
    return [[E.lift(t, ndim) for t in _terms(a, reg)] for a in args]


def _one_dimensional(base, reg):
    """g's terms, its constant term y0 and the interval its values lie in over the region
    (intersected with its propagated range, and still holding y0, whatever rounding did)."""
    enc = base if isinstance(base, Enc) else Enc(base)
    y = _value_interval(enc, reg)
    y0 = iv.mid(enc.terms[0])[0]
    return enc.terms, y0, (np.minimum(y[0], y0), np.maximum(y[1], y0))


def _elementary(name, base, reg, p=None):
    """sigma(g) for g's enclosure `base` (a list of terms, or an _Enc whose range tightens
    the interval sigma's enclosure must hold on)."""
    base, y0, y = _one_dimensional(base, reg)
    coefficients, y0 = elementary.enclosure(name, y0, y, reg.d, p)
    return E.compose((coefficients, y0), base, reg)


def _abs(x, reg):
    base, y0, y = _one_dimensional(x, reg)
    return E.compose(elementary.abs_enclosure(y0, y, reg.d), base, reg)


def _minmax(sign):
    """max(a, b) = (a + b + |a - b|) / 2, min(a, b) = (a + b - |a - b|) / 2."""
    pick = np.maximum if sign > 0 else np.minimum

    def rule(args, reg):
        a, b = _lifted(args, reg)
        if reg.d == 0:                      # ranges: the max (min) of the ends is exact
            return [(pick(a[0][0], b[0][0]), pick(a[0][1], b[0][1]))]
        ranges = [v.range if isinstance(v, Enc) else iv.point(v) for v in args]
        diff_range = None if any(r is None for r in ranges) else iv.sub(*ranges)
        spread = _abs(Enc(E.sub(a, b), diff_range), reg)
        total = E.add(E.add(a, b), spread if sign > 0 else E.neg(spread))
        return E.scale(total, 0.5)
    return rule


def _reduce_minmax(sign):
    """max (min) over axes as a tree of pairwise maxima (minima): the axes moved last and
    flattened, then halves compared until one element is left."""
    pair = _minmax(sign)
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
        value = Enc([tuple(arrange(e, 1) for e in t) for t in dense(x.terms, reg)],
                     None if x.range is None else tuple(arrange(e, 0) for e in x.range))
        while k > 1:
            half = k // 2
            a, b = _slice(value, slice(0, half)), _slice(value, slice(half, 2 * half))
            out = Enc(dense(pair([a, b], reg), reg), None if a.range is None else
                       (pick(a.range[0], b.range[0]), pick(a.range[1], b.range[1])))
            if k % 2:                       # the odd one out goes on to the next round
                out = _joined(out, _slice(value, slice(k - 1, k)))
            value, k = out, half + k % 2
        return [(t[0][..., 0], t[1][..., 0]) for t in value.terms]
    return rule


def dense(terms, reg):
    """Terms with known zeros as zero arrays."""
    shape = E.value_shape(terms)
    return [t if t is not None else iv.point(np.zeros((reg.n ** i,) + shape))
            for i, t in enumerate(terms)]


def _slice(x, sl):
    return Enc([(t[0][..., sl], t[1][..., sl]) for t in x.terms],
                None if x.range is None else (x.range[0][..., sl], x.range[1][..., sl]))


def _joined(x, y):
    """x and y concatenated along their last value axis."""
    def cat(u, v):
        return tuple(np.concatenate([u[e], v[e]], axis=-1) for e in (0, 1))
    return Enc([cat(u, v) for u, v in zip(x.terms, y.terms)],
                None if x.range is None else cat(x.range, y.range))


def _reciprocal(base, reg):
    return _elementary("power", base, reg, -1.0)


def _mul(a, b, reg):
    if not isinstance(a, Enc):
        return E.scale(b.terms, np.asarray(a, dtype=np.float64))
    if not isinstance(b, Enc):
        return E.scale(a.terms, np.asarray(b, dtype=np.float64))
    return E.mul(a.terms, b.terms, reg)


def _divide(args, reg):
    a, b = args
    if not isinstance(b, Enc):
        b = np.asarray(b, dtype=np.float64)
        with np.errstate(divide="ignore"):
            inv = (iv.down(1.0 / b), iv.up(1.0 / b))
        return E.scale(_terms(a, reg), inv)
    return E.mul(_terms(a, reg), _reciprocal(b, reg), reg)


def _power(args, reg):
    x, p = args
    if isinstance(p, Enc):             # x^p = exp(p log x)
        return _elementary("exp", E.mul(p.terms, _elementary("log", _terms(x, reg), reg), reg),
                           reg)
    p = np.asarray(p, dtype=np.float64)
    if p.size == 0 or np.any(p != p.flat[0]):
        raise NotImplementedError("taylor_bound: power with exponents that differ by element")
    p = float(p.flat[0])
    if p.is_integer() and p >= 0:
        return E.power(x.terms, int(p), reg) if p > 0 else E.constant(
            np.ones(E.value_shape(x.terms)), reg)
    return _elementary("power", x, reg, p)


def _xlog(shift):
    """xlogy (shift 0) and xlog1py (shift 1): x log(shift + y), with 0 wherever x is a
    constant 0 (scipy's xlogy(0, y) = 0)."""
    def rule(args, reg):
        x, y = args
        if not isinstance(y, Enc):
            with np.errstate(divide="ignore", invalid="ignore"):
                log_y = np.log(shift + np.asarray(y, dtype=np.float64))
            return E.scale(_terms(x, reg), (iv.down(log_y), iv.up(log_y)))
        if not isinstance(x, Enc) and not np.any(np.asarray(x)):
            return E.constant(np.zeros(np.broadcast_shapes(np.shape(x),
                                                           E.value_shape(y.terms))), reg)
        log_y = _elementary("log", _shifted(y, reg) if shift else y, reg)
        return _mul(x, Enc(log_y), reg)
    return rule


def _one_plus(terms, reg, sign=1.0):
    return E.add(terms, E.constant(np.full(E.value_shape(terms), sign), reg))


def _shifted(x, reg):
    """1 + x, keeping x's range (shifted) for the function applied next."""
    terms = _one_plus(x.terms, reg)
    return Enc(terms, None if x.range is None else iv.add(x.range, iv.point(1.0)))


def _exp_of(x, reg):
    """exp(x) as an _Enc that keeps its range (exp is increasing) for what follows."""
    rng = None
    if x.range is not None:
        with np.errstate(over="ignore"):
            rng = iv.widen((np.exp(x.range[0]), np.exp(x.range[1])), elementary.PAD)
        rng = (np.maximum(rng[0], 0.0), rng[1])
    return Enc(_elementary("exp", x, reg), rng)


def _logaddexp(args, reg):
    """log(e^a + e^b); with a constant c on one side, c + softplus(x - c) (sharp)."""
    if not all(isinstance(x, Enc) for x in args):
        x, c = args if isinstance(args[0], Enc) else args[::-1]
        c = np.asarray(c, dtype=np.float64)
        shifted = Enc(_sub([x, c], reg), None if x.range is None else
                       iv.sub(x.range, iv.point(c)))
        return _add([Enc(_elementary("softplus", shifted, reg)), c], reg)
    a, b = args
    ea, eb = _exp_of(a, reg), _exp_of(b, reg)
    rng = None if ea.range is None or eb.range is None else iv.add(ea.range, eb.range)
    return _elementary("log", Enc(E.add(*_lifted([ea, eb], reg)), rng), reg)


def _batched(prim, ends, rest, params):
    """prim applied to each of the arrays stacked along `ends`' first axis."""
    if prim.batch is None:
        raise NotImplementedError(f"taylor_bound: no batching rule for '{prim.name}'")
    flags = [True] * len(ends) + [False] * len(rest)
    return np.asarray(prim.batch(list(ends) + list(rest), flags, **params), np.float64)


def _move(prim, args, reg, **params):
    """Moves of the first argument's elements (the others are indices): applied to both ends
    of every term, exactly."""
    if any(isinstance(a, Enc) for a in args[1:]):
        raise NotImplementedError("taylor_bound: a move of elements with a varying index")
    return [None if term is None else tuple(_batched(prim, [end], args[1:], params)
                                            for end in term)
            for term in args[0].terms]


def _concatenate(prim, args, reg, **params):
    terms = [_terms(a, reg) for a in args]
    whole = [dense(t, reg) for t in terms]
    return [None if all(t[k] is None for t in terms) else
            tuple(_batched(prim, [w[k][e] for w in whole], [], params) for e in (0, 1))
            for k in range(reg.d + 1)]


def _reduce_sum(args, reg, *, axes):
    (x,) = args
    axes = tuple(a + 1 for a in axes)
    return [None if t is None else iv.total(t, axes) for t in x.terms]


def _einsum(prim, args, reg, *, spec):
    if len(args) == 1:
        raise NotImplementedError(f"taylor_bound: one-operand einsum {spec!r}")
    ins, out_subs = spec.split("->")
    subs = ins.split(",")
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in spec][:2]
    lead = [c if isinstance(arg, Enc) else "" for c, arg in zip(free, args)]
    batched = ",".join(p + s for p, s in zip(lead, subs)) + "->" + "".join(lead) + out_subs
    value_of = [lambda t: t if isinstance(args[0], Enc) else t[0],
                lambda t: t if isinstance(args[1], Enc) else t[0]]

    def e(u, v):
        r = np.asarray(prim.impl(u, v, spec=batched), np.float64)
        return r.reshape((-1,) + r.shape[len("".join(lead)):]) if lead != ["", ""] else r[None]
    a, b = (_terms(x, reg) for x in args)
    k = _contracted(spec, args)
    out = [None] * (2 * reg.d + 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            if x is None or y is None:
                continue
            u, v, deg = E.fold(x, y, i, j, reg)
            u = tuple(value_of[0](t) for t in u)
            v = tuple(value_of[1](t) for t in v)
            out[deg] = E.add_term(out[deg], _bilinear(e, u, v, k))
    return E.truncate(out, reg)


def _contracted(spec, args):
    ins, out = spec.split("->")
    subs = ins.split(",")
    size = {c: n for s, a in zip(subs, args)
            for c, n in zip(s, E.value_shape(a.terms) if isinstance(a, Enc) else np.shape(a))}
    return math.prod(size[c] for c in set("".join(subs)) - set(out)) if size else 1


def _bilinear(e, x, y, k):
    """An interval containing e(u, v) for u in x, v in y, e bilinear with sums of k products:
    each product bounded by its signs' endpoint rule, plus rounding of the sums. An unbounded
    end makes the outputs it reaches (through a nonzero factor) unbounded."""
    x_inf = ~(np.isfinite(x[0]) & np.isfinite(x[1]))
    y_inf = ~(np.isfinite(y[0]) & np.isfinite(y[1]))
    x = (np.where(x_inf, 0.0, x[0]), np.where(x_inf, 0.0, x[1]))
    y = (np.where(y_inf, 0.0, y[0]), np.where(y_inf, 0.0, y[1]))
    xp, xn = (np.maximum(x[0], 0), np.maximum(x[1], 0)), (np.minimum(x[0], 0), np.minimum(x[1], 0))
    yp, yn = (np.maximum(y[0], 0), np.maximum(y[1], 0)), (np.minimum(y[0], 0), np.minimum(y[1], 0))
    lo = e(xp[0], yp[0]) + e(xp[1], yn[0]) + e(xn[0], yp[1]) + e(xn[1], yn[1])
    hi = e(xp[1], yp[1]) + e(xn[1], yp[0]) + e(xp[0], yn[1]) + e(xn[0], yn[0])
    mx, my = np.maximum(np.abs(x[0]), np.abs(x[1])), np.maximum(np.abs(y[0]), np.abs(y[1]))
    err = (k + 4) * _EPS * e(mx, my)
    lo, hi = iv.down(lo - err), iv.up(hi + err)
    if np.any(x_inf) or np.any(y_inf):
        reach = (e(x_inf.astype(float), (my > 0) | y_inf) + e((mx > 0) | x_inf,
                                                              y_inf.astype(float))) > 0
        lo, hi = np.where(reach, -np.inf, lo), np.where(reach, np.inf, hi)
    return lo, hi


def _value_interval(x, reg):
    """The interval a value lies in over the region (a constant's is itself)."""
    if not isinstance(x, Enc):
        return iv.point(x)
    y = E.value_range(x.terms, reg)
    return y if x.range is None else iv.intersect(y, x.range)


def _comparison(test):
    """A comparison of values that vary with x is a constant where their intervals do not
    overlap (test: the intervals -> always true, always false); elsewhere the
    answer changes inside the region and no polynomial encloses what follows."""
    def rule(args, reg):
        always, never = test(*(_value_interval(a, reg) for a in args))
        if not np.all(always | never):
            raise NotImplementedError(
                "taylor_bound: a comparison whose result changes inside the region (a branch "
                "point of np.where, a step): split the region there, or shrink it")
        return np.asarray(always)
    return rule


def _equal(a, b):
    """(always equal: both the same point, never: the intervals apart)."""
    return ((a[0] == a[1]) & (b[0] == b[1]) & (a[0] == b[0]), (a[0] > b[1]) | (a[1] < b[0]))


def _select(args, reg):
    pred, a, b = args
    if isinstance(pred, Enc):
        raise NotImplementedError("taylor_bound: a select whose condition varies with x")
    ndim = max(np.ndim(pred), _value_ndim(a), _value_ndim(b))
    a, b = ([E.lift(t, ndim) for t in _terms(v, reg)] for v in (a, b))
    out = []
    for x, y in zip(a, b):
        if x is None and y is None:
            out.append(None)
            continue
        x = x if x is not None else iv.point(np.zeros_like(y[0]))
        y = y if y is not None else iv.point(np.zeros_like(x[0]))
        out.append((np.where(pred, x[0], y[0]), np.where(pred, x[1], y[1])))
    return out


def _add(args, reg):
    return E.add(*_lifted(args, reg))


def _sub(args, reg):
    return E.sub(*_lifted(args, reg))


_U = UFUNC_PRIMS     # NumPy ufunc -> its primitive


def _applied(rule, prims):
    """rule(prim, args, reg, **params) for each of prims, as ENCLOSURE entries."""
    return {p: functools.partial(rule, p) for p in prims}


# Primitive -> rule(args, reg, **params) -> the result's terms (or an Enc). Keyed by the
# primitive object; the rules that apply the primitive itself to the ends of every term
# (moves of elements, concatenation, contractions) get it as their first argument.
ENCLOSURE = {
    _U[np.add]: _add, add_any_p: _add, _U[np.subtract]: _sub,
    _U[np.negative]: lambda args, reg: E.neg(args[0].terms),
    _U[np.multiply]: lambda args, reg: _mul(*args, reg),
    _U[np.divide]: _divide,
    _U[np.square]: lambda args, reg: E.mul(args[0].terms, args[0].terms, reg),
    _U[np.power]: _power,
    _U[np.reciprocal]: lambda args, reg: _reciprocal(args[0], reg),
    _U[np.sqrt]: lambda args, reg: _elementary("power", args[0], reg, 0.5),
    _U[np.cbrt]: lambda args, reg: _elementary("power", args[0], reg, 1.0 / 3.0),
    _U[np.exp]: lambda args, reg: _elementary("exp", args[0], reg),
    _U[np.log]: lambda args, reg: _elementary("log", args[0], reg),
    _U[np.sin]: lambda args, reg: _elementary("sin", args[0], reg),
    _U[np.cos]: lambda args, reg: _elementary("cos", args[0], reg),
    _U[np.expm1]: lambda args, reg: _one_plus(_elementary("exp", args[0].terms, reg), reg, -1.0),
    _U[np.log1p]: lambda args, reg: _elementary("log", _shifted(args[0], reg), reg),
    _U[np.tanh]: lambda args, reg: _elementary("tanh", args[0], reg),
    expit_p: lambda args, reg: _elementary("expit", args[0], reg),
    erf_p: lambda args, reg: _elementary("erf", args[0], reg),
    erfc_p: lambda args, reg: _one_plus(E.neg(_elementary("erf", args[0], reg)), reg),
    _U[np.logaddexp]: _logaddexp, xlogy_p: _xlog(0.0), xlog1py_p: _xlog(1.0),
    _U[np.absolute]: lambda args, reg: _abs(args[0], reg),
    _U[np.fabs]: lambda args, reg: _abs(args[0], reg),
    _U[np.maximum]: _minmax(1), _U[np.minimum]: _minmax(-1),
    _U[np.fmax]: _minmax(1), _U[np.fmin]: _minmax(-1),
    reduce_sum_p: _reduce_sum, select_p: _select,
    # on the intervals a, b of the compared values: (always true, always false)
    _U[np.greater]: _comparison(lambda a, b: (a[0] > b[1], a[1] <= b[0])),
    _U[np.greater_equal]: _comparison(lambda a, b: (a[0] >= b[1], a[1] < b[0])),
    _U[np.less]: _comparison(lambda a, b: (a[1] < b[0], a[0] >= b[1])),
    _U[np.less_equal]: _comparison(lambda a, b: (a[1] <= b[0], a[0] > b[1])),
    _U[np.not_equal]: _comparison(lambda a, b: _equal(a, b)[::-1]),
    _U[np.equal]: _comparison(lambda a, b: _equal(a, b)),
    reduce_max_p: _reduce_minmax(1), reduce_min_p: _reduce_minmax(-1),
    **_applied(_einsum, [einsum_p]), **_applied(_concatenate, [concatenate_p]),
    **_applied(_move, _MOVES),
}
