"""Scalar code under linearization: a tape of Python floats.

Code written in NumPy scalars (a simulation stepped in floats, a loss assembled term by term)
runs one primitive per arithmetic operation, and the generic path (front end, JVP rule, staged
equation, transpose rule) costs microseconds per operation on values that take nanoseconds.
Under linearization, a float64 scalar that carries a tangent is a `ScalarTracer` instead: its
value is a Python float and its tangent a slot of its trace's `Tape`. Its operators compute the
value and append one entry `t_k = pa * t_a + pb * t_b` (the partial derivatives as floats) to
the tape, and nothing else.

The tape is a linear program like any other, kept in a compact form: a segment of it enters
the staged program as one equation of the linear primitive `scalar_tape`, whose inputs are the
tangents flowing in from array code (or from earlier segments) and whose outputs are the slots
that array code reads. Its transpose `scalar_tape_t` is the reverse sweep over the entries, so
reverse mode is still the transpose of the linear program, rule by rule. A segment is closed
when array code first needs one of its slots; later reads of its slots add outputs to it.

Anything the tape does not handle (an operand of another type or trace, a ufunc without a
scalar rule, a value or derivative that is not finite, where NumPy would warn) takes the
generic path, with the scalar widened to an ordinary JVPTracer: same values, same errors.
So does code in another thread than the transformation's (its context has no current trace).
Scalars are immutable, as NumPy's are: 0-d arrays and views are widened before anything writes
into them (numpy/aliasing.py). `frechet.config.scalar_tape = False` turns the tape off.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_right

import numpy as np

from frechet._src.core.primitive import primitive
from frechet._src.core.spec import ArraySpec
from frechet._src.core.trace import EVAL, Tracer, current
from frechet._src.interpreters import ad
from frechet._src.interpreters.ad import JVPTracer
from frechet._src.interpreters.batching import with_batch_axis
from frechet._src.interpreters.staging import StagedTracer
from frechet._src.ir.program import Eqn, Var

F64 = np.dtype(np.float64)
SPEC = ArraySpec((), F64)
_float64 = np.float64

# NumPy ufunc -> scalar rule (x -> (value, derivative), both Python floats), filled by the
# primitive families next to each primitive's other rules (prims/elementwise.py, defunary).
UNARY: dict = {}


def defunary(prim, d, floats=None):
    """The scalar rule of a smooth unary ufunc primitive whose JVP is `t * d(x, ans)`: NumPy's
    own value and the same derivative formula, on one float. `floats(x) -> (value, derivative)`
    gives the same on Python floats, faster, where the family writes one (tests/test_scalar_rules
    checks it against d)."""
    impl = prim.impl

    def rule(x):
        x = _float64(x)
        with np.errstate(all="raise"):     # where NumPy would warn, the generic path decides
            ans = impl(x)
            return float(ans), float(d(x, ans))
    UNARY[impl] = rule if floats is None else floats


class Segment:
    """A closed stretch of a tape: entries (global slots `base`...), the slots before it that
    they read (`ext`, the equation's inputs) and the slots read after it (`outs`)."""

    __slots__ = ("base", "entries", "eqn", "ext", "outs", "staged")

    def __init__(self, base, entries, ext):
        self.base = base
        self.entries = entries
        self.ext = ext
        self.outs: list = []
        self.staged: dict = {}      # slot -> its StagedTracer (an output of eqn)
        self.eqn = None

    def __repr__(self):
        return f"<{len(self.entries)} scalar operations>"

    def private(self):
        """Keep residuals no one else can change (floats are immutable: nothing to do)."""

    def __reduce__(self):       # as data; what linearization kept to extend it stays behind
        return (_segment, (self.base, self.entries, self.ext, self.outs))

    # -- the two sweeps, on Python floats (the common case) or on any values
    def forward(self, tangents):
        base, n = self.base, len(self.entries)
        env = dict(zip(self.ext, tangents))
        t = [None] * n
        for k, (a, pa, b, pb) in enumerate(self.entries):
            ta = t[a - base] if a >= base else env[a]
            v = ta * pa
            if b is not None:
                v = v + (t[b - base] if b >= base else env[b]) * pb
            t[k] = v
        return [t[s - base] for s in self.outs]

    def backward(self, cts):
        """Input cotangents (None: zero) for output cotangents (None: zero)."""
        base, n, entries = self.base, len(self.entries), self.entries
        adj = [0.0] * n
        for s, c in zip(self.outs, cts):
            if c is not None:
                adj[s - base] += float(c)
        ext: dict = {}
        for k in range(n - 1, -1, -1):
            g = adj[k]
            if g == 0.0:
                continue
            a, pa, b, pb = entries[k]
            if a >= base:
                adj[a - base] += g * pa
            else:
                ext[a] = ext.get(a, 0.0) + g * pa
            if b is not None:
                if b >= base:
                    adj[b - base] += g * pb
                else:
                    ext[b] = ext.get(b, 0.0) + g * pb
        return [None if (g := ext.get(e)) is None else _float64(g) for e in self.ext]

    def backward_any(self, cts):
        """backward on arrays or tracers (a batch of cotangents, an outer transformation)."""
        base, n, entries = self.base, len(self.entries), self.entries
        adj: list = [None] * n
        for s, c in zip(self.outs, cts):
            if c is not None:
                i = s - base
                adj[i] = c if adj[i] is None else adj[i] + c
        ext: dict = {}
        for k in range(n - 1, -1, -1):
            g = adj[k]
            if g is None:
                continue
            a, pa, b, pb = entries[k]
            for s, p in ((a, pa), (b, pb)) if b is not None else ((a, pa),):
                d = g * p
                if s >= base:
                    adj[s - base] = d if adj[s - base] is None else adj[s - base] + d
                else:
                    ext[s] = d if s not in ext else ext[s] + d
        return [ext.get(e) for e in self.ext]


def _segment(base, entries, ext, outs):
    seg = Segment(base, entries, ext)
    seg.outs = outs
    return seg


class Tape:
    """The scalar operations of one linearization: the open entries (slots `base`...), the
    closed segments, and the tangents that entered from array code (slot -1 - i)."""

    __slots__ = ("base", "bases", "entries", "inputs", "lock", "segments", "trace")

    def __init__(self, trace):
        self.trace = trace          # the JVPTrace
        self.lock = threading.Lock()
        self.entries: list = []
        self.base = 0
        self.inputs: list = []
        self.segments: list = []
        self.bases: list = []

    def enter(self, tangent: StagedTracer) -> int:
        """A slot for a tangent computed by array code."""
        self.inputs.append(tangent)
        return -len(self.inputs)

    def staged(self, slot: int) -> StagedTracer:
        """The tangent of a slot, as a staged value of the linearization."""
        with self.lock:     # (other threads' generic code may read slots too)
            return self._staged(slot)

    def _staged(self, slot: int) -> StagedTracer:
        if slot < 0:
            return self.inputs[-1 - slot]
        if slot >= self.base:
            self._close()
        seg = self.segments[bisect_right(self.bases, slot) - 1]
        t = seg.staged.get(slot)
        if t is None:
            pe = self.trace.rule_trace
            var = Var(self.spec(slot))
            seg.outs.append(slot)
            seg.eqn.outputs = seg.eqn.outputs + (var,)
            t = seg.staged[slot] = StagedTracer(pe, var)
        return t

    def finish(self):
        """Linearization is over: drop what extended the program (the staged values, which
        would keep the staging trace and all its residuals alive as long as the program)."""
        for seg in self.segments:
            seg.staged = seg.eqn = None
        self.inputs = self.segments = self.bases = self.entries = None

    def spec(self, slot: int) -> ArraySpec:
        return SPEC

    def _close(self):
        entries, base = self.entries, self.base
        ext = set()
        for e in entries:           # (a, pa, b, pb, ...): t = pa t_a + pb t_b
            if e[0] < base:
                ext.add(e[0])
            if e[2] is not None and e[2] < base:
                ext.add(e[2])
        ext = tuple(sorted(ext))
        seg = self.segment_type(base, entries, ext)
        self.entries = []
        self.base = base + len(entries)
        ins = tuple(self._staged(e).var for e in ext)
        seg.eqn = Eqn(self.primitive, ins, (), {"tape": seg}, None)
        self.trace.rule_trace.eqns.append(seg.eqn)
        self.segments.append(seg)
        self.bases.append(base)


# ---- the tracer -----------------------------------------------------------------------------

class ScalarTracer(JVPTracer):
    """A float64 scalar under linearization: value `v` (a Python float), tangent slot
    `_tangent` of its trace's tape. Immutable, as NumPy's scalars are."""

    __slots__ = ("v",)
    shape = ()
    dtype = F64

    @property
    def primal(self):
        return _float64(self.v)

    def materialise(self):
        return self._trace.tape.staged(self._tangent)

    def widened(self) -> JVPTracer:
        """This value as an ordinary JVPTracer (for the generic path, which then sees exactly
        what it sees with the tape off). After its linearization, a tracer of that trace
        still, which the generic path refuses as escaped."""
        tape = self._trace.tape
        tangent = None if tape is None else tape.staged(self._tangent)
        return JVPTracer(self._trace, _float64(self.v), tangent)

    def concrete(self):
        return _float64(self.v)

    def constant(self):
        return

    def __setitem__(self, idx, value):
        raise TypeError("'numpy.float64' object does not support item assignment")


_new_object = object.__new__
# The tape serves the thread whose transformation made it: elsewhere (a thread pool not given
# the caller's context) the current trace is EVAL, and the generic path says what to do.
_current = current
_ident = threading.get_ident      # ... and only the thread that runs it records on it


def new(trace, value: float, slot: int) -> ScalarTracer:
    s = _new_object(ScalarTracer)
    s._trace = trace
    s.v = value
    s._tangent = slot
    return s


def scalar_out(trace, primal, tangent):
    """The JVP trace's result for a float64 scalar with a staged tangent (ad.py's hook)."""
    tape = trace.tape
    if tape is None or type(tangent) is not StagedTracer or trace.owner != _ident():
        return JVPTracer(trace, primal, tangent)
    return new(trace, float(primal), tape.enter(tangent))


def scalar_scaled(trace, primal, tangent, factor):
    """The result of a unary rule `tangent * factor` on a float64 scalar (ad.py's hook)."""
    tape = trace.tape
    if tape is None or type(tangent) is not StagedTracer or trace.owner != _ident():
        return None
    if factor is None:
        return new(trace, float(primal), tape.enter(tangent))
    d = float(factor)
    if d - d != 0.0:
        return None
    return _push(trace, tape, float(primal), tape.enter(tangent), d, None, 0.0)


ad.new_tape, ad.scalar_out, ad.scalar_scaled = Tape, scalar_out, scalar_scaled
Tape.segment_type = Segment


# ---- arithmetic: values and partials without the generic path ---------------------------------
# Each operator handles a scalar of the same tape, or a number (float, int, np.float64), and
# hands everything else (and any result that is not finite: NumPy decides those, warnings
# included) to the generic operator of Tracer. The partials of +, -, * are the operands, finite
# whenever the result is; those of / are checked.

def _number(c):
    """c as a float, where it is a number the tape takes; else None."""
    t = type(c)
    if t is float:
        return c
    if t is _float64 or (t is int and -_INT_EXACT <= c <= _INT_EXACT):
        return float(c)
    return


_INT_EXACT = 2 ** 53


def _push(tr, tape, v, a, pa, b, pb):
    """A new scalar of value v, appending its entry t = pa * t_a + pb * t_b (b None: no b)."""
    e = tape.entries
    e.append((a, pa, b, pb))
    s = _new_object(ScalarTracer)
    s._trace = tr
    s.v = v
    s._tangent = tape.base + len(e) - 1
    return s


def _add(self, o):
    tr = self._trace
    tape = tr.tape if tr.owner == _ident() and _current() is not EVAL else None
    if tape is not None:
        if type(o) is ScalarTracer:
            if o._trace is tr:
                v = self.v + o.v
                if v - v == 0.0:
                    return _push(tr, tape, v, self._tangent, 1.0, o._tangent, 1.0)
        elif (c := _number(o)) is not None:
            v = self.v + c
            if v - v == 0.0:
                return _push(tr, tape, v, self._tangent, 1.0, None, 0.0)
    return Tracer.__add__(self.widened(), o)


def _sub(self, o):
    tr = self._trace
    tape = tr.tape if tr.owner == _ident() and _current() is not EVAL else None
    if tape is not None:
        if type(o) is ScalarTracer:
            if o._trace is tr:
                v = self.v - o.v
                if v - v == 0.0:
                    return _push(tr, tape, v, self._tangent, 1.0, o._tangent, -1.0)
        elif (c := _number(o)) is not None:
            v = self.v - c
            if v - v == 0.0:
                return _push(tr, tape, v, self._tangent, 1.0, None, 0.0)
    return Tracer.__sub__(self.widened(), o)


def _rsub(self, o):
    tape = self._trace.tape if self._trace.owner == _ident() and _current() is not EVAL else None
    if tape is not None and (c := _number(o)) is not None:
        v = c - self.v
        if v - v == 0.0:
            return _push(self._trace, tape, v, self._tangent, -1.0, None, 0.0)
    return Tracer.__rsub__(self.widened(), o)


def _mul(self, o):
    tr = self._trace
    tape = tr.tape if tr.owner == _ident() and _current() is not EVAL else None
    if tape is not None:
        if type(o) is ScalarTracer:
            if o._trace is tr:
                x, y = self.v, o.v
                v = x * y
                if v - v == 0.0:
                    return _push(tr, tape, v, self._tangent, y, o._tangent, x)
        elif (c := _number(o)) is not None:
            v = self.v * c
            if v - v == 0.0:
                return _push(tr, tape, v, self._tangent, c, None, 0.0)
    return Tracer.__mul__(self.widened(), o)


def _div(self, o):
    tr = self._trace
    tape = tr.tape if tr.owner == _ident() and _current() is not EVAL else None
    if tape is not None:
        if type(o) is ScalarTracer:
            y = o.v
            if o._trace is tr and y != 0.0:
                v = self.v / y
                dx = 1.0 / y
                dy = -v / y
                if v - v == 0.0 and dx - dx == 0.0 and dy - dy == 0.0:
                    return _push(tr, tape, v, self._tangent, dx, o._tangent, dy)
        elif (c := _number(o)) is not None and c != 0.0:
            v = self.v / c
            dx = 1.0 / c
            if v - v == 0.0 and dx - dx == 0.0:
                return _push(tr, tape, v, self._tangent, dx, None, 0.0)
    return Tracer.__truediv__(self.widened(), o)


def _rdiv(self, o):
    tape = self._trace.tape if self._trace.owner == _ident() and _current() is not EVAL else None
    x = self.v
    if tape is not None and x != 0.0 and (c := _number(o)) is not None:
        v = c / x
        d = -v / x
        if v - v == 0.0 and d - d == 0.0:
            return _push(self._trace, tape, v, self._tangent, d, None, 0.0)
    return Tracer.__rtruediv__(self.widened(), o)


def _power(x, y):
    """x ** y on floats with both partials, or None where NumPy decides (0 ** y, a negative
    base to a fractional or non-finite power, overflow). The value is C's pow, as NumPy's
    float64 scalars compute it (arrays square for ** 2: one ulp apart for some x)."""
    if x == 0.0 or (x < 0.0 and not y.is_integer()):
        return
    try:
        v = x ** y
        dx = y * x ** (y - 1.0)
    except OverflowError:
        return
    # d/dy: not real for x < 0 (NaN, as NumPy's rule gives; only a traced y takes it)
    dy = v * math.log(x) if x > 0.0 else math.nan
    if v - v != 0.0 or dx - dx != 0.0:
        return
    return v, dx, dy


def _pow(self, o):
    tr = self._trace
    tape = tr.tape if tr.owner == _ident() and _current() is not EVAL else None
    if tape is not None:
        if type(o) is ScalarTracer:
            r = _power(self.v, o.v) if o._trace is tr else None
            if r is not None and r[2] - r[2] == 0.0:
                return _push(tr, tape, r[0], self._tangent, r[1], o._tangent, r[2])
        elif (c := _number(o)) is not None:
            r = _power(self.v, c)
            if r is not None:
                return _push(tr, tape, r[0], self._tangent, r[1], None, 0.0)
    return Tracer.__pow__(self.widened(), o)


def _rpow(self, o):
    tape = self._trace.tape if self._trace.owner == _ident() and _current() is not EVAL else None
    if tape is not None and (c := _number(o)) is not None:
        r = _power(c, self.v)
        if r is not None and r[2] - r[2] == 0.0:
            return _push(self._trace, tape, r[0], self._tangent, r[2], None, 0.0)
    return Tracer.__rpow__(self.widened(), o)


# immutable, as NumPy's scalars: x += y makes a new value
ScalarTracer.__add__ = ScalarTracer.__radd__ = ScalarTracer.__iadd__ = _add
ScalarTracer.__mul__ = ScalarTracer.__rmul__ = ScalarTracer.__imul__ = _mul
ScalarTracer.__sub__ = ScalarTracer.__isub__ = _sub
ScalarTracer.__rsub__ = _rsub
ScalarTracer.__truediv__ = ScalarTracer.__itruediv__ = _div
ScalarTracer.__rtruediv__ = _rdiv
ScalarTracer.__pow__ = ScalarTracer.__ipow__ = _pow
ScalarTracer.__rpow__ = _rpow
# NumPy's binary ufuncs called on a scalar (np.multiply(c, s), np.float64 * s): the operator
# of the scalar's side
BINARY = {np.add: (_add, _add), np.subtract: (_sub, _rsub), np.multiply: (_mul, _mul),
          np.divide: (_div, _rdiv), np.power: (_pow, _rpow)}


def _unary(self, rule):
    tape = self._trace.tape if self._trace.owner == _ident() and _current() is not EVAL else None
    if tape is None:
        return NotImplemented
    try:
        v, d = rule(self.v)
    except (ValueError, ArithmeticError):       # (FloatingPointError is one)
        return NotImplemented
    if v - v != 0.0 or d - d != 0.0:
        return NotImplemented
    return _push(self._trace, tape, v, self._tangent, d, None, 0.0)


def _negative(x):
    return -x, -1.0


def _absolute(x):
    return abs(x), float((x > 0.0) - (x < 0.0))     # 0 at 0: the zero subgradient


def _neg(self):
    r = _unary(self, _negative)
    return Tracer.__neg__(self.widened()) if r is NotImplemented else r


def _pos(self):
    return self


def _abs(self):
    r = _unary(self, _absolute)
    return Tracer.__abs__(self.widened()) if r is NotImplemented else r


ScalarTracer.__neg__ = _neg
ScalarTracer.__pos__ = _pos
ScalarTracer.__abs__ = _abs


def _compare(name, test):
    def op(self, other):
        if self._trace.tape is not None and self._trace.owner == _ident() and _current() is not EVAL:
            if type(other) is ScalarTracer:
                if other._trace.tape is not None:
                    return np.bool_(test(self.v, other.v))
            elif (c := _number(other)) is not None:    # ints as NumPy compares them: floats
                return np.bool_(test(self.v, c))
        return getattr(Tracer, name)(self.widened(), other)    # the front end's, attached later
    return op


ScalarTracer.__lt__ = _compare("__lt__", lambda a, b: a < b)
ScalarTracer.__le__ = _compare("__le__", lambda a, b: a <= b)
ScalarTracer.__gt__ = _compare("__gt__", lambda a, b: a > b)
ScalarTracer.__ge__ = _compare("__ge__", lambda a, b: a >= b)


def ufunc_method(unary, binary: dict, generic):
    """The `__array_ufunc__` of a tape's tracer: a NumPy ufunc called without keywords goes to
    the tape's unary rule (`unary(self, ufunc)`: the result, or None where it has none) or to
    the operator of the tracer's side (`binary`: ufunc -> (operator, reflected operator));
    anything else to `generic(self, ufunc, method, *inputs, **kwargs)`."""
    def method_(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs:
            if len(inputs) == 1:
                r = unary(self, ufunc)
                if r is not None:
                    return r
            elif len(inputs) == 2:
                ops = binary.get(ufunc)
                if ops is not None:
                    x, y = inputs
                    return ops[0](x, y) if x is self else ops[1](y, x)
        return generic(self, ufunc, method, *inputs, **kwargs)
    return method_


def _unary_ufunc(self, ufunc):
    rule = UNARY.get(ufunc)
    r = NotImplemented if rule is None else _unary(self, rule)
    return None if r is NotImplemented else r


def _generic_ufunc(self, ufunc, method, *inputs, **kwargs):
    ins = [x.widened() if type(x) is ScalarTracer else x for x in inputs]
    me = next((w for x, w in zip(inputs, ins) if x is self), self)
    return Tracer.__array_ufunc__(me, ufunc, method, *ins, **kwargs)


ScalarTracer.__array_ufunc__ = ufunc_method(_unary_ufunc, BINARY, _generic_ufunc)


# ---- the tape's primitives ------------------------------------------------------------------------

def _abstract(*specs, tape):
    return [SPEC] * len(tape.outs)


def _abstract_t(*specs, tape):
    return [SPEC] * len(tape.ext)


def _floats(values) -> bool:
    """Whether the sweeps can run on Python floats: every value (None: zero) concrete, 0-d."""
    return all(v is None or (not isinstance(v, Tracer) and np.ndim(v) == 0) for v in values)


def _zeros(values) -> list:
    """The values, a zero for each None (primitives take no symbolic zeros)."""
    return [_float64(0.0) if v is None else v for v in values]


def _impl(*tangents, tape):
    if _floats(tangents):
        return [_float64(t) for t in tape.forward([float(t) for t in tangents])]
    return [np.asarray(t) if not isinstance(t, Tracer) else t for t in tape.forward(tangents)]


def _impl_t(*cts, tape):
    return _zeros(tape.backward(cts) if _floats(cts) else tape.backward_any(cts))


scalar_tape_p = primitive("scalar_tape", _impl, _abstract, multiple_results=True)
scalar_tape_t_p = primitive("scalar_tape_t", _impl_t, _abstract_t, multiple_results=True)
scalar_tape_p.linear = scalar_tape_t_p.linear = True
Tape.primitive = scalar_tape_p


def _transpose(cts, *args, tape):
    if _floats(cts):
        return tape.backward(cts)           # grad's backward pass: the sweep, now
    return scalar_tape_t_p.bind(*_zeros(cts), tape=tape)


def _transpose_t(cts, *args, tape):
    return scalar_tape_p.bind(*_zeros(cts), tape=tape)


def _linear_jvp(prim):
    def jvp(primals, tangents, tape):
        return prim.bind(*primals, tape=tape), prim.bind(*_zeros(tangents), tape=tape)
    return jvp


def _batch(sweep):
    """Batched tangents are (n,) arrays, the others 0-d: the sweep broadcasts them."""
    def rule(args, batched, tape):
        n = next(a.shape[0] for a, b in zip(args, batched) if b)
        return [with_batch_axis(o, n) if not o.shape else o
                for o in _zeros(sweep(tape, list(args)))]
    return rule


scalar_tape_p.batch = _batch(Segment.forward)
scalar_tape_t_p.batch = _batch(Segment.backward_any)
scalar_tape_p.transpose = _transpose
scalar_tape_t_p.transpose = _transpose_t
scalar_tape_p.jvp = _linear_jvp(scalar_tape_p)
scalar_tape_t_p.jvp = _linear_jvp(scalar_tape_t_p)
