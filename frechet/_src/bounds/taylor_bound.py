"""taylor_bound: an interval Taylor enclosure of plain NumPy code of a scalar, an array or a
pytree of arrays.

The function is staged (make_program) and its program interpreted on enclosures
(interpreters/enclosure/arithmetic.py) by each primitive's own rule, `prim.enclosure`,
registered in its family module (interpreters/enclosure/rules.py has what rules share): each
value is a list of d + 1 terms, d = degree + 1, term i with n^i coefficients per element for n
input variables. Elementwise functions are composed through sharp one-dimensional enclosures
(elementary.py); arrays are moved, summed and contracted with outward rounding. A primitive
without a rule raises, naming it.
"""

from __future__ import annotations

import itertools

import numpy as np

from frechet._src import tree
from frechet._src.api.api import make_program
from frechet._src.interpreters.enclosure import arithmetic as E
from frechet._src.interpreters.enclosure import interval as iv
from frechet._src.interpreters.enclosure import rules as R
from frechet._src.lax.branch import cond_p
from frechet._src.numpy import manipulation as fnp


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
        dense = R.dense(terms, region)
        self.coefficient_intervals = [_symmetrised(_as_tensor(t, i, region, p), len(p), i)
                                      for i, t in enumerate(dense[:-1])]
        self.coefficients = [iv.mid(t) for t in self.coefficient_intervals]
        self.remainder = _as_tensor(dense[-1], len(dense) - 1, region, p)

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


def _as_tensor(term, i, region, p):
    """Term i, (n^i,) + S, as S + P * i."""
    s = np.shape(term[0])[1:]
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
            parts = fnp.split(v, sizes) if len(self.leaves) > 1 else [v]
            return f(tree.unflatten(self.treedef, [fnp.reshape(p, w.shape)
                                                   for p, w in zip(parts, self.leaves)]))
        return flat_f


def taylor_bound(f, x0, region, degree: int):
    """An interval Taylor enclosure of f around x0 over the box region = (a, b), of the given
    degree.

    f is plain NumPy code of x0's kind: a scalar, an array or a pytree of arrays. a and b are
    scalars, arrays broadcasting to x0's shape, or pytrees like x0. f is staged with
    make_program, so Python branching on its value raises; np.where and frechet.cond
    work where their condition is decided over the whole region (else they raise).
    Returns a TaylorEnclosure (one per output for a tuple of outputs). A function unbounded on
    the region (log reaching 0, 1/x across 0) gets an infinite remainder; one undefined at x0
    raises ValueError. Term i holds n^i coefficients per output element for n variables, so
    keep n small for degrees above 1.

    Example:
      >>> e = taylor_bound(np.exp, 0.0, (-1.0, 1.0), 1)   # exp(x) in 1 + x + [0.3679, 0.7183] x^2
    """
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
    ranges = _interpret(program, E.Region((a - x, b - x), 0), [R.Enc([box])], {})
    reg = E.Region((iv.down(a - x), iv.up(b - x)), d)
    x_terms = [iv.point(flat.x0[None]), iv.point(np.eye(n).reshape((n,) + p))] + [None] * (d - 1)
    env = _interpret(program, reg, [R.Enc(x_terms)], ranges)
    results = []
    for v, spec in zip(program.outvars, program.out_specs):
        val = env.get(v) if v is not None else np.zeros(spec.shape)
        if isinstance(val, R.Enc):
            terms, known = val.terms, val.range
        else:
            terms, known = E.constant(val, reg), None
        results.append(TaylorEnclosure(terms, reg, x0, region, degree, flat, known))
    return results[0] if len(results) == 1 else results


def _interpret(program, reg, inputs, ranges, env=None):
    """The program's values as enclosures over reg (constants stay arrays), added to env;
    `ranges`: each var's range from a degree-0 pass, or empty."""
    env = {} if env is None else env
    env.update(zip(program.constvars, program.consts))
    for v, value in zip(program.invars, inputs):
        if isinstance(value, R.Enc) and v in ranges:
            value = R.Enc(value.terms, _range_of(ranges[v]))
        env[v] = value
    for eqn in program.eqns:
        ins = [env[v] for v in eqn.inputs]
        prim = eqn.primitive
        if not any(isinstance(v, R.Enc) for v in ins):
            outs = eqn.primitive.impl(*ins, **eqn.params)
            outs = outs if eqn.primitive.multiple_results else [outs]
        elif any(o.spec.dtype.kind == "c" for o in eqn.outputs):
            raise NotImplementedError(f"taylor_bound: complex values (the primitive "
                                      f"'{prim.name}' makes one); enclosures are real intervals")
        elif prim is cond_p:
            outs = _branch(ins, reg, ranges, env, **eqn.params)
        elif prim.enclosure is not None:
            outs = [prim.enclosure(ins, reg, **eqn.params)]
        else:
            raise NotImplementedError(f"taylor_bound: no enclosure rule for the primitive "
                                      f"'{prim.name}'")
        for v, o in zip(eqn.outputs, outs):
            if isinstance(o, list):
                o = R.Enc(_full(o, v.spec.shape), _range_of(ranges.get(v)))
            env[v] = o
    return env


def _branch(ins, reg, ranges, env, *, branches):
    """A cond whose index is the same over the whole region (its predicate decided there, see
    comparison in interpreters/enclosure/rules.py): the chosen branch's program, interpreted
    on the operands."""
    index, operands = ins[0], ins[1:]
    if isinstance(index, R.Enc):
        raise NotImplementedError("taylor_bound: a branch chosen by a value that varies with x")
    program = branches[int(np.asarray(index))]
    inner = _interpret(program, reg, operands, ranges, env)
    return [inner[v] if v is not None else np.zeros(spec.shape)
            for v, spec in zip(program.outvars, program.out_specs)]


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
