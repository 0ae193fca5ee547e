"""taylor_bound: an interval Taylor enclosure of plain NumPy code of a scalar, an array or a
pytree of arrays.

The function is staged (make_program) and its program interpreted on enclosures
(enclosure.py): each value is a list of d + 1 terms, d = degree + 1, term i with n^i
coefficients per element for n input variables. Elementwise transcendentals are composed
through sharp one-dimensional enclosures (elementary.py); tanh, the logistic function, expm1,
log1p and logaddexp through exp, log and reciprocal; arrays are moved, summed and contracted
with outward rounding. A primitive without a rule raises, naming it.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from frechet._src import tree
from frechet._src.bounds import elementary
from frechet._src.bounds import enclosure as E
from frechet._src.bounds import interval as iv

_EPS = np.finfo(np.float64).eps
# moves of one argument's elements (the others are indices): both ends move exactly
_MOVES = frozenset({"reshape", "transpose", "broadcast_in_dim", "getitem",
                    "convert_element_type", "stop_gradient", "squeeze", "expand_dims"})


class TaylorEnclosure:
    """f(x) - sum_{i<=k} <c_i, (x - x0)^i> lies in <remainder, (x - x0)^(k+1)> for every x in
    the region (elementwise over f's output), where (x - x0)^i is the i-fold outer power of
    x - x0 and <., .> contracts it with the coefficient's trailing axes.

    For x0 of shape P, c_i has shape S + P * i (S: f's output shape): c_0 = f(x0),
    c_1 = the Jacobian, c_2 = the Hessian / 2, ... (symmetric). For one scalar variable these
    are S-shaped. For a pytree x0 the variables are its leaves raveled and concatenated
    (P = (n,)). The remainder is an interval (lo, hi) of arrays of shape S + P * (k + 1); it is
    not symmetrised (for n > 1 only its contraction with the outer power is meaningful).

    Attributes: x0, region (a, b), degree k, coefficients, coefficient_intervals (each c_i as
    the (lo, hi) interval rounding leaves it in), remainder, interval_range (f's range over the
    region by plain interval arithmetic, None for a constant)."""

    def __init__(self, terms, region, x0, bounds, degree, flat, known=None):
        self._terms, self._region, self._flat = terms, region, flat
        self.interval_range = known
        self.x0, self.region, self.degree = x0, bounds, degree
        p = flat.shape
        self.coefficient_intervals = [_symmetrised(_as_tensor(t, i, region, terms, p), len(p), i)
                                      for i, t in enumerate(terms[:-1])]
        self.coefficients = [iv.mid(t) for t in self.coefficient_intervals]
        self.remainder = _as_tensor(terms[-1], len(terms) - 1, region, terms, p)

    def _at(self, x):
        if self._flat.shape == ():                  # one variable: x may be any array
            z = iv.sub(iv.point(np.asarray(x, np.float64)), iv.point(self._flat.x0))
            out = (self._terms[0][0][0], self._terms[0][1][0])
            for i, t in enumerate(self._terms[1:], start=1):
                if t is not None:
                    out = iv.add(out, iv.mul((t[0][0], t[1][0]), iv.power(z, i)))
            return out
        z = iv.sub(iv.point(self._flat.ravel(x)), iv.point(np.ravel(self._flat.x0)))
        out = self._terms[0]
        for i, t in enumerate(self._terms[1:], start=1):
            if t is not None:
                out = iv.add(out, E.contract(t, E.outer_power(z, i), i))
        return out[0][0], out[1][0]

    def upper(self, x):
        """An upper bound on f(x) for x in the region (x shaped like x0; for one scalar
        variable, any array broadcasting with f's output)."""
        return self._at(x)[1]

    def lower(self, x):
        return self._at(x)[0]

    def range(self):
        """(lo, hi): an interval containing f over the whole region (the enclosure's range
        intersected with plain interval arithmetic's)."""
        out = E.value_range(self._terms, self._region)
        return out if self.interval_range is None else iv.intersect(out, self.interval_range)

    def __repr__(self):
        return (f"TaylorEnclosure(degree={self.degree}, x0={self.x0}, region={self.region}, "
                f"coefficients={self.coefficients}, remainder={self.remainder})")


def _as_tensor(term, i, region, terms, p):
    """Term i, (n^i,) + S, as S + P * i (None as zeros)."""
    s = E.value_shape(terms)
    if term is None:
        term = iv.point(np.zeros((region.n ** i,) + s))
    out = []
    for end in term:
        t = np.reshape(end, (region.n,) * i + s)
        t = np.moveaxis(t, tuple(range(i)), tuple(range(len(s), len(s) + i)))
        out.append(np.reshape(t, s + p * i))
    return tuple(out)


def _symmetrised(term, k, i):
    """The average of a coefficient over the orders of its i groups of k trailing x-axes."""
    if i < 2 or k == 0:
        return term
    lead = np.ndim(term[0]) - k * i
    perms = list(itertools.permutations(range(i)))
    total = None
    for perm in perms:
        axes = tuple(range(lead)) + tuple(lead + g * k + a for g in perm for a in range(k))
        t = (np.transpose(term[0], axes), np.transpose(term[1], axes))
        total = t if total is None else iv.add(total, t)
    inv = 1.0 / len(perms)
    return iv.mul(total, (iv.down(inv), iv.up(inv)))


class _Flat:
    """x0 as one float64 array (a pytree's leaves raveled and concatenated), and the maps
    between the user's form and it."""

    def __init__(self, x0):
        if isinstance(x0, (int, float, np.number, np.ndarray)):
            self.x0 = np.array(x0, dtype=np.float64)
            self.treedef = None
        else:
            leaves, self.treedef = tree.flatten(x0)
            self.leaves = [np.asarray(v, np.float64) for v in leaves]
            self.x0 = np.concatenate([v.ravel() for v in self.leaves]) if self.leaves else \
                np.zeros(0)
        self.shape = self.x0.shape

    def ravel(self, x):
        """The user's form (x0's structure, or arrays broadcasting to its shape) flattened."""
        if self.treedef is None:
            return np.broadcast_to(np.asarray(x, np.float64), self.shape).ravel()
        if isinstance(x, (int, float, np.number)):
            return np.full(self.shape, float(x))
        leaves, treedef = tree.flatten(x)
        if treedef != self.treedef:
            raise ValueError(f"taylor_bound: {x!r} does not have x0's structure")
        return np.concatenate([np.broadcast_to(np.asarray(v, np.float64), w.shape).ravel()
                               for v, w in zip(leaves, self.leaves)])

    def function(self, f):
        if self.treedef is None:
            return f
        sizes = np.cumsum([v.size for v in self.leaves])[:-1]

        def flat_f(v):
            import frechet.numpy as fnp
            parts = fnp.split(v, sizes) if len(self.leaves) > 1 else [v]
            return f(tree.unflatten(self.treedef, [fnp.reshape(p, w.shape)
                                                   for p, w in zip(parts, self.leaves)]))
        return flat_f


def taylor_bound(f, x0, region, degree: int):
    """An interval Taylor enclosure of f around x0 over the box region = (a, b), of the given
    degree.

    f is plain NumPy code of x0's kind: a scalar, an array or a pytree of arrays. a and b are
    scalars, arrays broadcasting to x0's shape, or pytrees like x0. f is staged with
    make_program, so Python branching on its value raises (use np.where or frechet.cond).
    Returns a TaylorEnclosure (one per output for a tuple of outputs). A function unbounded on
    the region (log reaching 0, 1/x across 0) gets an infinite remainder; one undefined at x0
    raises ValueError. Term i holds n^i coefficients per output element for n variables, so
    keep n small for degrees above 1.

    Example:
      >>> e = taylor_bound(np.exp, 0.0, (-1.0, 1.0), 1)   # exp(x) in 1 + x + [0.3679, 0.7183] x^2
    """
    from frechet import make_program
    flat = _Flat(x0)
    a, b = (flat.ravel(v) for v in region)
    x = flat.x0.ravel()
    if not (np.all(a <= x) and np.all(x <= b) and np.all(np.isfinite(a))
            and np.all(np.isfinite(b)) and np.all(np.isfinite(x))):
        raise ValueError(f"taylor_bound: the region {region} must be finite and contain x0={x0}")
    if degree < 0:
        raise ValueError("taylor_bound: degree must be >= 0")
    if x.size == 0:
        raise ValueError("taylor_bound: x0 has no elements")
    d, p, n = degree + 1, flat.shape, x.size
    program = make_program(flat.function(f))(flat.x0)
    # plain interval arithmetic first (degree-0 enclosures): every value's range over the region,
    # which bounds the arguments of elementwise functions more tightly than their own
    # enclosures do (AutoBound's range propagation)
    box = (a.reshape((1,) + p), b.reshape((1,) + p))
    ranges = _interpret(program, E.Region((a - x, b - x), 0), [box], {})
    reg = E.Region((iv.down(a - x), iv.up(b - x)), d)
    x_terms = [iv.point(flat.x0[None]), iv.point(np.eye(n).reshape((n,) + p))] + [None] * (d - 1)
    env = _interpret(program, reg, x_terms, ranges)
    results = []
    for v, spec in zip(program.outvars, program.out_specs):
        val = env.get(v) if v is not None else np.zeros(spec.shape)
        if isinstance(val, _Enc):
            terms, known = val.terms, val.range
        else:
            terms, known = E.constant(val, reg), None
        results.append(TaylorEnclosure(terms, reg, x0, region, degree, flat, known))
    return results[0] if len(results) == 1 else results


def _interpret(program, reg, x_terms, ranges):
    """The program's values as enclosures over reg (constants stay arrays); `ranges`: each
    var's range from a degree-0 pass, or empty."""
    env = dict(zip(program.constvars, program.consts))
    x = program.invars[0]
    env[x] = _Enc(x_terms, _range_of(ranges.get(x)))
    for eqn in program.eqns:
        ins = [env[v] for v in eqn.inputs]
        if not any(isinstance(v, _Enc) for v in ins):
            outs = eqn.primitive.impl(*ins, **eqn.params)
            outs = outs if eqn.primitive.multiple_results else [outs]
        else:
            name = eqn.primitive.name
            if name in _APPLIED:            # rules that apply the primitive itself to ends
                outs = [_APPLIED[name](eqn.primitive, ins, reg, **eqn.params)]
            elif name in _RULES:
                outs = [_RULES[name](ins, reg, **eqn.params)]
            else:
                raise NotImplementedError(f"taylor_bound: no enclosure rule for the primitive "
                                          f"'{name}'")
        for v, o in zip(eqn.outputs, outs):
            if isinstance(o, list):
                o = _Enc(_full(o, v.spec.shape), _range_of(ranges.get(v)))
            env[v] = o
    return env


def _full(terms, shape):
    """Terms broadcast to the value's whole shape (a product or sum can leave a term with
    fewer or size-1 value axes; moves and reductions need them whole)."""
    shape = tuple(shape)
    return [t if t is None or (t[0].shape[1:] == shape and t[1].shape[1:] == shape) else
            tuple(np.broadcast_to(e, np.shape(e)[:1] + shape) for e in t) for t in terms]


def _range_of(enc):
    """A degree-0 enclosure's interval, shaped like the value (or None)."""
    if enc is None:
        return None
    lo, hi = enc.terms[0]
    return lo[0], hi[0]


class _Enc:
    """An enclosure's terms, and the value's range from plain interval arithmetic (or None)."""

    __slots__ = ("range", "terms")

    def __init__(self, terms, value_range=None):
        self.terms, self.range = terms, value_range


def _terms(x, reg):
    return x.terms if isinstance(x, _Enc) else E.constant(x, reg)


def _value_ndim(x):
    return len(E.value_shape(x.terms)) if isinstance(x, _Enc) else np.ndim(x)


def _lifted(args, reg):
    """The arguments' terms, their value axes padded to a common number (for broadcasting)."""
    ndim = max(_value_ndim(a) for a in args)
    return [[E.lift(t, ndim) for t in _terms(a, reg)] for a in args]


def _one_dimensional(base, reg):
    """g's terms, its constant term y0 and the interval its values lie in over the region
    (intersected with its propagated range, and still holding y0, whatever rounding did)."""
    known = base.range if isinstance(base, _Enc) else None
    base = base.terms if isinstance(base, _Enc) else base
    y = E.value_range(base, reg)
    y0 = iv.mid(base[0])[0]
    if known is not None:
        y = iv.intersect(y, known)
    return base, y0, (np.minimum(y[0], y0), np.maximum(y[1], y0))


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
        ranges = [v.range if isinstance(v, _Enc) else iv.point(v) for v in args]
        diff_range = None if any(r is None for r in ranges) else iv.sub(*ranges)
        spread = _abs(_Enc(E.sub(a, b), diff_range), reg)
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
        value = _Enc([tuple(arrange(e, 1) for e in t) for t in _dense(x.terms, reg)],
                     None if x.range is None else tuple(arrange(e, 0) for e in x.range))
        while k > 1:
            half = k // 2
            a, b = _slice(value, slice(0, half)), _slice(value, slice(half, 2 * half))
            out = _Enc(_dense(pair([a, b], reg), reg), None if a.range is None else
                       (pick(a.range[0], b.range[0]), pick(a.range[1], b.range[1])))
            if k % 2:                       # the odd one out goes on to the next round
                out = _joined(out, _slice(value, slice(k - 1, k)))
            value, k = out, half + k % 2
        return [(t[0][..., 0], t[1][..., 0]) for t in value.terms]
    return rule


def _dense(terms, reg):
    """Terms with known zeros as zero arrays."""
    shape = E.value_shape(terms)
    return [t if t is not None else iv.point(np.zeros((reg.n ** i,) + shape))
            for i, t in enumerate(terms)]


def _slice(x, sl):
    return _Enc([(t[0][..., sl], t[1][..., sl]) for t in x.terms],
                None if x.range is None else (x.range[0][..., sl], x.range[1][..., sl]))


def _joined(x, y):
    """x and y concatenated along their last value axis."""
    def cat(u, v):
        return tuple(np.concatenate([u[e], v[e]], axis=-1) for e in (0, 1))
    return _Enc([cat(u, v) for u, v in zip(x.terms, y.terms)],
                None if x.range is None else cat(x.range, y.range))


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
            np.ones(E.value_shape(x.terms)), reg)
    return _elementary("power", x, reg, p)


def _one_plus(terms, reg, sign=1.0):
    return E.add(terms, E.constant(np.full(E.value_shape(terms), sign), reg))


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
    """log(e^a + e^b); with a constant c on one side, c + softplus(x - c) (sharp)."""
    if not all(isinstance(x, _Enc) for x in args):
        x, c = args if isinstance(args[0], _Enc) else args[::-1]
        c = np.asarray(c, dtype=np.float64)
        shifted = _Enc(_sub([x, c], reg), None if x.range is None else
                       iv.sub(x.range, iv.point(c)))
        return _add([_Enc(_elementary("softplus", shifted, reg)), c], reg)
    a, b = args
    ea, eb = _exp_of(a, reg), _exp_of(b, reg)
    rng = None if ea.range is None or eb.range is None else iv.add(ea.range, eb.range)
    return _elementary("log", _Enc(E.add(*_lifted([ea, eb], reg)), rng), reg)


def _batched(prim, ends, rest, params):
    """prim applied to each of the arrays stacked along `ends`' first axis."""
    if prim.batch is None:
        raise NotImplementedError(f"taylor_bound: no batching rule for '{prim.name}'")
    flags = [True] * len(ends) + [False] * len(rest)
    return np.asarray(prim.batch(list(ends) + list(rest), flags, **params), np.float64)


def _move(prim, args, reg, **params):
    """Moves of the first argument's elements (the others are indices): applied to both ends
    of every term, exactly."""
    if any(isinstance(a, _Enc) for a in args[1:]):
        raise NotImplementedError("taylor_bound: a move of elements with a varying index")
    return [None if term is None else tuple(_batched(prim, [end], args[1:], params)
                                            for end in term)
            for term in args[0].terms]


def _concatenate(prim, args, reg, **params):
    terms = [_terms(a, reg) for a in args]
    out = []
    for k in range(reg.d + 1):
        if all(t[k] is None for t in terms):
            out.append(None)
            continue
        parts = [t[k] if t[k] is not None else
                 iv.point(np.zeros((reg.n ** k,) + E.value_shape(t))) for t in terms]
        out.append(tuple(_batched(prim, [part[e] for part in parts], [], params)
                         for e in (0, 1)))
    return out


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
    lead = [c if isinstance(arg, _Enc) else "" for c, arg in zip(free, args)]
    batched = ",".join(p + s for p, s in zip(lead, subs)) + "->" + "".join(lead) + out_subs
    value_of = [lambda t: t if isinstance(args[0], _Enc) else t[0],
                lambda t: t if isinstance(args[1], _Enc) else t[0]]

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
            for c, n in zip(s, E.value_shape(a.terms) if isinstance(a, _Enc) else np.shape(a))}
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
    "expm1": lambda args, reg: _one_plus(_elementary("exp", args[0].terms, reg), reg, -1.0),
    "log1p": lambda args, reg: _elementary("log", _shifted(args[0], reg), reg),
    "tanh": lambda args, reg: _elementary("tanh", args[0], reg),
    "expit": lambda args, reg: _elementary("expit", args[0], reg),
    "erf": lambda args, reg: _elementary("erf", args[0], reg),
    "erfc": lambda args, reg: _one_plus(E.neg(_elementary("erf", args[0], reg)), reg),
    "logaddexp": _logaddexp,
    "absolute": lambda args, reg: _abs(args[0], reg), "fabs": lambda args, reg: _abs(args[0], reg),
    "maximum": _minmax(1), "minimum": _minmax(-1), "fmax": _minmax(1), "fmin": _minmax(-1),
    "reduce_sum": _reduce_sum, "select": _select,
    "reduce_max": _reduce_minmax(1), "reduce_min": _reduce_minmax(-1),
}
_APPLIED = {"einsum": _einsum, "concatenate": _concatenate,
            **{name: _move for name in _MOVES}}
