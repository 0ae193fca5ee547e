"""Forward mode, linearization and transposition.

One JVP rule per primitive serves three purposes. Under `jvp` the rule runs with the parent
trace current, so tangents are concrete arrays and the tangent is computed at once. Under
`linearize` the rule runs with a partial-evaluating staging trace current: primal work (which
touches no tangent) is handed to the parent and runs now, and tangent work is recorded into a
linear program, with primal results captured as residuals. That linear program *is* the
derivative at the point. Reverse mode is its transpose: `backward_pass` walks it backwards and
calls each linear primitive's transpose rule, with `UndefinedPrimal` marking the linear inputs.
Fan-out becomes accumulation (`add_any`), composition reverses.
"""

from __future__ import annotations

import threading

import numpy as np

from frechet._src.config import config
from frechet._src.core import chunked
from frechet._src.core import trace as _trace
from frechet._src.core.backend import NATIVE
from frechet._src.core.primitive import primitive
from frechet._src.core.registry import BUILTIN, Role, declare, front_end
from frechet._src.core.spec import ArraySpec, numpy_dtype, spec_of
from frechet._src.core.trace import Trace, Tracer
from frechet._src.errors import NonDifferentiableError
from frechet._src.interpreters.batching import broadcast_batched
from frechet._src.interpreters.enclosure import rules as enclosure_rules
from frechet._src.interpreters.staging import StagedTracer, StagingTrace
from frechet._src.ir import codegen, fusion
from frechet._src.ir.program import Eqn, Program, Var, zeros


class UndefinedPrimal:
    """Marks a linear input of an equation being transposed; carries its spec."""

    __slots__ = ("spec",)

    def __init__(self, spec: ArraySpec):
        self.spec = spec

    @property
    def shape(self):
        return self.spec.shape

    @property
    def dtype(self):
        return self.spec.dtype


_UNDEFINED: dict = {}


def _undefined(spec) -> UndefinedPrimal:
    """The UndefinedPrimal of a spec (immutable, so shared)."""
    u = _UNDEFINED.get(spec)
    if u is None:
        if len(_UNDEFINED) > 4096:
            _UNDEFINED.clear()
        u = _UNDEFINED[spec] = UndefinedPrimal(spec)
    return u


def is_undefined(x) -> bool:
    return type(x) is UndefinedPrimal


# add_any: the engine's own accumulation primitive (same shapes and dtypes; linear).
def _same_spec(x, y):
    if x != y:
        raise TypeError(f"add_any of {x} and {y}")
    return x


add_any_p = primitive("add_any", np.add, _same_spec)
add_any_p.array_api = lambda xp: xp.add
add_any_p.linear = True
declare(add_any_p, Role.ADD_ANY)            # peephole sums and forwards it
codegen.INLINE[add_any_p] = codegen.operator("{} + {}")
fusion.deftemplate(add_any_p, "({0} + {1})")


def add_tangents(x, y):
    """Sum of two tangents or cotangents, either of which may be None (a symbolic zero)."""
    if x is None:
        return y
    if y is None:
        return x
    return add_any_p.bind(x, y)


def _add_any_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    return add_any_p.bind(x, y), add_tangents(tx, ty)


add_any_p.jvp = _add_any_jvp
add_any_p.transpose = lambda ct, x, y: (ct, ct)
add_any_p.batch = lambda args, batched: add_any_p.bind(*_instantiate_batch(args, batched))
add_any_p.enclosure = enclosure_rules.add      # frechet.bounds: a sum


def _instantiate_batch(args, batched):
    return broadcast_batched(args, batched)


# A tangent not yet recorded is the pair (tangent, scale), meaning `tangent * scale` for an
# elementwise factor `scale` (an array). Under linearization a chain of elementwise operations
# composes its derivative factors by multiplying them here, so it records one equation instead
# of one per operation (the product of diagonal linear maps is diagonal). A plain tuple (no
# tangent is ever a tuple): immutable, so tracers that share one (a copy, an in-place update)
# each record it when they need it, without changing the other; and made once per elementwise
# operation, where a NamedTuple's constructor cost 7x a tuple's.
Pending = tuple


def record(pending):
    """Record a pending scaling: the staged equation tangent * scale."""
    t, scale = pending
    return t._trace.record_scale(BUILTIN.multiply, t, scale)


