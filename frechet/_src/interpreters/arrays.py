"""Small arrays under linearization: a tape of NumPy operations.

Eager code on small arrays (a recurrent step `h = tanh(h @ W + b)` on a 4x10 state) spends its
time in the generic path (front end, JVP rule, staged equation, transpose rule), several
microseconds per operation on values that take one. Under linearization, a float64 array of at
most `SMALL` elements that carries a tangent is an `ArrayTracer` instead: its tangent is a slot
of its trace's `ArrayTape`, and its operators (`+ - * / @`, negation, the smooth unary ufuncs)
compute NumPy's value and append one entry `t_k = A t_a + B t_b`, A and B linear maps kept as
data (an elementwise factor, which may broadcast, or a product by a constant matrix).

This is the scalar tape (interpreters/scalars.py) on arrays, and it stays a linear program the
same way: a stretch of entries enters the staged program as one equation of the linear
primitive `array_tape`, whose transpose `array_tape_t` is the reverse sweep, so reverse mode is
still the transpose of the linear program, rule by rule. The sweeps are written in operators
and NumPy functions, so they run on cotangents with a batch axis (jacrev, vmap) and on traced
values (an outer transformation) as they run on arrays.

Everything else goes down the generic path with the tracer itself, whose tangent the generic
path reads through `materialise()`: other dtypes and traces, broadcasting matrix products,
keyword arguments, reductions, indexing, and any write. A write turns the tracer into an
ordinary JVPTracer in place (`unshare`), keeping its identity, so NumPy's aliasing (views,
in-place operators) is exactly what it is with the tape off. Values are NumPy's own, bit for
bit. `frechet.config.array_tape = False` turns it off.
"""

from __future__ import annotations

import threading
from bisect import bisect_right

import numpy as np

from frechet._src.core.primitive import primitive
from frechet._src.core.spec import ArraySpec
from frechet._src.core.trace import EVAL, Tracer, current
from frechet._src.interpreters import ad, scalars
from frechet._src.interpreters.ad import JVPTracer
from frechet._src.interpreters.batching import with_batch_axis
from frechet._src.interpreters.scalars import ScalarTracer, Segment, Tape, ufunc_method
from frechet._src.interpreters.staging import StagedTracer

F64 = np.dtype(np.float64)
SMALL = 4096            # elements; larger arrays take the generic path (its costs are NumPy's)
_ndarray = np.ndarray
_new_object = object.__new__
_current = current
_ident = threading.get_ident

# NumPy ufunc -> derivative d(x, ans) of a smooth unary ufunc, on arrays (defunary)
UNARY: dict = {}


def defunary(prim, d, arrays=None):
    """The array rule of a smooth unary ufunc primitive whose JVP is `t * d(x, ans)`: NumPy's
    value and the derivative, `arrays(x, ans)` where the family writes a NumPy form of d."""
    UNARY[prim.impl] = d if arrays is None else arrays


# ---- linear maps of an entry ---------------------------------------------------------------
# A factor is a float or an ndarray (elementwise, broadcasting), a division or negated product
# (Div, Neg: elementwise, as the generic path computes them), or a product by a constant
# matrix on either side (Right, Left). `apply` maps a tangent, `pull` a cotangent (the transpose); both take
# values with leading batch axes.

class _Map:
    """A linear map holding one constant `c` (kept as data: pickled by value)."""

    __slots__ = ("c",)

    def __init__(self, c):
        self.c = c

    def __reduce__(self):
        return (type(self), (self.c,))


class Right(_Map):
    """t -> t @ c."""

    __slots__ = ()

    def apply(self, t):
        return t @ self.c

    def pull(self, g):
        return g @ self.c.T


class Left(_Map):
    """t -> c @ t."""

    __slots__ = ()

    def apply(self, t):
        return self.c @ t

    def pull(self, g):
        return self.c.T @ g


class Div(_Map):
    """t -> t / c, elementwise (division's own map: the same operations, and so the same
    warnings and roundings, as the generic path's)."""

    __slots__ = ()


