"""taylor_bound: an interval Taylor enclosure of plain NumPy code of one scalar variable.

The function is staged (make_program) and its program interpreted on enclosures
(enclosure.py): each value is a list of d + 1 intervals, d = degree + 1. Elementwise
transcendentals are composed through sharp one-dimensional enclosures (elementary.py); tanh,
the logistic function, expm1, log1p and logaddexp through exp, log and reciprocal; arrays are
moved, summed and contracted with outward rounding. A primitive without a rule raises, naming
it.
"""

from __future__ import annotations

import math

import numpy as np

from frechet._src.bounds import elementary
from frechet._src.bounds import enclosure as E
from frechet._src.bounds import interval as iv

_EPS = np.finfo(np.float64).eps
# moves of one argument's elements (the others are indices): both ends move exactly
_MOVES = frozenset({"reshape", "transpose", "broadcast_in_dim", "getitem",
                    "convert_element_type", "stop_gradient", "squeeze", "expand_dims"})


class TaylorEnclosure:
    """f(x) - sum_{i<=k} c_i (x - x0)^i lies in remainder * (x - x0)^(k+1) for every x in the
    region (elementwise over f's output).

    Attributes: x0, region (a, b), degree k, coefficients (c_0..c_k; arrays shaped like f's
    output), coefficient_intervals (each c_i as the (lo, hi) interval rounding leaves it in),
    remainder ((lo, hi) arrays)."""

    def __init__(self, terms, x0, region, degree):
        self._terms = terms
        self.x0, self.region, self.degree = x0, region, degree
        self.coefficient_intervals = terms[:-1]
        self.coefficients = [iv.mid(t) for t in terms[:-1]]
        self.remainder = terms[-1]

    def _at(self, x):
        z = iv.sub(iv.point(x), iv.point(self.x0))
        out = self._terms[0]
        for i, t in enumerate(self._terms[1:], start=1):
            out = iv.add(out, iv.mul(t, iv.power(z, i)))
        return out

    def upper(self, x):
        """An upper bound on f(x) for x in the region (arrays broadcast with f's output)."""
        return self._at(np.asarray(x, dtype=np.float64))[1]

    def lower(self, x):
        return self._at(np.asarray(x, dtype=np.float64))[0]

    def range(self):
        """(lo, hi): an interval containing f over the whole region."""
        a, b = self.region
        z = (iv.down(np.float64(a) - self.x0), iv.up(np.float64(b) - self.x0))
        return E.value_range(self._terms, E.Region(z, len(self._terms) - 1))

    def __repr__(self):
        return (f"TaylorEnclosure(degree={self.degree}, x0={self.x0}, region={self.region}, "
                f"coefficients={self.coefficients}, remainder={self.remainder})")


def taylor_bound(f, x0, region, degree: int):
    """An interval Taylor enclosure of f around x0 over region = (a, b), of the given degree.

    f is plain NumPy code of one scalar; it is staged with make_program, so Python branching
    on its value raises (use np.where or frechet.cond). Returns a TaylorEnclosure; a function
    unbounded on the region (log reaching 0, 1/x across 0) gets an infinite remainder, and one
    undefined at x0 raises ValueError.

    Example:
      >>> e = taylor_bound(np.exp, 0.0, (-1.0, 1.0), 1)   # exp(x) in 1 + x + [0.3679, 0.7183] x^2
    """
    from frechet import make_program
    x0 = float(x0)
    a, b = (float(v) for v in region)
    if not (a <= x0 <= b) or not all(map(math.isfinite, (a, b, x0))):
        raise ValueError(f"taylor_bound: the region {region} must be finite and contain x0={x0}")
    if degree < 0:
        raise ValueError("taylor_bound: degree must be >= 0")
    d = degree + 1
    program = make_program(f)(np.float64(x0))
    # plain interval arithmetic first (degree-0 enclosures): every value's range over the region,
    # which bounds the arguments of elementwise functions more tightly than their own
    # enclosures do (AutoBound's range propagation)
    ranges = _interpret(program, E.Region((np.float64(a), np.float64(b)), 0),
                        [(np.float64(a), np.float64(b))], {})
    reg = E.Region((iv.down(np.float64(a) - x0), iv.up(np.float64(b) - x0)), d)
    x_terms = [iv.point(x0), iv.point(1.0)] + [iv.point(0.0)] * (d - 1)
    env = _interpret(program, reg, x_terms, ranges)
    results = []
    for v, spec in zip(program.outvars, program.out_specs):
        val = env.get(v) if v is not None else np.zeros(spec.shape)
        terms = val.terms if isinstance(val, _Enc) else E.constant(val, reg)
        results.append(TaylorEnclosure(terms, x0, (a, b), degree))
    return results[0] if len(results) == 1 else results