class JVPTracer(Tracer):
    """A (primal, tangent) pair. The tangent is None (a symbolic zero: a constant this trace
    lifted), a value, or a `Pending` scaling of one; `materialise()` is the one step that
    records a pending scaling. Reading the fields never records anything."""

    __slots__ = ("_tangent", "dtype", "primal", "shape")

    def __init__(self, trace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self._tangent = tangent
        self.shape = primal.shape     # read often by the front end: kept, not recomputed
        dt = self.dtype = primal.dtype
        if not isinstance(dt, np.dtype):    # another library's array: specs speak NumPy's
            self.shape, self.dtype = tuple(primal.shape), numpy_dtype(dt)

    def materialise(self):
        """The tangent as a value (None: zero), recording a pending scaling once."""
        t = self._tangent
        if type(t) is Pending:
            t = self._tangent = record(t)
        return t

    def concrete(self):
        p = self.primal
        return p.concrete() if isinstance(p, Tracer) else p

    def constant(self):
        if self._tangent is not None:
            return None
        p = self.primal
        return p.constant() if isinstance(p, Tracer) else p


# Float64 scalars under linearization (interpreters/scalars.py, which sets these at import):
# a tape of Python floats for the linearization, and the tracer of a scalar result.
new_tape = None             # (JVPTrace) -> Tape
scalar_out = None           # (trace, primal, staged tangent) -> tracer
scalar_scaled = None        # (trace, primal, staged tangent, factor or None) -> tracer or None
# Small float64 arrays under linearization (interpreters/arrays.py): their tape, the tracer of
# an array result, and which values the tape takes.
new_array_tape = None       # (JVPTrace) -> ArrayTape
array_out = None            # (trace, primal, staged tangent) -> tracer
takes_array = None          # (value) -> bool
array_linear = None         # (trace, primitive, ArrayTracer, params) -> tracer or None


# Constant factors up to this many elements are copied when kept (a copy costs less than the
# operation's overhead); larger ones are kept as they are, see docs/reliability.md.
_SMALL_CONSTANT = 4096


class JVPTrace(Trace):
    """Carries (primal, tangent) pairs. `rule_trace` is where rules run: the parent for
    forward mode, a partial-evaluating staging trace for linearization. `tape` holds the
    scalar operations of a linearization (interpreters/scalars.py), `atape` its operations on
    small arrays (interpreters/arrays.py); None elsewhere."""

    __slots__ = ("atape", "folds", "owner", "rule_trace", "tape")

    def __init__(self, parent, rule_trace=None):
        self.parent = parent
        self.rule_trace = parent if rule_trace is None else rule_trace
        # Only linearization's partial evaluator folds scalings (jit's tracing trace, a
        # subclass, computes a value for every equation it records).
        self.folds = type(rule_trace) is StagingTrace
        self.tape = self.atape = None
        self.owner = threading.get_ident()      # the thread the tapes record for

    def lift(self, value):
        return JVPTracer(self, value, None)     # a constant: symbolic-zero tangent

    def _unpack(self, args):
        primals = list(args)
        tangents = [None] * len(args)
        found = False
        for i, a in enumerate(args):
            if type(a) is JVPTracer and a._trace is self:
                primals[i] = a.primal
                t = a._tangent
                if t is not None:
                    tangents[i] = t if type(t) is not Pending else a.materialise()
                    found = True
            elif isinstance(a, JVPTracer) and a._trace is self:    # a tape's (scalar or array)
                primals[i] = a.primal
                tangents[i] = a.materialise()
                found = True
        return primals, tangents, found

    def _constant(self, prim, primals, params):
        """prim on values of which none has a tangent, some being constants this trace lifted
        (arrays the user's code allocated): the result is a constant of this trace too, so
        that later writes of traced values into it can update it."""
        out = self.parent.process(prim, primals, params)
        if prim.multiple_results:
            return [JVPTracer(self, o, None) for o in out]
        return JVPTracer(self, out, None)

    def process(self, prim, args, params):
        if len(args) == 1:       # unary fast path
            (a,) = args
            if type(a) is not JVPTracer or a._trace is not self:
                if not isinstance(a, JVPTracer) or a._trace is not self:
                    return self.parent.process(prim, args, params)
                out = array_linear(self, prim, a, params)     # a reshape of an ArrayTracer
                if out is not None:
                    return out
                a = a.widened()         # a tape's tracer on the generic path
            if a._tangent is None:       # a constant this trace lifted: it stays one
                return self._constant(prim, (a.primal,), params)
            d = prim.jvp_scale
            if d is not None and a._tangent is not None:    # the rule is t * d(x, ans)
                x = a.primal
                if type(x) not in NATIVE:     # a tracer, or another library's array
                    ans = prim.bind(x, **params)
                else:
                    ans = prim.impl(x, **params) if params else prim.impl(x)
                return self._scaled(ans, a, d(x, ans))
            primals, tangents = [a.primal], [a.materialise()]
        else:
            if self.folds and len(args) == 2 and prim.jvp_by_constant is not None:
                out = self._by_constant(prim, args)
                if out is not NotImplemented:
                    return out
                if prim.jvp_sum_sign is not None:
                    out = self._sum_of_scalings(prim, args)
                    if out is not NotImplemented:
                        return out
            primals, tangents, found = self._unpack(args)
            if not found:
                if any(type(a) is JVPTracer and a._trace is self for a in args):
                    return self._constant(prim, primals, params)
                return self.parent.process(prim, primals, params)
        if self.folds and prim.linearize is not None:
            return prim.linearize(self, primals, tangents, **params)
        rule = prim.jvp
        if rule is None:
            raise NonDifferentiableError(
                f"primitive '{prim.name}' has no differentiation rule; wrap the function that "
                "uses it in frechet.custom_jvp or frechet.custom_vjp to give one")
        token = _trace.set_current(self.rule_trace)
        try:
            out, tout = rule(primals, tangents, **params)
        finally:
            _trace.reset_current(token)
        if prim.multiple_results:
            return [o if t is None else JVPTracer(self, o, t) for o, t in zip(out, tout)]
        if tout is None:
            return out
        if type(out) is np.float64 and self.tape is not None:
            return scalar_out(self, out, tout)
        if self.atape is not None and type(out) is np.ndarray:
            return array_out(self, out, tout)
        return JVPTracer(self, out, tout)

    def _scaled(self, ans, a, f):
        """The tracer of `ans`, whose tangent is a's tangent times the elementwise factor f
        (None: one). Under linearization with a concrete factor, the factor is folded into a's
        pending scale instead of being recorded."""
        if type(ans) is np.float64 and self.tape is not None and \
                (f is None or type(f) in (np.ndarray, np.float64)):
            out = scalar_scaled(self, ans, a.materialise(), f)
            if out is not None:
                return out
        t = a._tangent
        if f is None:
            return JVPTracer(self, ans, t)
        if type(t) is Pending:
            t, s = t                       # (unpacked as a tuple: this runs once per operation)
        else:
            s = None
        rt = self.rule_trace
        if self.folds and type(f) is np.ndarray and type(t) is StagedTracer and t._trace is rt:
            spec = t.var.spec
            if f.shape == spec[0] and f.dtype == spec[1]:
                return JVPTracer(self, ans, (t, f if s is None else s * f))
        return JVPTracer(self, ans, rt.process(BUILTIN.multiply, (a.materialise(), f), {}))

    def _by_constant(self, prim, args):
        """Under linearization, a binary elementwise primitive with one traced argument and one
        constant array, whose tangent is the traced one's times a factor
        (prim.jvp_by_constant(i, constant)); or NotImplemented when that rule does not apply."""
        x, y = args
        if type(x) is JVPTracer and x._trace is self:
            if type(y) is not np.ndarray:
                return NotImplemented
            a, i, c = x, 0, y
        elif type(y) is JVPTracer and y._trace is self and type(x) is np.ndarray:
            a, i, c = y, 1, x
        else:
            return NotImplemented
        if a._tangent is None:
            return NotImplemented
        f = prim.jvp_by_constant(i, c)
        if f is NotImplemented:
            return f
        if f is c and c.size <= _SMALL_CONSTANT:    # the caller's array, kept as the factor:
            f = c.copy()        # a later write into it must not reach the derivative
        p = a.primal
        pair = (p, c) if i == 0 else (c, p)
        ans = prim.bind(*pair) if type(p) not in NATIVE else prim.impl(*pair)
        return self._scaled(ans, a, f)

    def _sum_of_scalings(self, prim, args):
        """Under linearization, x + y or x - y where both tangents are pending scalings of the
        same staged tangent t: the result's tangent is t times (sx +- sy), still pending (the
        sum of two diagonal maps of t is diagonal). NotImplemented when that does not apply."""
        x, y = args
        if type(x) is not JVPTracer or type(y) is not JVPTracer or x._trace is not self \
                or y._trace is not self:
            return NotImplemented
        tx, ty = x._tangent, y._tangent
        t, sx = tx if type(tx) is Pending else (tx, None)
        t2, sy = ty if type(ty) is Pending else (ty, None)
        if t is None or t is not t2 or type(t) is not StagedTracer:
            return NotImplemented
        if (sx is not None and type(sx) is not np.ndarray) or \
                (sy is not None and type(sy) is not np.ndarray):
            return NotImplemented
        ans = prim.bind(x.primal, y.primal)
        one = np.ones(t.var.spec[0], t.var.spec[1])
        sx = one if sx is None else sx
        sy = one if sy is None else sy
        return JVPTracer(self, ans, (t, sx + sy if prim.jvp_sum_sign > 0 else sx - sy))

    def process_custom_jvp(self, fun, jvp, args):
        primals, tangents, found = self._unpack(args)
        if not found:
            return self.parent.process_custom_jvp(fun, jvp, primals)
        tangents = [instantiate(t, p) for t, p in zip(tangents, primals)]
        with _trace.use(self.rule_trace):
            out, tout = jvp(primals, tangents)
        return [JVPTracer(self, o, t) for o, t in zip(out, tout)]

    def process_custom_vjp(self, fun, fwd, bwd, args):
        primals, tangents, found = self._unpack(args)
        if not found:
            return self.parent.process_custom_vjp(fun, fwd, bwd, primals)
        with _trace.use(self.parent):
            outs, res = fwd(*primals)
        tangents = [instantiate(t, p) for t, p in zip(tangents, primals)]
        out_specs = tuple(spec_of(o) for o in outs)
        in_specs = tuple(spec_of(p) for p in primals)
        with _trace.use(self.rule_trace):
            touts = custom_vjp_lin_p.bind(*tangents, bwd=bwd, res=_Residuals(res),
                                          in_specs=in_specs, out_specs=out_specs)
        return [JVPTracer(self, o, t) for o, t in zip(outs, touts)]


class _Residuals:
    """Holds custom_vjp residuals in a param; compared by identity."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return "<residuals>"


def instantiate(t, primal):
    """A symbolic zero made concrete (zeros of the primal's shape and dtype)."""
    return zeros(spec_of(primal)) if t is None else t


def _trace_default_custom(self, fun, jvp, args):
    with _trace.use(self):
        return fun(*args)


def _trace_default_custom_vjp(self, fun, fwd, bwd, args):
    with _trace.use(self):
        return fun(*args)


# Traces other than JVP run the function itself (the custom rule matters only to JVP).
Trace.process_custom_jvp = _trace_default_custom
Trace.process_custom_vjp = _trace_default_custom_vjp


def _run_jvp(jt, fun, primals, tangents):
    """fun on (primal, tangent) pairs of the JVP trace jt, with jt current."""
    tape, atape = jt.tape, jt.atape
    ins = [scalar_out(jt, p, t) if tape is not None and type(p) is np.float64 else
           array_out(jt, p, t) if atape is not None and takes_array(p) else
           JVPTracer(jt, p, t) for p, t in zip(primals, tangents)]
    with _trace.transforming(jt):
        outs = fun(*ins)
    return _split_outputs(jt, outs)


def jvp_flat(fun, primals, tangents):
    """Forward mode on flat lists. Returns (outputs, output tangents; None = zero)."""
    return _run_jvp(JVPTrace(_trace.current()), fun, primals, tangents)


def _split_outputs(jt, outs):
    primals, tangents = [], []
    for o in outs:
        if isinstance(o, JVPTracer) and o._trace is jt:
            primals.append(o.primal)
            tangents.append(o.materialise())
        else:
            primals.append(o)
            tangents.append(None)
    return primals, tangents


def linearize_flat(fun, primals):
    """Run `fun` once on `primals`; return its outputs and its derivative as a linear Program
    from input tangents to output tangents."""
    parent = _trace.current()
    pe = StagingTrace(parent, forward_known=True)
    jt = JVPTrace(parent, rule_trace=pe)
    jt.tape = new_tape(jt) if config.scalar_tape else None
    jt.atape = new_array_tape(jt) if config.array_tape else None
    tin = [pe.new_arg(spec_of(p)) for p in primals]
    try:
        out_primals, out_tangents = _run_jvp(jt, fun, primals, tin)
    finally:
        for tape in (jt.tape, jt.atape):
            if tape is not None:
                tape.finish()
        # the tapes are spent: an escaped scalar or array takes the generic path
        jt.tape = jt.atape = None
    touts = []
    for p, t in zip(out_primals, out_tangents):
        if t is None:
            touts.append((None, spec_of(p)))
        elif type(t) is StagedTracer and t._trace is pe:
            touts.append(t)
        else:   # a tangent that no input tangent reached: a rule produced a constant
            raise AssertionError("linearization produced a tangent independent of the inputs")
    return out_primals, pe.build(tin, touts)


# Residuals from this size (bytes) on are worth releasing early (below it, NumPy's allocator
# recycles the memory anyway and the bookkeeping would cost more than it saves).
_LARGE = 1 << 16


def backward_pass(program: Program, cts_out, once: bool = False):
    """Transpose a linear program: map output cotangents (None = zero) to input cotangents
    (None = zero). Every primitive is bound, so an outer trace sees the backward pass.

    Each residual and cotangent is dropped as soon as the last equation that reads it has run,
    so the pass holds only what is still to be read. With `once` (a pullback used this one
    time, as grad's is) the program's own reference to its residuals is released too: the
    program is spent afterwards (its consts are empty)."""
    ct_env: dict = {}
    for v, ct in zip(program.outvars, cts_out):
        if v is not None and ct is not None:
            ct_env[v] = add_tangents(ct_env.get(v), ct)
    known = dict(zip(program.constvars, program.consts))
    eqns = program.eqns
    # releasing matters for large residuals only: small programs skip the bookkeeping
    large = any(type(c) is np.ndarray and c.nbytes >= _LARGE for c in program.consts)
    if once:
        program.consts = ()
        if large:
            eqns = _fold_scalings(program, known)
    release = _releases(eqns, known) if large else {}
    for i in range(len(eqns) - 1, -1, -1):
        _transpose_eqn(eqns[i], ct_env, known, release.get(i, ()))
    return [ct_env.get(v) for v in program.invars]


def _fold_scalings(program: Program, known: dict) -> list:
    """The equations of a program about to be transposed once, with each chain of scalings
    of one tangent by residuals (`e = d * a; f = e * b`, e read only there) folded into one
    scaling by their product (`f = d * (a * b)`), residuals that no other equation reads being
    dropped from `known`. One residual instead of two: the backward pass (which must hold a
    scaling's residual, its cotangent and the result at once) then peaks lower. Linearization
    records such chains whenever a pending scaling (ad.JVPTracer) meets a product rule."""
    multiply = BUILTIN.multiply
    uses: dict = {}
    for eqn in program.eqns:
        for v in eqn.inputs:
            uses[v] = uses.get(v, 0) + 1
    for v in program.outvars:
        uses[v] = uses.get(v, 0) + 2        # an output is never folded away
    out: list = []
    scalings: dict = {}     # output var -> (position in out, scaled var, residual var)
    for eqn in program.eqns:
        if eqn.primitive is multiply and not eqn.params:
            x, y = eqn.inputs
            lin, c = (x, y) if y in known and x not in known else (
                (y, x) if x in known and y not in known else (None, None))
            if lin is not None:
                prev = scalings.pop(lin, None)
                if prev is not None and uses[lin] == 1:
                    folded = _fold(eqn, prev, c, out, known, uses)
                    if folded is not eqn:
                        eqn = folded
                        lin, c = eqn.inputs
                scalings[eqn.outputs[0]] = (len(out), lin, c)
        out.append(eqn)
    return [e for e in out if e is not None]


def _fold(eqn, prev, c, out, known, uses):
    """eqn (`f = e * c`) and the earlier scaling prev (`e = d * c0`) as `f = d * (c0 * c)`,
    or eqn unchanged where the residuals are not plain arrays of f's shape and dtype."""
    j, base, c0 = prev
    a, b = known[c0], known[c]
    spec = eqn.outputs[0].spec
    if not all(type(r) is np.ndarray and r.shape == spec.shape and r.dtype == spec.dtype
               for r in (a, b)):
        return eqn
    folded = Var(spec)
    known[folded] = np.multiply(a, b)
    del a, b
    for r in (c0, c):
        uses[r] -= 1
        if uses[r] == 0:
            del known[r]
    uses[folded] = 1
    out[j] = None
    return Eqn(eqn.primitive, (base, folded), eqn.outputs, {}, eqn.source)


def _releases(eqns, known) -> dict:
    """{i: residuals read last (going backwards) by equation i}: walking the equations from the
    first, the first reader of a residual is the last to read it in the backward pass."""
    release: dict = {}
    seen = set()
    for i, eqn in enumerate(eqns):
        for v in eqn.inputs:
            if v in known and v not in seen:
                seen.add(v)
                release.setdefault(i, []).append(v)
    return release


def _transpose_eqn(eqn, ct_env, known, release):
    """One step of the backward pass: eqn's output cotangents (taken out of ct_env, so they are
    freed once read) pulled back and accumulated into its linear inputs' cotangents. The
    residuals in `release` are read for the last time here: they are dropped before the
    accumulation, which allocates."""
    prim = eqn.primitive
    if prim.multiple_results:
        cts = [ct_env.pop(v, None) for v in eqn.outputs]
        skip = all(c is None for c in cts)
    else:
        cts = ct_env.pop(eqn.outputs[0], None)
        skip = cts is None
    if skip:
        for v in release:
            del known[v]
        return
    rule = prim.transpose
    if rule is None:
        raise NonDifferentiableError(
            f"primitive '{prim.name}' appeared in a linear program but has no transpose rule")
    args = [known[v] if v in known else _undefined(v.spec) for v in eqn.inputs]
    linear = [type(a) is UndefinedPrimal for a in args]
    params = eqn.params
    cts_in = rule(cts, *args, **params) if params else rule(cts, *args)
    del cts, args
    for v in release:
        del known[v]
    for v, lin, c in zip(eqn.inputs, linear, cts_in):
        if c is not None and lin:
            ct_env[v] = add_tangents(ct_env.get(v), c)


def pullback(program: Program, cts_out, once: bool = False):
    """backward_pass, with the symbolic-zero input cotangents made concrete zeros."""
    with chunked.layouts(program.consts):      # Dask residuals: broadcasts in their chunks
        cts = backward_pass(program, cts_out, once)
    return [zeros(s) if r is None else r for r, s in zip(cts, program.in_specs)]


def pullback_linear(program: Program, linear, known, cts_out):
    """pullback to the inputs flagged in `linear`, the others fixed at the values `known`
    (in order): a program of control flow or solves, linear in some inputs only."""
    lin = [v for v, f in zip(program.invars, linear) if f]
    fixed = [v for v, f in zip(program.invars, linear) if not f]
    view = Program(lin, list(program.constvars) + fixed, list(program.consts) + list(known),
                   program.eqns, program.outvars, program.out_specs)
    return pullback(view, cts_out)


# ---- custom_vjp under linearization ---------------------------------------------------------------
# A custom VJP rule gives reverse mode only: under linearization the function's tangent becomes
# one `custom_vjp_lin` equation whose transpose calls the user's `bwd` (lax/custom.py).

def _custom_vjp_lin_impl(*tangents, bwd, res, in_specs, out_specs):
    raise NonDifferentiableError(
        "a custom_vjp function was differentiated in forward mode (jvp, jacfwd or a linear map "
        "applied forwards); custom_vjp defines reverse mode only. Use custom_jvp to give a "
        "forward rule, or jacrev/grad/vjp")


custom_vjp_lin_p = primitive("custom_vjp_lin", _custom_vjp_lin_impl,
                             lambda *t, bwd, res, in_specs, out_specs: list(out_specs),
                             multiple_results=True)


def _lin_transpose(cts, *tangents, bwd, res, in_specs, out_specs):
    cts = [c if c is not None else _zeros(s) for c, s in zip(cts, out_specs)]
    out = bwd(res.value, cts[0] if len(cts) == 1 else tuple(cts))
    out = out if isinstance(out, (tuple, list)) else (out,)
    if len(out) != len(in_specs):
        raise TypeError(f"custom_vjp bwd returned {len(out)} cotangents for {len(in_specs)} inputs")
    return [None if o is None else front_end().asarray(o) for o in out]


def _zeros(spec):
    return np.zeros(spec.shape, spec.dtype)


def _lin_jvp(primals, tangents, **params):
    # Linear in its inputs: its derivative is itself (which, in turn, runs only in reverse).
    ts = [instantiate(t, p) for t, p in zip(tangents, primals)]
    return custom_vjp_lin_p.bind(*primals, **params), custom_vjp_lin_p.bind(*ts, **params)


custom_vjp_lin_p.transpose = _lin_transpose
custom_vjp_lin_p.jvp = _lin_jvp
custom_vjp_lin_p.batch = lambda args, batched, **params: _custom_vjp_lin_impl(*args, **params)
custom_vjp_lin_p.linear = True