class Neg(_Map):
    """t -> -(t * c), elementwise (a quotient's derivative in its denominator, computed in the
    generic path's order: NaN signs are kept bit for bit)."""

    __slots__ = ()


class Sum(_Map):
    """t -> the sum of t's elements; `c` is t's shape (a full reduction, np.sum(x))."""

    __slots__ = ()

    def apply(self, t):
        return np.sum(t, axis=tuple(range(t.ndim - len(self.c), t.ndim)))

    def pull(self, g):
        if type(g) is _float64 or (type(g) is _ndarray and not g.ndim):
            return np.full(self.c, g)       # (the common case, cheaper than a broadcast)
        shape = np.shape(g)
        return np.broadcast_to(np.reshape(g, shape + (1,) * len(self.c)), shape + self.c)


class Reshape(_Map):
    """t -> t reshaped; `c` is (input shape, output shape)."""

    __slots__ = ()

    def apply(self, t):
        a, b = self.c
        return np.reshape(t, np.shape(t)[:np.ndim(t) - len(a)] + b)

    def pull(self, g):
        a, b = self.c
        return np.reshape(g, np.shape(g)[:np.ndim(g) - len(b)] + a)


def _times(f, t):
    """t times the elementwise factor f (a float or array, Div or Neg)."""
    tf = type(f)
    return t / f.c if tf is Div else (-(t * f.c) if tf is Neg else t * f)


def _apply(f, t, shape, out):
    """The factor f applied to the tangent t of an input of `shape` (None: the output's)."""
    tf = type(f)
    if tf is Right or tf is Left or tf is Sum or tf is Reshape:
        return f.apply(t)
    if shape is None:
        return _times(f, t)
    nb = t.ndim - len(shape)
    if nb:                     # align a batched tangent with the output's axes
        t = t.reshape(t.shape[:nb] + (1,) * (len(out) - len(shape)) + shape)
    r = _times(f, t)
    full = t.shape[:nb] + out
    return r if r.shape == full else np.broadcast_to(r, full)


def _pull(f, g, shape, out):
    """The transpose of _apply: g's contribution to the cotangent of the input."""
    tf = type(f)
    if tf is Right or tf is Left or tf is Sum or tf is Reshape:
        return f.pull(g)
    r = g / f.c if tf is Div else ((-g) * f.c if tf is Neg else g * f)
    if shape is None:
        return r
    nb = g.ndim - len(out)
    lead = len(out) - len(shape)
    if r.shape != g.shape:
        r = np.broadcast_to(r, g.shape)
    if lead:
        r = np.sum(r, axis=tuple(range(nb, nb + lead)))
    ones = tuple(nb + i for i, n in enumerate(shape) if n == 1 and r.shape[nb + i] != 1)
    return np.sum(r, axis=ones, keepdims=True) if ones else r


def _accumulate(x, c, theirs):
    """x + c in the reverse sweep, where c is what _pull made: an array without a base is one
    the sweep made itself, so a later contribution is added into it in place, unless it is one
    of the cotangents the caller passed (`theirs`, by id); views, traced values and batched
    ones get a new sum."""
    if x is None:
        return c
    if type(x) is _ndarray and x.base is None and type(c) is _ndarray and \
            x.shape == c.shape and id(x) not in theirs:
        x += c
        return x
    return x + c


def _sum(x, y):
    return y if x is None else (x if y is None else x + y)


