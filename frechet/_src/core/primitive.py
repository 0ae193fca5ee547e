"""Primitives: named operations that carry every rule of their own.

A primitive's rules live on the object (`impl`, `abstract_eval`, `jvp`, `transpose`, `batch`,
`taylor`, `enclosure`), filled in next to its definition in `frechet/_src/prims/<family>.py`.
`bind` hands the operation to the trace that is current; that trace decides whether to run it,
differentiate it, stage it or batch it.
"""

from __future__ import annotations

import pickle
import re

from frechet._src.core.backend import NATIVE
from frechet._src.core.backend import call as backend_call
from frechet._src.core.trace import Tracer
from frechet._src.core.trace import current as _current


class Primitive:
    """A named operation with its rules.

    Args:
      name: printed in programs and error messages; an identifier (see check_name), not the
        name of a registered primitive, and fixed once given.
      impl: runs the operation on concrete arrays.
      abstract_eval: maps input ArraySpecs (and params) to the output ArraySpec(s).
      multiple_results: whether impl returns a list of arrays.
    """

    __slots__ = (
        "__weakref__",
        "abstract_eval",
        "array_api",
        "batch",
        "collective",
        "enclosure",
        "impl",
        "jvp",
        "jvp_by_constant",
        "jvp_scale",
        "jvp_sum_sign",
        "linear",
        "linearize",
        "multiple_results",
        "name",
        "taylor",
        "transpose",
    )

    def __init__(self, name: str, impl, abstract_eval, *, multiple_results: bool = False):
        if name in REGISTRY:
            # a pickled program names its primitives (see __reduce__), and programs, errors
            # and generated source print them: two under one name could not be told apart
            # (passes key their rules by the Primitive object, core/registry.py)
            raise ValueError(f"choose another name: a primitive named {name!r} already exists")
        object.__setattr__(self, "name", check_name(name))
        self.impl = impl
        self.abstract_eval = abstract_eval
        self.multiple_results = multiple_results
        self.array_api = None   # xp -> fn(*args, **params): impl on another library's
        #                         arrays, from its array namespace xp (core/backend.py)
        self.jvp = None         # (primals, tangents, **params) -> (out, tangent_out); None tangent = zero
        self.jvp_scale = None   # for unary rules of the form t * d(x, ans): that d (see defjvp_scale)
        self.jvp_by_constant = None  # binary, one argument constant: its tangent factor (see ad.py)
        self.jvp_sum_sign = None     # add (+1), subtract (-1): tx + sign * ty (see ad.py)
        self.transpose = None   # (cotangent, *args, **params) -> cotangent per arg; linear prims only
        self.taylor = None      # (primals, series, **params) -> (out, out series): see interpreters/jet.py
        self.enclosure = None   # (args, region, **params) -> terms: frechet.bounds' interval
        #                         Taylor enclosure rule, see interpreters/enclosure/rules.py
        self.batch = None       # (args, batched, **params) -> out with the batch axis first
        self.linear = False
        self.linearize = None   # (jvp_trace, primals, tangents, **params): a rule for
        #                         linearization itself (control flow splits known/unknown parts)
        self.collective = False  # named collectives (psum, ...): batched by the named vmap

    def bind(self, *args, **params):
        # An operation on constants only (no tracer among its arguments) has the same value
        # under every transformation: compute it now. This is constant folding, and it makes
        # the primal-side work of rules cost what NumPy costs.
        # One type test per argument on NumPy's path; tracers and other libraries' arrays
        # take the slower one.
        for a in args:
            if type(a) not in NATIVE:
                return self._bind_other(args, params)
        if self.collective:      # its value depends on the enclosing vmap, not on the arguments
            return _current().process(self, args, params)
        return self.impl(*args, **params) if params else self.impl(*args)

    def _bind_other(self, args, params):
        if not self.collective:
            for a in args:
                if isinstance(a, Tracer):
                    break
            else:           # no tracer: another library's arrays (core/backend.py)
                return backend_call(self, args, params)
        return _current().process(self, args, params)

    def __setattr__(self, key, value):
        if key == "name":       # for the reason __init__ checks it
            raise AttributeError(f"primitive {self.name!r} keeps its name: define a new "
                                 f"primitive instead of renaming one")
        if key == "impl" and hasattr(value, "__code__"):
            IMPL_CODES.add(value.__code__)
        object.__setattr__(self, key, value)

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self):
        # Rules are closures, so a primitive is pickled as its registered name and found in
        # REGISTRY again when unpickled: programs (and LinearMaps) pickle as data.
        if REGISTRY.get(self.name) is not self:
            raise pickle.PicklingError(
                f"define primitive {self.name!r} with frechet.extend.primitive (which registers "
                f"it under its name) to pickle a program that uses it: pickle saves primitives "
                f"by their registered name, and no primitive, or another one, is registered "
                f"as {self.name!r}")
        return (registered, (self.name,))


def registered(name: str) -> Primitive:
    """The primitive registered as `name`: how a pickled program finds its primitives."""
    p = REGISTRY.get(name)
    if p is None:
        raise pickle.UnpicklingError(
            f"import the module that defines primitive {name!r} before unpickling: a pickled "
            f"program names its primitives, and no primitive {name!r} is registered")
    return p


# A primitive's name is printed in programs, error messages and the comments of jit's generated
# source; an identifier (dots allowed, for namespaces) cannot break out of any of them.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


def check_name(name) -> str:
    """`name` if it is a valid primitive name; a ValueError saying what one looks like if not."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            f"use a name like 'my_op' or 'mylib.my_op': primitive names must be identifiers "
            f"(letters, digits, '_' and '.', not starting with a digit), got {name!r}")
    return name


# The code of every impl written in Python: code an impl runs computes on plain arrays, even
# while a transformation is current (numpy/patching.py gives it NumPy's own constructors).
IMPL_CODES: set = set()

# The registry of all primitives, for coverage tests and the coverage report.
REGISTRY: dict[str, Primitive] = {}


def primitive(name: str, impl, abstract_eval, *, multiple_results: bool = False) -> Primitive:
    """Define and register a primitive."""
    if name in REGISTRY:
        raise ValueError(f"primitive {name!r} is defined twice")
    p = Primitive(name, impl, abstract_eval, multiple_results=multiple_results)
    REGISTRY[name] = p
    return p


class Held:
    """A param value that is an arbitrary object (a function, a matrix, a solver), compared
    and hashed by identity so that programs holding it stay hashable."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return f"<{getattr(self.value, '__name__', type(self.value).__name__)}>"

    def __reduce__(self):       # by value: a copy is a new identity, as a new Held would be
        return (Held, (self.value,))
