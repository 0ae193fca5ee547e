"""What the enclosure rules of taylor_bound's interpreter share. A primitive's rule,
`prim.enclosure(args, reg, **params)`, is registered next to the primitive in its family module
(prims/<family>.py) and returns the result's terms (arithmetic.py) or an Enc; its arguments are
enclosures (Enc) and constants (arrays). Here: the value a rule sees, the composition with the
elementary functions (elementary.py), and the rules several primitives use (sums, min and max,
comparisons, moves of elements, which apply the primitive itself to the ends of every term).
"""

from __future__ import annotations

import numpy as np

from frechet._src.interpreters.enclosure import arithmetic as E
from frechet._src.interpreters.enclosure import elementary
from frechet._src.interpreters.enclosure import interval as iv

EPS = np.finfo(np.float64).eps


class Enc:
    """An enclosure's terms, and the value's range from plain interval arithmetic (or None)."""

    __slots__ = ("range", "terms")

    def __init__(self, terms, value_range=None):
        self.terms, self.range = terms, value_range


def terms_of(x, reg):
    """An argument's terms (a constant's: itself, with no x-dependence)."""
    return x.terms if isinstance(x, Enc) else E.constant(x, reg)


def value_ndim(x):
    return len(E.value_shape(x.terms)) if isinstance(x, Enc) else np.ndim(x)


def lifted(args, reg):
    """The arguments' terms, their value axes padded to a common number (for broadcasting)."""
    ndim = max(value_ndim(a) for a in args)
    return [[E.lift(t, ndim) for t in terms_of(a, reg)] for a in args]


def _one_dimensional(base, reg):
    """g's terms, its constant term y0 and the interval its values lie in over the region
    (intersected with its propagated range, and still holding y0, whatever rounding did)."""
    enc = base if isinstance(base, Enc) else Enc(base)
    y = value_interval(enc, reg)
    y0 = iv.mid(enc.terms[0])[0]
    return enc.terms, y0, (np.minimum(y[0], y0), np.maximum(y[1], y0))


def compose(name, base, reg, p=None):
    """sigma(g) for the elementary function `name` of elementary.py (p: the exponent of
    "power") and g's enclosure `base` (a list of terms, or an Enc whose range tightens the
    interval sigma's enclosure must hold on)."""
    base, y0, y = _one_dimensional(base, reg)
    coefficients, y0 = elementary.enclosure(name, y0, y, reg.d, p)
    return E.compose((coefficients, y0), base, reg)


def unary(name, p=None):
    """The rule of a primitive that is the elementary function `name` (see compose)."""
    return lambda args, reg: compose(name, args[0], reg, p)


def absolute(x, reg):
    """|g| for g's enclosure x."""
    base, y0, y = _one_dimensional(x, reg)
    return E.compose(elementary.abs_enclosure(y0, y, reg.d), base, reg)


def minmax(sign):
    """max(a, b) = (a + b + |a - b|) / 2, min(a, b) = (a + b - |a - b|) / 2."""
    pick = np.maximum if sign > 0 else np.minimum

    def rule(args, reg):
        a, b = lifted(args, reg)
        if reg.d == 0:                      # ranges: the max (min) of the ends is exact
            return [(pick(a[0][0], b[0][0]), pick(a[0][1], b[0][1]))]
        ranges = [v.range if isinstance(v, Enc) else iv.point(v) for v in args]
        diff_range = None if any(r is None for r in ranges) else iv.sub(*ranges)
        spread = absolute(Enc(E.sub(a, b), diff_range), reg)
        total = E.add(E.add(a, b), spread if sign > 0 else E.neg(spread))
        return E.scale(total, 0.5)
    return rule


def dense(terms, reg):
    """Terms with known zeros as zero arrays."""
    shape = E.value_shape(terms)
    return [t if t is not None else iv.point(np.zeros((reg.n ** i,) + shape))
            for i, t in enumerate(terms)]


