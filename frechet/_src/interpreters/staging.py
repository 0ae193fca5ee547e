"""The staging trace: records primitives into a Program instead of running them.

With `forward_known=True` it is an on-the-fly partial evaluator: an operation none of whose
inputs are this trace's tracers is handed to the parent trace (it is "known" and runs now);
only operations that touch staged values are recorded. Linearization uses it this way, so a
linear program holds only the tangent computation, with primal results captured as constants
(residuals). With `forward_known=False` everything is recorded (`make_program`).
"""

from __future__ import annotations

import os
import sys

import numpy as np

from frechet._src.core import trace as _trace
from frechet._src.core.spec import ArraySpec, spec_of
from frechet._src.core.trace import Trace, Tracer
from frechet._src.ir.program import Eqn, Program, Var
from frechet._src.warn import user_frame


class StagedTracer(Tracer):
    __slots__ = ("value", "var")

    def __init__(self, trace, var, value=None):
        self._trace = trace
        self.var = var
        self.value = value          # the concrete value, when the trace computes one (jit)

    @property
    def shape(self):
        return self.var.spec.shape

    @property
    def dtype(self):
        return self.var.spec.dtype

    @property
    def aval(self):
        return self.var.spec

    def concrete(self):
        return self._trace.concretize(self)


def _user_source(past_libraries=False) -> str | None:
    """The first stack frame outside frechet (and, with `past_libraries`, outside installed
    packages): the user's line, for printed programs and error messages."""
    f, _ = user_frame(sys._getframe(2), past_libraries)
    if f is None:
        return None
    return f"{os.path.basename(f.f_code.co_filename)}:{f.f_lineno}"


class StagingTrace(Trace):
    __slots__ = ("_const_ids", "_inputs", "consts", "constvars", "eqns", "forward_known",
                 "record_source")

    def __init__(self, parent, forward_known: bool):
        self.parent = parent
        self.forward_known = forward_known
        self.record_source = not forward_known
        self.eqns: list[Eqn] = []
        self.constvars: list[Var] = []
        self.consts: list = []
        self._const_ids: dict[int, Var] = {}
        self._inputs: dict[int, Var] = {}      # id of an input tracer -> its var

    def concretize(self, tracer):
        """A staged value has no concrete value (the tracing trace of jit overrides this)."""
        return

    def lift(self, value) -> StagedTracer:
        return StagedTracer(self, self._atom(value))

    def new_arg(self, spec: ArraySpec, value=None, cls=None, *extra) -> StagedTracer:
        """A new input of the program (of class `cls`, StagedTracer by default)."""
        var = Var(spec)
        t = (cls or StagedTracer)(self, var, value, *extra)
        self._inputs[id(t)] = var
        return t

    def _atom(self, x) -> Var:
        if isinstance(x, StagedTracer) and x._trace is self:
            return x.var
        v = self._const_ids.get(id(x))
        if v is None:
            if not isinstance(x, Tracer) and not hasattr(x, "dtype"):
                x = np.asarray(x)
            v = Var(spec_of(x))
            self._const_ids[id(x)] = v
            self.constvars.append(v)
            self.consts.append(x)   # keeps x alive, so its id stays unique
        return v

    def _known(self, args) -> bool:
        """Whether a partial evaluator hands an operation on args to its parent (none of them
        is one of its staged values)."""
        return self.forward_known and not any(
            isinstance(a, StagedTracer) and a._trace is self for a in args)

    # A custom rule on known values belongs to the parent (under linearization, the primal side
    # of a rule that calls the function again: the parent differentiates it by its rule too,
    # where running the body here would differentiate the body instead)
    def process_custom_jvp(self, fun, jvp, args):
        if self._known(args):
            return self.parent.process_custom_jvp(fun, jvp, args)
        with _trace.use(self):
            return fun(*args)

    def process_custom_vjp(self, fun, fwd, bwd, args):
        if self._known(args):
            return self.parent.process_custom_vjp(fun, fwd, bwd, args)
        with _trace.use(self):
            return fun(*args)

    def process(self, prim, args, params):
        if self.forward_known:
            for a in args:
                if isinstance(a, StagedTracer) and a._trace is self:
                    break
            else:   # known: the parent runs it now
                return self.parent.process(prim, args, params)
        ins = []
        for a in args:
            ins.append(a.var if isinstance(a, StagedTracer) and a._trace is self else self._atom(a))
        if len(ins) == 2 and not params:
            specs = prim.abstract_eval(ins[0].spec, ins[1].spec)
        else:
            specs = prim.abstract_eval(*[v.spec for v in ins], **params)
        src = _user_source() if self.record_source else None
        if not prim.multiple_results:
            out = Var(specs)
            self.eqns.append(Eqn(prim, tuple(ins), (out,), params, src))
            return StagedTracer(self, out)
        outs = tuple(Var(s) for s in specs)
        self.eqns.append(Eqn(prim, tuple(ins), outs, params, src))
        return [StagedTracer(self, v) for v in outs]

    def record_scale(self, multiply, t: StagedTracer, d: np.ndarray) -> StagedTracer:
        """Record multiply(t, d) for this trace's tracer t and a fresh constant d: the tangent
        equation of every unary scale rule, without the generic staging steps."""
        spec = t.var.spec
        if d.shape != spec[0] or d.dtype != spec[1]:
            return self.process(multiply, (t, d), {})
        cv = Var(spec)
        self.constvars.append(cv)
        self.consts.append(d)
        self._const_ids[id(d)] = cv
        out = Var(spec)
        self.eqns.append(Eqn(multiply, (t.var, cv), (out,), {}, None))
        return StagedTracer(self, out)

    def build(self, in_tracers, outs) -> Program:
        """The Program from `in_tracers` to `outs` (tracers, or None for a symbolic zero with the
        spec given in its place as `(None, spec)` pairs)."""
        outvars, out_specs = [], []
        for o in outs:
            if isinstance(o, tuple):   # (None, spec): symbolic zero
                outvars.append(None)
                out_specs.append(o[1])
            else:
                v = self._atom(o)
                outvars.append(v)
                out_specs.append(v.spec)
        # an input the function updated in place (x[0] = ...) has been rebound to a later
        # var: the program's input is the var it was made with
        invars = [self._inputs.get(id(t), t.var) for t in in_tracers]
        return Program(invars, self.constvars, self.consts, self.eqns, outvars, out_specs)


def stage(fun, in_specs, forward_known: bool = False):
    """Run `fun` on staged inputs of `in_specs`; return (program, outputs-as-given)."""
    st = StagingTrace(_trace.current(), forward_known)
    ins = [st.new_arg(s) for s in in_specs]
    with _trace.transforming(st):
        outs = fun(*ins)
    return st, ins, outs
