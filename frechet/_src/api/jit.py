"""jit: trace once per (structure, shapes, dtypes, static arguments), replay compiled code.

Tracing runs on the first call's concrete values, so the first call is real and Python code may
branch on traced values: each concrete value Python reads (`if x.sum() > 0`, a boolean mask, an
integer bound) becomes a guard, checked on replay right after the value is computed; a failed
guard traces again (several traces per key are kept, up to a cap, after which the function runs
eagerly with a warning). The traced program is simplified (common subexpressions, dead code) and
emitted as straight-line Python calling NumPy.

Arrays the function closes over are captured by value when it is traced (as JAX does): the
compiled program holds copies, so changing such an array later does not change what the
compiled function computes; trace again (a new jit) to see new values. The cache holds at most
`config.jit_cache_size` signatures per function (least recently used dropped), and a function
that keeps tracing for new signatures warns once (RetracingWarning). Tracing is serialised per
function, so threads calling a fresh function at once trace it once.

Called with traced values (inside grad, vmap, ...), a jitted function runs its Python as usual,
so it composes with every transformation; under staging (make_program, an enclosing jit's
abstract staging) it contributes its simplified program. jit(grad(f)) compiles the whole
derivative. A function that closes over a traced value of an enclosing transformation
(`grad(lambda y: jit(lambda x: x * y)(2.0))`) has that value as a hidden input: its trace
computes through the enclosing transformation and is not cached (the hidden value changes with
every call of the enclosing transformation).
"""

from __future__ import annotations

import collections
import functools
import threading
import warnings

import numpy as np

from frechet._src import tree
from frechet._src.api.jit_checks import (
    check_inputs,
    check_outputs,
    check_static_in_range,
    static_arguments,
)
from frechet._src.config import config
from frechet._src.core import backend, chunked
from frechet._src.core import trace as _trace
from frechet._src.core.spec import spec_of
from frechet._src.core.trace import Tracer
from frechet._src.errors import RetracingWarning
from frechet._src.interpreters.staging import StagedTracer, StagingTrace, stage
from frechet._src.ir import native
from frechet._src.ir.codegen import GuardFailed, emit
from frechet._src.ir.program import Eqn, Program, evaluate
from frechet._src.ir.simplify import simplify


class TracingTrace(StagingTrace):
    """Stages every operation and also computes it, so staged values are concrete; reading a
    concrete value records a guard."""

    __slots__ = ("guards",)

    def __init__(self, parent):
        super().__init__(parent, forward_known=False)
        self.guards: list = []

    def process(self, prim, args, params):
        vals = [a.value if isinstance(a, StagedTracer) and a._trace is self else a for a in args]
        if any(isinstance(v, Tracer) for v in vals):
            # a value of an enclosing transformation (closed over, a hidden input): that
            # transformation computes with it
            with _trace.use(self.parent):
                value = prim.bind(*vals, **params)
        else:
            value = backend.run(prim, vals, params)
        out = super().process(prim, args, params)
        if prim.multiple_results:
            for t, v in zip(out, value):
                t.value = v
        else:
            out.value = value
        return out

    def lift(self, value):
        out = super().lift(value)
        out.value = value if isinstance(value, (np.ndarray, Tracer)) or backend.is_foreign(
            value) else np.asarray(value)
        return out

    def concretize(self, tracer):
        value = tracer.value
        if isinstance(value, Tracer):       # computed by an enclosing transformation
            value = value.concrete()
        if value is None:
            return None
        value = backend.to_host(value)      # what Python reads, and what replays compare to
        self.guards.append((tracer.var, value))
        return value


class WeakTracer(StagedTracer):
    """A traced Python scalar argument: weakly typed in promotion, as the scalar itself is."""

    __slots__ = ("weak_type",)

    def __init__(self, trace, var, value, weak_type):
        super().__init__(trace, var, value)
        self.weak_type = weak_type


_PY_SCALARS = (int, float, complex)     # a Python bool promotes as np.bool_ does


def _arrays(leaves):
    """The leaves as arrays, and which were Python scalars (their type, else None)."""
    weak = tuple(type(x) if type(x) in _PY_SCALARS else None for x in leaves)
    return [x if isinstance(x, np.ndarray) or backend.is_foreign(x) else _array(x)
            for x in leaves], weak