class ArraySegment(Segment):
    """A closed stretch of an array tape; entries (a, fa, b, fb, shape, shape_a, shape_b), and
    the specs of the slots before it that it reads (`ext_specs`)."""

    __slots__ = ("ext_specs",)

    def __repr__(self):
        return f"<{len(self.entries)} array operations>"

    def __reduce__(self):
        return (_segment, (self.base, self.entries, self.ext, self.outs, self.ext_specs))

    def spec(self, slot):
        return _spec(self.entries[slot - self.base][4])

    def private(self):
        """Copy the residual arrays, each once, so that no one else can change them (the
        caller's inputs and outputs are among them; a derivative kept for later must not
        see later in-place writes). Small arrays: copying all is cheaper than finding out."""
        memo: dict = {}

        def own(f):
            if type(f) is _ndarray:
                c = memo.get(id(f))
                if c is None:
                    c = memo[id(f)] = (f, f.copy())
                return c[1]
            if isinstance(f, _Map):
                return type(f)(own(f.c))
            return f
        self.entries = [(a, own(fa), b, own(fb), out, sa, sb)
                        for a, fa, b, fb, out, sa, sb in self.entries]

    def forward(self, tangents):
        base = self.base
        env = dict(zip(self.ext, tangents))
        t: list = [None] * len(self.entries)
        for k, (a, fa, b, fb, out, sa, sb) in enumerate(self.entries):
            ta = t[a - base] if a >= base else env[a]
            v = None if ta is None else _apply(fa, ta, sa, out)
            if b is not None:
                tb = t[b - base] if b >= base else env[b]
                if tb is not None:
                    v = _sum(v, _apply(fb, tb, sb, out))
            t[k] = v
        return [t[s - base] for s in self.outs]

    def backward(self, cts):
        """Input cotangents (None: zero) for output cotangents (None: zero)."""
        base, entries = self.base, self.entries
        adj: list = [None] * len(entries)
        for s, c in zip(self.outs, cts):
            if c is not None:
                adj[s - base] = _sum(adj[s - base], c)
        theirs = {id(c) for c in cts}
        ext: dict = {}
        for k in range(len(entries) - 1, -1, -1):
            g = adj[k]
            if g is None:
                continue
            adj[k] = None
            a, fa, b, fb, out, sa, sb = entries[k]
            c = _pull(fa, g, sa, out)
            if a >= base:
                adj[a - base] = _accumulate(adj[a - base], c, theirs)
            else:
                ext[a] = _accumulate(ext.get(a), c, theirs)
            if b is not None:
                c = _pull(fb, g, sb, out)
                if b >= base:
                    adj[b - base] = _accumulate(adj[b - base], c, theirs)
                else:
                    ext[b] = _accumulate(ext.get(b), c, theirs)
        return [ext.get(e) for e in self.ext]


def _segment(base, entries, ext, outs, ext_specs):
    seg = ArraySegment(base, entries, ext)
    seg.outs = outs
    seg.ext_specs = ext_specs
    return seg


class ArrayTape(Tape):
    """The small-array operations of one linearization (see Tape), recorded by the thread
    that runs it (its JVPTrace's `owner`)."""

    __slots__ = ()
    segment_type = ArraySegment

    def spec(self, slot: int) -> ArraySpec:
        if slot < 0:
            return self.inputs[-1 - slot].var.spec
        if slot >= self.base:
            return _spec(self.entries[slot - self.base][4])
        return self.segments[bisect_right(self.bases, slot) - 1].spec(slot)

    def _close(self):
        Tape._close(self)
        seg = self.segments[-1]
        seg.ext_specs = tuple(v.spec for v in seg.eqn.inputs)


# ---- the tracer -----------------------------------------------------------------------------

class ArrayTracer(JVPTracer):
    """A small float64 array under linearization: value `primal`, tangent slot `_tangent` of
    its trace's array tape. No fields of its own, so that `unshare` can make it an ordinary
    JVPTracer in place."""

    __slots__ = ()

    def materialise(self):
        return self._trace.atape.staged(self._tangent)

    def widened(self) -> JVPTracer:
        """This value as a new ordinary JVPTracer (for reading: the generic unary path)."""
        tape = self._trace.atape
        return JVPTracer(self._trace, self.primal,
                         None if tape is None else tape.staged(self._tangent))

    def unshare(self) -> JVPTracer:
        """Make this tracer an ordinary JVPTracer in place (before anything writes into it)."""
        slot = getattr(self, "_tangent", None)
        if type(slot) is int:
            tape = self._trace.atape
            self._tangent = None if tape is None else tape.staged(slot)
        self.__class__ = JVPTracer
        return self


# To the user it is what it is, a JVPTracer (in repr and in Python's own messages).
ArrayTracer.__name__ = ArrayTracer.__qualname__ = "JVPTracer"