def _interpret(program, reg, x_terms, ranges):
    """The program's values as enclosures over reg (constants stay arrays); `ranges`: each
    var's range from a degree-0 pass, or empty."""
    env = dict(zip(program.constvars, program.consts))
    x = program.invars[0]
    env[x] = _Enc(x_terms, ranges[x].terms[0] if x in ranges else None)
    for eqn in program.eqns:
        ins = [env[v] for v in eqn.inputs]
        if not any(isinstance(v, _Enc) for v in ins):
            outs = eqn.primitive.impl(*ins, **eqn.params)
            outs = outs if eqn.primitive.multiple_results else [outs]
        else:
            name = eqn.primitive.name
            if name in _APPLIED:            # rules that apply the primitive itself to ends
                outs = [_APPLIED[name](eqn.primitive.impl, ins, reg, **eqn.params)]
            elif name in _RULES:
                outs = [_RULES[name](ins, reg, **eqn.params)]
            else:
                raise NotImplementedError(f"taylor_bound: no enclosure rule for the primitive "
                                          f"'{name}'")
        for v, o in zip(eqn.outputs, outs):
            if isinstance(o, list):
                o = _Enc(o, ranges[v].terms[0] if v in ranges else None)
            env[v] = o
    return env


class _Enc:
    """An enclosure's terms, and the value's range from plain interval arithmetic (or None)."""

    __slots__ = ("range", "terms")

    def __init__(self, terms, value_range=None):
        self.terms, self.range = terms, value_range


def _terms(x, reg):
    return x.terms if isinstance(x, _Enc) else E.constant(x, reg)


def _elementary(name, base, reg, p=None):
    """sigma(g) for g's enclosure `base` (a list of terms, or an _Enc whose range tightens
    the interval sigma's enclosure must hold on)."""
    known = base.range if isinstance(base, _Enc) else None
    base = base.terms if isinstance(base, _Enc) else base
    y = E.value_range(base, reg)
    y0 = iv.mid(base[0])
    if known is not None:                  # intersected, and still holding y0 (rounding)
        y = iv.intersect(y, known)
        y = (np.minimum(y[0], y0), np.maximum(y[1], y0))
    coefficients, y0 = elementary.enclosure(name, y0, y, reg.d, p)
    return E.compose((coefficients, y0), base, reg)


def _abs(x, reg):
    base = x.terms if isinstance(x, _Enc) else x
    y = E.value_range(base, reg)
    if isinstance(x, _Enc) and x.range is not None:
        y = iv.intersect(y, x.range)
    y0 = iv.mid(base[0])
    y = (np.minimum(y[0], y0), np.maximum(y[1], y0))
    return E.compose(elementary.abs_enclosure(y0, y, reg.d), base, reg)


def _minmax(sign):
    """max(a, b) = (a + b + |a - b|) / 2, min(a, b) = (a + b - |a - b|) / 2."""
    def rule(args, reg):
        a, b = (_terms(v, reg) for v in args)
        ranges = [v.range if isinstance(v, _Enc) else iv.point(v) for v in args]
        diff_range = None if any(r is None for r in ranges) else iv.sub(*ranges)
        spread = _abs(_Enc(E.sub(a, b), diff_range), reg)
        total = E.add(E.add(a, b), spread if sign > 0 else E.neg(spread))
        return E.scale(total, 0.5)
    return rule


def _reciprocal(base, reg):
    return _elementary("power", base, reg, -1.0)


def _mul(a, b, reg):
    if not isinstance(a, _Enc):
        return E.scale(b.terms, np.asarray(a, dtype=np.float64))
    if not isinstance(b, _Enc):
        return E.scale(a.terms, np.asarray(b, dtype=np.float64))
    return E.mul(a.terms, b.terms, reg)


def _divide(args, reg):
    a, b = args
    if not isinstance(b, _Enc):
        b = np.asarray(b, dtype=np.float64)
        with np.errstate(divide="ignore"):
            inv = (iv.down(1.0 / b), iv.up(1.0 / b))
        return E.scale(_terms(a, reg), inv)
    return E.mul(_terms(a, reg), _reciprocal(b, reg), reg)


def _power(args, reg):
    x, p = args
    if isinstance(p, _Enc):             # x^p = exp(p log x)
        return _elementary("exp", E.mul(p.terms, _elementary("log", _terms(x, reg), reg), reg),
                           reg)
    p = np.asarray(p, dtype=np.float64)
    if p.size == 0 or np.any(p != p.flat[0]):
        raise NotImplementedError("taylor_bound: power with exponents that differ by element")
    p = float(p.flat[0])
    if p.is_integer() and p >= 0:
        return E.power(x.terms, int(p), reg) if p > 0 else E.constant(
            np.ones(np.broadcast(*x.terms[0]).shape), reg)
    return _elementary("power", x, reg, p)


def _one_plus(terms, reg):
    return E.add(terms, E.constant(np.ones(np.broadcast(*terms[0]).shape), reg))


def _shifted(x, reg):
    """1 + x, keeping x's range (shifted) for the function applied next."""
    terms = _one_plus(x.terms, reg)
    return _Enc(terms, None if x.range is None else iv.add(x.range, iv.point(1.0)))