def _array(x):
    if chunked.is_chunked(x):
        raise TypeError("frechet.jit compiles for NumPy arrays, and an argument is a Dask array "
                        f"of shape {x.shape}: call the function without jit (frechet.grad on "
                        "Dask data builds a lazy Dask graph)")
    return np.asarray(x)


def _leaf_key(x):
    """What a compiled trace depends on in one input: shape and dtype, and for another
    library's array (core/backend.py) its type and device too."""
    if type(x) is np.ndarray:
        return x.shape, x.dtype
    return tuple(x.shape), x.dtype, type(x), str(backend.device_of(x))


class Compiled:
    """One trace of a jitted function: its simplified program, guards and generated code.
    `hidden`: values of enclosing transformations it closes over, its last inputs."""

    __slots__ = ("guards", "hidden", "out_tree", "program", "run", "source")

    def __init__(self, run, source, program, guards, out_tree, hidden=()):
        self.run = run
        self.source = source
        self.program = program
        self.guards = guards
        self.out_tree = out_tree
        self.hidden = hidden


def _hoist(program: Program):
    """The program with the tracers of enclosing transformations among its constants hoisted
    to extra (hidden) last inputs; returns (program, those tracers)."""
    keep, hidden = [], []
    for v, c in zip(program.constvars, program.consts):
        (hidden if isinstance(c, Tracer) else keep).append((v, c))
    if not hidden:
        return program, ()
    return Program(list(program.invars) + [v for v, _ in hidden], [v for v, _ in keep],
                   [c for _, c in keep], program.eqns, program.outvars,
                   program.out_specs), tuple(c for _, c in hidden)


def _copied(x, memo):
    """x (a Program, or a param holding Programs: branches, loop bodies) with its array
    constants copied: captured by value at trace time.

    Copying all array constants is simpler than telling the arrays a closure holds from those
    tracing created, and cheap: one copy per trace, about the cost of reading them once."""
    if isinstance(x, tuple):
        out = tuple(_copied(e, memo) for e in x)
        return x if all(a is b for a, b in zip(out, x)) else out
    if not isinstance(x, Program):
        return x
    if id(x) not in memo:
        eqns = [e if not any(isinstance(p, (Program, tuple)) for p in e.params.values())
                else Eqn(e.primitive, e.inputs, e.outputs,
                         {k: _copied(p, memo) for k, p in e.params.items()}, e.source)
                for e in x.eqns]
        consts = [c.copy() if type(c) is np.ndarray else c for c in x.consts]
        memo[id(x)] = (x, Program(x.invars, x.constvars, consts, eqns, x.outvars,
                                  x.out_specs))
    return memo[id(x)][1]


def _hashable(x) -> bool:
    try:
        hash(x)
    except TypeError:
        return False
    return True


def _same_guards(a, b) -> bool:
    """Whether two traces of one key took the same branches (a duplicate trace)."""
    return len(a) == len(b) and all(
        np.shape(x) == np.shape(y) and np.array_equal(x, y) for (_, x), (_, y) in zip(a, b))


# Tracing is serialised per jitted function (threads calling a fresh one at once trace it
# once). A thread already tracing (any jitted function) takes no further lock, so no thread
# waits while holding one: no lock-order cycles, and recursion traces freely.
_TRACING = threading.local()
_EAGER = object()       # _miss's answer: run the function eagerly