def new(trace, value, slot: int) -> ArrayTracer:
    s = _new_object(ArrayTracer)
    s._trace = trace
    s.primal = value
    s._tangent = slot
    s.shape = value.shape
    s.dtype = F64
    return s


def takes(p) -> bool:
    """Whether the array tape takes the value p (a small float64 ndarray, not 0-d)."""
    return type(p) is _ndarray and p.dtype is F64 and 0 < p.size <= SMALL and p.ndim > 0


def array_out(trace, primal, tangent):
    """The JVP trace's result for a value with a staged tangent (ad.py's hook): an ArrayTracer
    where the tape takes it."""
    tape = trace.atape
    if tape is None or type(tangent) is not StagedTracer or not takes(primal) or \
            trace.owner != _ident():
        return JVPTracer(trace, primal, tangent)
    return new(trace, primal, tape.enter(tangent))


def linear_unary(trace, prim, x, params):
    """A linear unary primitive (a reshape) of an ArrayTracer, on its tape (ad.py's hook, for
    the primitives in LINEAR); None where the tape does not take it."""
    rule = LINEAR.get(prim)
    tape = trace.atape
    if rule is None or type(x) is not ArrayTracer or tape is None or trace.owner != _ident():
        return
    v = prim.impl(x.primal, **params)
    return _push(trace, tape, v, x._tangent, rule(x.shape, v.shape), None, None)


LINEAR: dict = {}       # linear unary primitive -> (input shape, output shape) -> its map


def deflinear(prim, rule):
    LINEAR[prim] = rule


ad.new_array_tape, ad.array_out, ad.takes_array = ArrayTape, array_out, takes
ad.array_linear = linear_unary


_SPECS: dict = {}


def _spec(shape) -> ArraySpec:
    s = _SPECS.get(shape)
    if s is None:
        if len(_SPECS) > 4096:
            _SPECS.clear()
        s = _SPECS[shape] = ArraySpec(shape, F64)
    return s


def _record(tape, entry) -> int:
    """Append an entry to the open stretch; its slot."""
    with tape.lock:         # (another thread's generic code may close the stretch: staged)
        e = tape.entries
        e.append(entry)
        return tape.base + len(e) - 1


def _push(tr, tape, v, a, fa, b, fb, sa=None, sb=None):
    """A new tracer of value v, appending its entry t = fa t_a + fb t_b (b None: no b)."""
    slot = _record(tape, (a, fa, b, fb, v.shape, sa, sb))
    if v.size > SMALL:      # grown by broadcasting: the generic path holds it from here
        return JVPTracer(tr, v, tape.staged(slot))
    s = _new_object(ArrayTracer)        # (new(), inlined: this runs once per operation)
    s._trace = tr
    s.primal = v
    s._tangent = slot
    s.shape = v.shape
    s.dtype = F64
    return s


# ---- operators: values and entries without the generic path ---------------------------------
# An operand is another tracer of the same tape (traced), or a constant the tape takes: a
# Python float or int, a float64 scalar, or an ndarray of a dtype that float64 absorbs (bool,
# integers, float16/32/64), of at most SMALL elements. Anything else (and any call in another
# thread than the transformation's) goes to the generic operator of Tracer, with the tracer.

_INT_EXACT = 2 ** 53
_float64 = np.float64


def _tape(x):
    """x's array tape where it may record now, else None: only in the thread that runs the
    transformation (another, even one given its context, takes the generic path, which
    records atomically) and with a trace current (EVAL there: x escaped, the generic path
    refuses it)."""
    tr = x._trace
    return tr.atape if tr.owner == _ident() and _current() is not EVAL else None


def _operand(tr, tape, o):
    """(primal, slot) of an operand: slot None for a constant; None where the tape does not
    take it."""
    t = type(o)
    if t is ArrayTracer:
        return (o.primal, o._tangent) if o._trace is tr else None
    if t is float or t is _float64:
        return o, None
    if t is _ndarray:
        dt = o.dtype
        if dt.kind in "biuf" and dt.itemsize <= 8 and o.size <= SMALL:
            return o, None
        return
    if t is int:
        return (o, None) if -_INT_EXACT <= o <= _INT_EXACT else None
    if t is ScalarTracer:       # a float of the scalar tape: its tangent enters this one
        return (_float64(o.v), tape.enter(o.materialise())) if o._trace is tr else None
    if t is JVPTracer and o._trace is tr and takes(o.primal):
        tangent = o.materialise()
        if tangent is None:
            return o.primal, None
        if type(tangent) is StagedTracer:
            return o.primal, tape.enter(tangent)
    return