def _exp_of(x, reg):
    """exp(x) as an _Enc that keeps its range (exp is increasing) for what follows."""
    rng = None
    if x.range is not None:
        with np.errstate(over="ignore"):
            rng = iv.widen((np.exp(x.range[0]), np.exp(x.range[1])), elementary.PAD)
        rng = (np.maximum(rng[0], 0.0), rng[1])
    return _Enc(_elementary("exp", x, reg), rng)


def _logaddexp(args, reg):
    a, b = (x if isinstance(x, _Enc) else _Enc(_terms(x, reg), iv.point(x)) for x in args)
    ea, eb = _exp_of(a, reg), _exp_of(b, reg)
    rng = None if ea.range is None or eb.range is None else iv.add(ea.range, eb.range)
    return _elementary("log", _Enc(E.add(ea.terms, eb.terms), rng), reg)


def _move(impl, args, reg, **params):
    """Moves of the first argument's elements (the others are indices): applied to both ends
    of every term, exactly."""
    if any(isinstance(a, _Enc) for a in args[1:]):
        raise NotImplementedError("taylor_bound: a move of elements with a varying index")
    return [tuple(np.asarray(impl(end, *args[1:], **params), np.float64) for end in term)
            for term in args[0].terms]


def _concatenate(impl, args, reg, **params):
    terms = [_terms(a, reg) for a in args]
    return [tuple(np.asarray(impl(*[t[k][e] for t in terms], **params), np.float64)
                  for e in (0, 1)) for k in range(reg.d + 1)]


def _reduce_sum(args, reg, *, axes):
    (x,) = args
    n = math.prod(np.shape(x.terms[0][0])[a] for a in axes) if axes else 1
    out = []
    for lo, hi in x.terms:
        s_lo, s_hi = np.add.reduce(lo, axis=axes), np.add.reduce(hi, axis=axes)
        err = n * _EPS * np.add.reduce(np.maximum(np.abs(lo), np.abs(hi)), axis=axes)
        out.append((iv.down(s_lo - err), iv.up(s_hi + err)))
    return out


def _einsum(impl, args, reg, *, spec):
    if len(args) == 1:
        raise NotImplementedError(f"taylor_bound: one-operand einsum {spec!r}")

    def e(u, v):
        return np.asarray(impl(u, v, spec=spec), np.float64)
    a, b = (_terms(x, reg) for x in args)
    k = _contracted(spec, args)
    out = [None] * (2 * reg.d + 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            p = _bilinear(e, x, y, k)
            out[i + j] = p if out[i + j] is None else iv.add(out[i + j], p)
    return E.truncate(out, reg)


def _contracted(spec, args):
    ins, out = spec.split("->")
    subs = ins.split(",")
    size = {c: n for s, a in zip(subs, args)
            for c, n in zip(s, np.shape(a.terms[0][0]) if isinstance(a, _Enc) else np.shape(a))}
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


def _select(args, reg):
    pred, a, b = args
    if isinstance(pred, _Enc):
        raise NotImplementedError("taylor_bound: a select whose condition varies with x")
    a, b = _terms(a, reg), _terms(b, reg)
    return [(np.where(pred, x[0], y[0]), np.where(pred, x[1], y[1])) for x, y in zip(a, b)]


def _add(args, reg):
    return E.add(*[_terms(a, reg) for a in args])


def _sub(args, reg):
    return E.sub(*[_terms(a, reg) for a in args])


_RULES = {
    "add": _add, "add_any": _add, "subtract": _sub,
    "negative": lambda args, reg: E.neg(args[0].terms),
    "multiply": lambda args, reg: _mul(*args, reg),
    "divide": _divide,
    "square": lambda args, reg: E.mul(args[0].terms, args[0].terms, reg),
    "power": _power,
    "reciprocal": lambda args, reg: _reciprocal(args[0], reg),
    "sqrt": lambda args, reg: _elementary("power", args[0], reg, 0.5),
    "cbrt": lambda args, reg: _elementary("power", args[0], reg, 1.0 / 3.0),
    "exp": lambda args, reg: _elementary("exp", args[0], reg),
    "log": lambda args, reg: _elementary("log", args[0], reg),
    "sin": lambda args, reg: _elementary("sin", args[0], reg),
    "cos": lambda args, reg: _elementary("cos", args[0], reg),
    "expm1": lambda args, reg: E.sub(_elementary("exp", args[0].terms, reg),
                                     E.constant(np.ones(np.shape(args[0].terms[0][0])), reg)),
    "log1p": lambda args, reg: _elementary("log", _shifted(args[0], reg), reg),
    "tanh": lambda args, reg: _elementary("tanh", args[0], reg),
    "expit": lambda args, reg: _elementary("expit", args[0], reg),
    "logaddexp": _logaddexp,
    "absolute": lambda args, reg: _abs(args[0], reg), "fabs": lambda args, reg: _abs(args[0], reg),
    "maximum": _minmax(1), "minimum": _minmax(-1), "fmax": _minmax(1), "fmin": _minmax(-1),
    "reduce_sum": _reduce_sum, "select": _select,
}
_APPLIED = {"einsum": _einsum, "concatenate": _concatenate,
            **{name: _move for name in _MOVES}}