class jit:
    """Compile `fun` for the shapes and dtypes it is called with.

    Args:
      fun: a function of arrays (pytrees allowed).
      static_argnums, static_argnames: arguments passed as Python values (part of the cache
        key); each also marks the other spelling of the same parameter static.
      max_traces: traces kept per key (different branches taken) before running eagerly.
        At most `frechet.config.jit_cache_size` keys are kept (least recently used dropped).
      fuse: compile runs of elementwise operations on large arrays into single loops with numba
        (installed by `pip install frechet[fast]`), and a whole program over small float
        arrays into one numba function once it has been called for a while (ir/native.py);
        ignored when numba is missing.

    Note: a Python scalar argument is traced (not baked in) and stays weakly typed (NEP 50),
    so jit(f)(x32, 0.5) keeps float32 like f(x32, 0.5); arithmetic among such scalars inside
    f (`5 * s`) yields a strongly typed float64 value, where NumPy would keep a Python float.

    Note: arrays `fun` closes over are captured by value when it is traced (as in JAX);
    pass an array as an argument to have each call read its current value.

    Example:
      >>> f = jit(lambda x: np.sum(np.sin(x) ** 2))
      >>> f(np.ones(3)); f(np.zeros(3))     # traced once, replayed
      >>> print(f.lower(np.ones(3)).source)
    """

    def __init__(self, fun, static_argnums=(), static_argnames=(), max_traces: int = 8,
                 fuse: bool = True):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.static_argnums, self.static_argnames, self._inspected = static_arguments(
            fun, static_argnums, static_argnames)
        self.max_traces = max_traces
        self.fuse = fuse
        self._reset()

    def _reset(self):
        self.cache: collections.OrderedDict = collections.OrderedDict()
        self.trace_count = 0
        self._signatures = 0        # different keys traced, for the retracing warning
        self._warned = False
        self._warned_retrace = False
        self._lock = threading.Lock()

    def __getstate__(self):
        """Pickles the function and its options; the compiled traces are dropped."""
        state = dict(self.__dict__)
        for k in ("cache", "trace_count", "_signatures", "_warned", "_warned_retrace", "_lock"):
            state.pop(k, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._reset()

    def _split(self, args, kwargs):
        if not self._inspected:
            check_static_in_range(self.fun, self.static_argnums, len(args))
        nums = {n % len(args) for n in self.static_argnums if -len(args) <= n < len(args)}
        static = tuple((i, args[i]) for i in sorted(nums)) + tuple(
            sorted((k, v) for k, v in kwargs.items() if k in self.static_argnames))
        dyn = ([a for i, a in enumerate(args) if i not in nums],
               {k: v for k, v in kwargs.items() if k not in self.static_argnames})
        try:
            hash(static)
        except TypeError:
            k, v = next((k, v) for k, v in static if not _hashable(v))
            raise TypeError(
                f"jit({self._name()}): pass static argument {k!r} as a hashable value (a tuple, "
                f"not a list), or leave it out of static_argnums/static_argnames to trace it; "
                f"it is a {type(v).__name__}, which cannot be hashed (static values are part "
                "of the cache key)") from None
        return static, nums, dyn

    def _call_fun(self, args, kwargs, nums, dyn_leaves, treedef):
        dyn_args, dyn_kwargs = tree.unflatten(treedef, list(dyn_leaves))
        it = iter(dyn_args)
        full = [args[i] if i in nums else next(it) for i in range(len(args))]
        static_kw = {k: v for k, v in kwargs.items() if k in self.static_argnames}
        return self.fun(*full, **dyn_kwargs, **static_kw)

    def __call__(self, *args, **kwargs):
        if not kwargs and not self.static_argnums and all(type(x) is np.ndarray for x in args):
            # the common case, arrays in: the key needs no pytree flattening
            nums, leaves, treedef, weak = set(), list(args), None, None
            key = tuple((x.shape, x.dtype) for x in args)
        else:
            static, nums, dyn = self._split(args, kwargs)
            leaves, treedef = tree.flatten(dyn)
            if any(isinstance(x, Tracer) for x in leaves):
                return self._traced_call(args, kwargs, nums, leaves, treedef)
            leaves, weak = _arrays(leaves)
            key = (treedef, tuple(_leaf_key(x) for x in leaves), static, weak)
        entries = self.cache.get(key)
        tried = 0
        if entries is not None:
            try:
                self.cache.move_to_end(key)
            except KeyError:        # dropped by another thread meanwhile
                pass
            for entry in entries:
                tried += 1
                try:
                    return tree.unflatten(entry.out_tree, list(entry.run(*leaves)))
                except GuardFailed:
                    continue
        if getattr(_TRACING, "active", False):
            out = self._miss(key, tried, args, kwargs, nums, leaves, treedef, weak)
        else:
            with self._lock:
                _TRACING.active = True
                try:
                    out = self._miss(key, tried, args, kwargs, nums, leaves, treedef, weak)
                finally:
                    _TRACING.active = False
        return self.fun(*args, **kwargs) if out is _EAGER else out

    def _miss(self, key, tried, args, kwargs, nums, leaves, treedef, weak):
        """No compiled trace fits: try those other threads added meanwhile, else trace."""
        entries = self.cache.get(key, [])
        for entry in entries[tried:]:
            try:
                return tree.unflatten(entry.out_tree, list(entry.run(*leaves)))
            except GuardFailed:
                continue
        if len(entries) >= self.max_traces:
            if not self._warned:
                warnings.warn(f"jit({self._name()}): more than {self.max_traces} traces for one "
                              "set of shapes (its Python branches on traced values keep "
                              "changing); running eagerly", RetracingWarning, stacklevel=3)
                self._warned = True
            return _EAGER       # run by the caller, outside the lock
        if treedef is None:
            treedef = tree.flatten(([*args], {}))[1]
        entry, values = self._trace(args, kwargs, nums, leaves, treedef, weak)
        if not entry.hidden:            # a hidden input changes with every call: not kept
            self._store(key, entry)
        return tree.unflatten(entry.out_tree, values)

    def _store(self, key, entry):
        entries = self.cache.get(key)
        if entries is None:
            entries = self.cache[key] = []
            self._signatures += 1
            while len(self.cache) > config.jit_cache_size:
                self.cache.popitem(last=False)
            if self._signatures >= config.jit_retrace_warning and not self._warned_retrace:
                self._warned_retrace = True
                warnings.warn(
                    f"jit({self._name()}) has been traced for {self._signatures} different "
                    "argument shapes, dtypes or static values: they keep changing, and each "
                    "new one compiles again. Pad or bucket shapes, or make changing Python "
                    "values traced arguments (frechet.config.jit_retrace_warning sets when "
                    "this warns)", RetracingWarning, stacklevel=4)
        if not any(_same_guards(e.guards, entry.guards) for e in entries):
            entries.append(entry)

    def _name(self) -> str:
        return getattr(self.fun, "__name__", "fun")

    def _trace(self, args, kwargs, nums, leaves, treedef, weak=None, lowering=False):
        check_inputs(self._name(), leaves, args, kwargs, nums, self.fun)
        self.trace_count += 1
        tt = TracingTrace(_trace.current())
        ins = [tt.new_arg(spec_of(x), x) if not (weak and weak[i])
               else tt.new_arg(spec_of(x), x, WeakTracer, weak[i]) for i, x in enumerate(leaves)]
        with _trace.transforming(tt):
            out = self._call_fun(args, kwargs, nums, ins, treedef)
        out_leaves, out_tree = tree.flatten(out)
        check_outputs(self._name(), out_leaves)
        values = [o.value if isinstance(o, StagedTracer) and o._trace is tt
                  else o if isinstance(o, Tracer) or backend.is_foreign(o) else np.asarray(o)
                  for o in out_leaves]
        program, hidden = _hoist(tt.build(ins, out_leaves))
        if any(chunked.is_chunked(c) for c in program.consts):
            raise TypeError(f"jit({self._name()}) compiles for NumPy arrays, and the function "
                            "computes with a Dask array it closes over: call it without jit "
                            "(frechet.grad on Dask data builds a lazy Dask graph)")
        if hidden and not lowering:     # not kept (see _miss): nothing to compile
            return Compiled(None, None, program, tt.guards, out_tree, hidden), values
        program, guards = simplify(_copied(program, {}), tt.guards)
        like = next((x for x in leaves if backend.is_foreign(x)), None)
        run, source = emit(program, guards, fuse=self.fuse, like=like)
        entry = Compiled(run, source, program, guards, out_tree, hidden)
        if self.fuse and like is None:  # small NumPy arrays: one native function once reused
            native.attach(entry)        # (ir/native.py)
        return entry, values

    def _traced_call(self, args, kwargs, nums, leaves, treedef):
        current = _trace.current()
        if type(current) is StagingTrace and not current.forward_known:
            # under staging (make_program): contribute the simplified program
            store = []

            def flat(*xs):
                ol, ot = tree.flatten(self._call_fun(args, kwargs, nums, xs, treedef))
                store.append(ot)
                return ol
            st, ins, outs = stage(flat, [spec_of(x) for x in leaves])
            program, _ = simplify(st.build(ins, outs))
            return tree.unflatten(store[0], evaluate(program, *leaves))
        return self._call_fun(args, kwargs, nums, leaves, treedef)

    def lower(self, *args, **kwargs) -> Compiled:
        """Trace for these arguments and return the compiled form (`.source`, `.program`)."""
        _static, nums, dyn = self._split(args, kwargs)
        leaves, treedef = tree.flatten(dyn)
        leaves, weak = _arrays(leaves)
        entry, _ = self._trace(args, kwargs, nums, leaves, treedef, weak, lowering=True)
        return entry