def _shape(x, v):
    """x's shape where it differs from the result v's (the entry must broadcast), else None."""
    s = np.shape(x)
    return None if s == v.shape else s


def _operator(rule, name, swap=False):
    """The operator `self op o` (swap: `o op self`) of ArrayTracer: `rule(self, tape, c, b,
    swap)` computes it from o's value c and slot b (None: a constant), or returns None for the
    generic operator of Tracer (`name`), which also takes operands the tape does not."""
    def op(self, o):
        tr = self._trace        # (_tape, inlined: this runs once per operation)
        tape = tr.atape if tr.owner == _ident() and _current() is not EVAL else None
        if tape is not None:
            got = _operand(self._trace, tape, o)
            if got is not None:
                c, b = got
                r = rule(self, tape, o if b is None else c, b, swap)
                if r is not None:
                    return r
        return getattr(Tracer, name)(self, o)     # the front end's, attached later
    return op


def _compute(f, x, y):
    """f(x, y) as a float64 array, or None: shapes that do not broadcast (the generic path
    raises its own error) or another result type."""
    try:
        v = f(x, y)
    except ValueError:
        return
    return v if type(v) is _ndarray and v.dtype is F64 else None


def _sum_rule(sx, so, f):
    """x + y or x - y: factors sx (self's) and so (the other's)."""
    def rule(self, tape, c, b, swap):
        tr, p = self._trace, self.primal
        v = _compute(f, c, p) if swap else _compute(f, p, c)
        if v is None:
            return
        if b is None:
            if sx == 1.0 and v.shape == self.shape:       # the tangent passes through
                return new(tr, v, self._tangent)
            return _push(tr, tape, v, self._tangent, sx, None, None, _shape(p, v))
        return _push(tr, tape, v, self._tangent, sx, b, so, _shape(p, v), _shape(c, v))
    return rule


def _mul_rule(self, tape, c, b, swap):
    tr, p = self._trace, self.primal
    v = _compute(np.multiply, c, p) if swap else _compute(np.multiply, p, c)
    if v is None:
        return
    if b is None:       # a constant array is copied: later writes must not reach it
        f = float(c) if type(c) is not _ndarray else c.copy()
        return _push(tr, tape, v, self._tangent, f, None, None, _shape(p, v))
    return _push(tr, tape, v, self._tangent, float(c) if type(c) is _float64 else c, b, p,
                 _shape(p, v), _shape(c, v))


def _matmul_rule(self, tape, c, b, swap):
    """2-d @ 2-d of float64; other shapes and dtypes take the generic path."""
    tr, p = self._trace, self.primal
    if len(self.shape) != 2 or type(c) is not _ndarray or c.ndim != 2 or c.dtype is not F64 \
            or c.shape[swap] != self.shape[1 - swap]:
        return
    if b is None:       # a constant is copied: later writes must not reach it
        c = c.copy()
        if swap:
            return _push(tr, tape, c @ p, self._tangent, Left(c), None, None)
        return _push(tr, tape, p @ c, self._tangent, Right(c), None, None)
    if swap:
        return _push(tr, tape, c @ p, b, Right(p), self._tangent, Left(c))
    return _push(tr, tape, p @ c, self._tangent, Right(c), b, Left(p))


def _mismatch(x, y) -> bool:
    """Whether the shapes of x and y do not broadcast (checked before anything is computed
    where the generic path would compute, and warn, first)."""
    try:
        np.broadcast_shapes(np.shape(x), np.shape(y))
    except ValueError:
        return True
    return False