def slice_last(x, sl):
    """An Enc's elements `sl` of its last value axis."""
    return Enc([(t[0][..., sl], t[1][..., sl]) for t in x.terms],
               None if x.range is None else (x.range[0][..., sl], x.range[1][..., sl]))


def joined(x, y):
    """x and y concatenated along their last value axis."""
    def cat(u, v):
        return tuple(np.concatenate([u[e], v[e]], axis=-1) for e in (0, 1))
    return Enc([cat(u, v) for u, v in zip(x.terms, y.terms)],
               None if x.range is None else cat(x.range, y.range))


def reciprocal(base, reg):
    return compose("power", base, reg, -1.0)


def mul(a, b, reg):
    """a * b for enclosures or constants."""
    if not isinstance(a, Enc):
        return E.scale(b.terms, np.asarray(a, dtype=np.float64))
    if not isinstance(b, Enc):
        return E.scale(a.terms, np.asarray(b, dtype=np.float64))
    return E.mul(a.terms, b.terms, reg)


def one_plus(terms, reg, sign=1.0):
    """sign + terms (sign: 1.0 or -1.0)."""
    return E.add(terms, E.constant(np.full(E.value_shape(terms), sign), reg))


def shifted(x, reg):
    """1 + x, keeping x's range (shifted) for the function applied next."""
    terms = one_plus(x.terms, reg)
    return Enc(terms, None if x.range is None else iv.add(x.range, iv.point(1.0)))


def exp_of(x, reg):
    """exp(x) as an Enc that keeps its range (exp is increasing) for what follows."""
    rng = None
    if x.range is not None:
        with np.errstate(over="ignore"):
            rng = iv.widen((np.exp(x.range[0]), np.exp(x.range[1])), elementary.PAD)
        rng = (np.maximum(rng[0], 0.0), rng[1])
    return Enc(compose("exp", x, reg), rng)


def batched(prim, ends, rest, params):
    """prim applied to each of the arrays stacked along `ends`' first axis."""
    if prim.batch is None:
        raise NotImplementedError(f"taylor_bound: no batching rule for '{prim.name}'")
    flags = [True] * len(ends) + [False] * len(rest)
    return np.asarray(prim.batch(list(ends) + list(rest), flags, **params), np.float64)


def move(prim):
    """The rule of prim, a move of its first argument's elements (the others are indices):
    prim applied to both ends of every term, exactly."""
    def rule(args, reg, **params):
        if any(isinstance(a, Enc) for a in args[1:]):
            raise NotImplementedError("taylor_bound: a move of elements with a varying index")
        return [None if term is None else tuple(batched(prim, [end], args[1:], params)
                                                for end in term)
                for term in args[0].terms]
    return rule


def bilinear(e, x, y, k):
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
    err = (k + 4) * EPS * e(mx, my)
    lo, hi = iv.down(lo - err), iv.up(hi + err)
    if np.any(x_inf) or np.any(y_inf):
        reach = (e(x_inf.astype(float), (my > 0) | y_inf) + e((mx > 0) | x_inf,
                                                              y_inf.astype(float))) > 0
        lo, hi = np.where(reach, -np.inf, lo), np.where(reach, np.inf, hi)
    return lo, hi


def value_interval(x, reg):
    """The interval a value lies in over the region (a constant's is itself)."""
    if not isinstance(x, Enc):
        return iv.point(x)
    y = E.value_range(x.terms, reg)
    return y if x.range is None else iv.intersect(y, x.range)


def comparison(test):
    """A comparison of values that vary with x is a constant where their intervals do not
    overlap (test: the intervals -> always true, always false); elsewhere the
    answer changes inside the region and no polynomial encloses what follows."""
    def rule(args, reg):
        always, never = test(*(value_interval(a, reg) for a in args))
        if not np.all(always | never):
            raise NotImplementedError(
                "taylor_bound: a comparison whose result changes inside the region (a branch "
                "point of np.where, a step): split the region there, or shrink it")
        return np.asarray(always)
    return rule


def add(args, reg):
    return E.add(*lifted(args, reg))


def sub(args, reg):
    return E.sub(*lifted(args, reg))
