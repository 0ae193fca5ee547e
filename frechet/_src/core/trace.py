"""Traces and tracers, selected by context.

The current trace lives in a context variable. `Primitive.bind` asks it to process the
operation. A transformation installs its trace for the duration of the user's function; each
trace knows its parent (the trace that was current when it was made) and hands it everything
that does not involve its own tracers. A tracer belongs to exactly one trace object, and a trace
recognises its own tracers by identity (`tracer._trace is self`): that identity is the tag that
keeps nested derivatives from confusing their perturbations.
"""

from __future__ import annotations

import contextvars
import inspect
import threading
from contextlib import contextmanager

from frechet._src.core import backend
from frechet._src.errors import ConcretizationError, EscapedTracerError, TracerConversionError


class Trace:
    """An interpreter of primitives. Subclasses define `process`."""

    __slots__ = ("parent",)

    def process(self, prim, args, params):
        raise NotImplementedError

    def lift(self, value):
        """A constant as a value of this trace (for in-place updates of traced arrays)."""
        raise TracerConversionError(
            f"a constant cannot be written into a value traced by {type(self).__name__}")


class EvalTrace(Trace):
    """The bottom trace: runs primitives on concrete arrays."""

    __slots__ = ()

    def __init__(self):
        self.parent = None

    def process(self, prim, args, params):
        for a in args:
            if isinstance(a, Tracer):
                raise EscapedTracerError(_escaped(prim))
        return backend.run(prim, args, params)


def _escaped(prim) -> str:
    if _active[0]:     # a transformation is running, in another thread than this one
        return (f"primitive '{prim.name}' received a traced value outside the transformation "
                "that made it: if you run traced code in other threads (a thread pool), run it "
                "in the calling thread instead, or submit it with the caller's context "
                "(ctx = contextvars.copy_context(); pool.submit(ctx.run, fn, *args)), since "
                "the transformation in progress is visible only in its own thread's context; "
                "otherwise a tracer escaped (through a global or a closure): return values "
                "from the transformed function instead of storing them")
    return (f"primitive '{prim.name}' received a traced value of a transformation that has "
            "already finished (a tracer escaped, e.g. through a global or a closure); "
            "return values from the transformed function instead of storing them")


EVAL = EvalTrace()
_current = contextvars.ContextVar("frechet_trace", default=EVAL)
current = _current.get
set_current = _current.set
reset_current = _current.reset


@contextmanager
def use(trace: Trace):
    """Make `trace` the current trace inside the block."""
    token = _current.set(trace)
    try:
        yield trace
    finally:
        _current.reset(token)


# Hooks run when the first transformation of the process starts running a user's function and
# when the last one ends (the NumPy front end uses them to install its creation functions only
# while they can meet traced values, so that NumPy outside transformations is untouched).
HOOKS: list = []                        # (on_first_enter, on_last_exit) pairs
_active = [0]
_active_lock = threading.Lock()


@contextmanager
def transforming(trace: Trace):
    """`use(trace)` around a user's function run by a transformation (jvp, vmap, staging,
    Taylor mode): also counts the transformations running in the process, for HOOKS."""
    with _active_lock:
        _active[0] += 1
        if _active[0] == 1:
            for enter, _ in HOOKS:
                enter()
    token = _current.set(trace)
    try:
        yield trace
    finally:
        _current.reset(token)
        with _active_lock:
            _active[0] -= 1
            if _active[0] == 0:
                for _, leave in HOOKS:
                    leave()


_UNSET = object()      # a slot never set (slots have no default)


class _Slotted:
    __slots__ = ("x",)


_SLOT = type(_Slotted.x)      # the descriptor type of a slot


class Tracer:
    """A value seen by a transformation. Subclasses store what their trace needs.

    The NumPy surface (operators, methods, `__array_ufunc__`, `__array_function__`) is
    attached by `frechet._src.numpy`, so the core does not depend on the front end.
    """

    # `_view`: how NumPy's aliasing relates this value to others (numpy/aliasing.py), unset
    # until it has a view or is one; weak references let a base see which views are alive.
    __slots__ = ("__weakref__", "_trace", "_view")
    __array_priority__ = 1000
    # A Python scalar passed to jit stays weakly typed (NEP 50) inside the trace: the tracer
    # standing for it says which Python type it was (jit's WeakTracer); None for all others.
    weak_type = None
    # Every slot holding this tracer's value, inherited ones included (not its aliasing):
    # computed once per class, so that copying a value (`rebind`, NumPy's in-place updates)
    # copies all of it for every tracer type by construction.
    _fields: tuple = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__slots__" not in cls.__dict__:
            raise TypeError(
                f"declare __slots__ on {cls.__name__} (its state fields, () if none): a "
                "Tracer's state lives in slots, so that in-place updates copy all of it")
        names = []
        for k in reversed(cls.__mro__):
            s = k.__dict__.get("__slots__", ())
            names += [s] if isinstance(s, str) else list(s)
        # a slot that a subclass shadows (a property, a class constant) holds nothing there
        cls._fields = tuple(n for n in dict.fromkeys(names)
                            if n not in ("_view", "__weakref__")
                            and type(inspect.getattr_static(cls, n)) is _SLOT)

    def _state(self) -> tuple:
        """This tracer's value: one entry per field (`_UNSET` where a slot was never set)."""
        return tuple(getattr(self, n, _UNSET) for n in self._fields)

    def _set_state(self, state: tuple) -> None:
        """Make this tracer stand for the value `state` (from `_state()` of its type)."""
        for n, v in zip(self._fields, state):
            if v is _UNSET:
                if hasattr(self, n):
                    delattr(self, n)
            else:
                setattr(self, n, v)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def concrete(self):
        """The concrete value behind this tracer, or None where there is none (staging)."""
        return

    def constant(self):
        """The concrete value where this tracer carries nothing of its transformation (no
        tangent, no Taylor series: a constant it lifted), else None. Such a value may leave
        the transformation as a plain array without losing anything."""
        return


def concrete(x, what: str, fix: str = "call it outside make_program, or use jit, which "
                                        "traces on concrete values"):
    """The concrete value of x, for operations whose output depends on values. Under vmap the
    values differ by example; under abstract staging (make_program) there are none."""
    if isinstance(x, Tracer):
        c = x.concrete()
        if c is None:
            raise ConcretizationError(
                f"{what} needs the concrete values of its input (its output depends on them), "
                f"but the input has none here (it is batched by vmap or staged); {fix}")
        return backend.to_host(c)
    return backend.to_host(x)