def _div_rule(self, tape, c, b, swap):
    """The factors as the generic path computes them: the reciprocal of a constant denominator
    (first, as there), -(ans / y) for a traced one."""
    tr, p = self._trace, self.primal
    if _mismatch(p, c):
        return
    if swap:            # c / self: self's factor -(v / self)
        v = c / p
        q = Neg(np.divide(v, p))
        if b is None:
            return _push(tr, tape, v, self._tangent, q, None, None, _shape(p, v))
        return _push(tr, tape, v, b, Div(p), self._tangent, q, _shape(c, v), _shape(p, v))
    if b is None:       # (c as float64, as the generic path converts it)
        r = np.reciprocal(c.astype(F64) if type(c) is _ndarray else float(c))
        v = p / c
        return _push(tr, tape, v, self._tangent, r if type(r) is _ndarray else float(r), None,
                     None, _shape(p, v))
    v = p / c
    return _push(tr, tape, v, self._tangent, Div(c), b, Neg(np.divide(v, c)), _shape(p, v),
                 _shape(c, v))


_add = _operator(_sum_rule(1.0, 1.0, np.add), "__add__")
_radd = _operator(_sum_rule(1.0, 1.0, np.add), "__radd__", swap=True)
_sub = _operator(_sum_rule(1.0, -1.0, np.subtract), "__sub__")
_rsub = _operator(_sum_rule(-1.0, 1.0, np.subtract), "__rsub__", swap=True)
_mul = _operator(_mul_rule, "__mul__")
_rmul = _operator(_mul_rule, "__rmul__", swap=True)
_matmul = _operator(_matmul_rule, "__matmul__")
_rmatmul = _operator(_matmul_rule, "__rmatmul__", swap=True)
_div = _operator(_div_rule, "__truediv__")
_rdiv = _operator(_div_rule, "__rtruediv__", swap=True)


def _neg(self):
    tape = _tape(self)
    if tape is None:
        return Tracer.__neg__(self)
    return _push(self._trace, tape, -self.primal, self._tangent, -1.0, None, None)


def _unary(self, ufunc):
    """ufunc(self) for a smooth unary ufunc with an array rule; None where there is none."""
    d = UNARY.get(ufunc)
    tr = self._trace            # (_tape, inlined: this runs once per operation)
    tape = tr.atape if d is not None and tr.owner == _ident() and _current() is not EVAL \
        else None
    if tape is None:
        return
    x = self.primal
    ans = ufunc(x)
    return _push(tr, tape, ans, self._tangent, d(x, ans), None, None)


_POWERS = {2: np.square, 0.5: np.sqrt, -1: np.reciprocal}    # ndarray.__pow__'s fast paths


def _pow(self, o):
    """x ** c: NumPy's fast paths (square, sqrt, reciprocal) on the tape, the rest generic."""
    if type(o) in (int, float) and o in _POWERS:
        r = _unary(self, _POWERS[o])
        if r is not None:
            return r
    return Tracer.__pow__(self, o)


ArrayTracer.__pow__ = _pow
ArrayTracer.__add__ = _add
ArrayTracer.__radd__ = _radd
ArrayTracer.__sub__ = _sub
ArrayTracer.__rsub__ = _rsub
ArrayTracer.__mul__ = _mul
ArrayTracer.__rmul__ = _rmul
ArrayTracer.__matmul__ = _matmul
ArrayTracer.__rmatmul__ = _rmatmul
ArrayTracer.__truediv__ = _div
ArrayTracer.__rtruediv__ = _rdiv
ArrayTracer.__neg__ = _neg

# NumPy's ufuncs called with a tracer operand (np.add(c, x), ndarray @ x): the operator of the
# tracer's side
BINARY = {np.add: (_add, _radd), np.subtract: (_sub, _rsub), np.multiply: (_mul, _rmul),
          np.divide: (_div, _rdiv), np.matmul: (_matmul, _rmatmul)}


def _total(self):
    """np.sum(x) (all elements, NumPy's pairwise sum): a float of the scalar tape, whose tangent
    is the array tape's entry sum(t_x)."""
    tape = _tape(self)
    stape = self._trace.tape
    if tape is None or stape is None:
        return
    v = np.sum(self.primal)
    slot = _record(tape, (self._tangent, Sum(self.shape), None, None, (), None, None))
    return scalars.scalar_out(self._trace, v, tape.staged(slot))


def _array_function(self, func, types, args, kwargs):
    if func is np.sum and len(args) == 1 and not kwargs and args[0] is self:
        r = _total(self)
        if r is not None:
            return r
    return Tracer.__array_function__(self, func, types, args, kwargs)    # the front end's


def _sum_method(self, *args, **kwargs):
    r = None if args or kwargs else _total(self)
    return Tracer.sum(self, *args, **kwargs) if r is None else r


ArrayTracer.__array_function__ = _array_function
ArrayTracer.sum = _sum_method


def _unary_ufunc(self, ufunc):
    return _neg(self) if ufunc is np.negative else _unary(self, ufunc)


def _generic_ufunc(self, ufunc, method, *inputs, **kwargs):
    return Tracer.__array_ufunc__(self, ufunc, method, *inputs, **kwargs)    # the front end's


_ufunc_method = ufunc_method(_unary_ufunc, BINARY, _generic_ufunc)


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    if len(inputs) == 1 and method == "__call__" and not kwargs:    # np.tanh(x): the common case
        r = _unary(self, ufunc)
        if r is not None:
            return r
    return _ufunc_method(self, ufunc, method, *inputs, **kwargs)


ArrayTracer.__array_ufunc__ = _array_ufunc


# ---- the tape's primitives ------------------------------------------------------------------

def _abstract(*specs, tape):
    return [tape.spec(s) for s in tape.outs]


def _abstract_t(*specs, tape):
    return list(tape.ext_specs)


def _concrete(values) -> bool:
    return not any(isinstance(v, Tracer) for v in values)


def _zeros(values, specs) -> list:
    """The values, a zero for each None (primitives take no symbolic zeros)."""
    return [np.zeros(s.shape, s.dtype) if v is None else v for v, s in zip(values, specs)]


def _impl(*tangents, tape):
    return _zeros(tape.forward(list(tangents)), _abstract(tape=tape))


def _impl_t(*cts, tape):
    return _zeros(tape.backward(list(cts)), tape.ext_specs)


array_tape_p = primitive("array_tape", _impl, _abstract, multiple_results=True)
array_tape_t_p = primitive("array_tape_t", _impl_t, _abstract_t, multiple_results=True)
array_tape_p.linear = array_tape_t_p.linear = True
ArrayTape.primitive = array_tape_p


def _transpose(cts, *args, tape):
    if _concrete(cts):
        return tape.backward(list(cts))     # grad's backward pass: the sweep, now
    return array_tape_t_p.bind(*_zeros(cts, _abstract(tape=tape)), tape=tape)


def _transpose_t(cts, *args, tape):
    return array_tape_p.bind(*_zeros(cts, tape.ext_specs), tape=tape)


def _linear_jvp(prim, specs):
    def jvp(primals, tangents, tape):
        return (prim.bind(*primals, tape=tape),
                prim.bind(*_zeros(tangents, specs(tape)), tape=tape))
    return jvp


def _batch(sweep, specs):
    """Batched values carry a leading axis of size n, the others not: the sweeps broadcast."""
    def rule(args, batched, tape):
        n = next(a.shape[0] for a, b in zip(args, batched) if b)
        outs = sweep(tape, list(args))
        return [with_batch_axis(np.zeros(s.shape, s.dtype) if o is None else o, n)
                if o is None or o.ndim == len(s.shape) else o
                for o, s in zip(outs, specs(tape))]
    return rule


array_tape_p.batch = _batch(ArraySegment.forward, lambda t: _abstract(tape=t))
array_tape_t_p.batch = _batch(ArraySegment.backward, lambda t: t.ext_specs)
array_tape_p.transpose = _transpose
array_tape_t_p.transpose = _transpose_t
array_tape_p.jvp = _linear_jvp(array_tape_p, lambda t: t.ext_specs)
array_tape_t_p.jvp = _linear_jvp(array_tape_t_p, lambda t: _abstract(tape=t))
