"""Programs: typed SSA over primitives, with one evaluator, one typechecker and one printer.

A `Program` has input variables, constant variables (bound to arrays captured when it was
made), equations and outputs. An output may be `None`, meaning a symbolic zero of the spec in
`out_specs`: linear programs use it for outputs that do not depend on the inputs.
"""

from __future__ import annotations

import pickle

import numpy as np

from frechet._src.core.primitive import Held
from frechet._src.core.spec import ArraySpec


class Var:
    """A variable of a program. Identity is what matters; names are given when printing."""

    __slots__ = ("spec",)

    def __init__(self, spec: ArraySpec):
        self.spec = spec

    def __repr__(self) -> str:
        return f"Var({self.spec!r})"

    def __reduce__(self):       # explicit, so that every pickle protocol can save it
        return (Var, (self.spec,))


class Eqn:
    """`outputs = primitive(*inputs, **params)`; `source` is the user's line, where known."""

    __slots__ = ("inputs", "outputs", "params", "primitive", "source")

    def __init__(self, primitive, inputs: tuple, outputs: tuple, params: dict,
                 source: str | None = None):
        self.primitive = primitive
        self.inputs = inputs
        self.outputs = outputs
        self.params = params
        self.source = source

    def __repr__(self) -> str:
        return f"Eqn({self.primitive.name}, {len(self.inputs)} inputs)"

    def __reduce__(self):
        # Programs pickle as data (primitives by their registered name). A param holding a
        # Python function that pickle cannot save (a custom rule's callback defined inside a
        # function, a lambda) is named here, with its primitive, rather than left to pickle's
        # bare attribute error.
        for key, value in self.params.items():
            _check_picklable(self.primitive.name, key, value)
        return (Eqn, (self.primitive, self.inputs, self.outputs, self.params, self.source))


def _check_picklable(prim: str, key: str, value) -> None:
    value = value.value if isinstance(value, Held) else value
    if not callable(value) or isinstance(value, (type, Program)):
        return
    try:
        pickle.dumps(value)
    except Exception as e:      # pickle raises many kinds (AttributeError, TypeError, ...)
        name = getattr(value, "__qualname__", type(value).__qualname__)
        where = (f"primitive {printable(prim)!r} holds it in its param {key!r}, and pickle "
                 f"cannot save it ({type(e).__name__}: {e})")
        if getattr(value, "__module__", "").startswith("frechet."):
            # a closure frechet made (custom_vjp's, checkpoint's): its qualname names the API
            fix = (f"pickle this program without frechet.{name.split('.')[0]}, which cannot "
                   f"be pickled yet: {name} is a function frechet made, and ")
        else:
            fix = (f"define {name} at module level (not inside a function, not as a lambda) "
                   f"to pickle this program: ")
        raise pickle.PicklingError(fix + where) from e


class Program:
    """A typed SSA program.

    Args:
      invars: the input Vars.
      constvars: Vars bound to `consts`, the arrays the program captured.
      eqns: the equations in order.
      outvars: output Vars; `None` is a symbolic zero whose spec is in `out_specs`.
      out_specs: the spec of each output.
    """

    __slots__ = ("consts", "constvars", "eqns", "invars", "out_specs", "outvars")

    def __init__(self, invars, constvars, consts, eqns, outvars, out_specs):
        self.invars = tuple(invars)
        self.constvars = tuple(constvars)
        self.consts = tuple(consts)
        self.eqns = tuple(eqns)
        self.outvars = tuple(outvars)
        self.out_specs = tuple(out_specs)

    @property
    def in_specs(self) -> tuple:
        return tuple(v.spec for v in self.invars)

    def __call__(self, *args):
        return evaluate(self, *args)

    def __str__(self) -> str:
        return pretty(self)

    __repr__ = __str__

    def __reduce__(self):
        # Programs are data: Vars keep their identity through pickle's memo, primitives are
        # saved by name (Primitive.__reduce__), params by value (Eqn.__reduce__ checks them).
        return (Program, (self.invars, self.constvars, self.consts, self.eqns, self.outvars,
                          self.out_specs))


def zeros(spec: ArraySpec):
    return np.zeros(spec.shape, spec.dtype)


def evaluate(program: Program, *args):
    """Run `program` by binding each primitive, so the current trace sees every operation."""
    if len(args) != len(program.invars):
        raise TypeError(f"program takes {len(program.invars)} inputs, got {len(args)}")
    env = dict(zip(program.constvars, program.consts))
    env.update(zip(program.invars, args))
    for eqn in program.eqns:
        outs = eqn.primitive.bind(*[env[v] for v in eqn.inputs], **eqn.params)
        if eqn.primitive.multiple_results:
            env.update(zip(eqn.outputs, outs))
        else:
            env[eqn.outputs[0]] = outs
    return [zeros(s) if v is None else env[v] for v, s in zip(program.outvars, program.out_specs)]


def typecheck(program: Program) -> None:
    """Check that every variable is defined before use, once, with the spec its rule gives."""
    defined = set()

    def define(v):
        if v in defined:
            raise TypeError(f"variable {v} is defined twice")
        defined.add(v)

    for v, c in zip(program.constvars, program.consts):
        define(v)
        if tuple(np.shape(c)) != v.spec.shape or np.dtype(c.dtype) != v.spec.dtype:
            raise TypeError(f"constant of spec {v.spec} is bound to {np.shape(c)} {c.dtype}")
    for v in program.invars:
        define(v)
    for eqn in program.eqns:
        for v in eqn.inputs:
            if v not in defined:
                raise TypeError(f"{eqn.primitive.name} uses an undefined variable {v}")
        specs = eqn.primitive.abstract_eval(*[v.spec for v in eqn.inputs], **eqn.params)
        specs = list(specs) if eqn.primitive.multiple_results else [specs]
        got = [v.spec for v in eqn.outputs]
        if specs != got:
            raise TypeError(f"{eqn.primitive.name}: rule gives {specs}, program records {got}")
        for v in eqn.outputs:
            define(v)
    for v, s in zip(program.outvars, program.out_specs):
        if v is not None and (v not in defined or v.spec != s):
            raise TypeError(f"output {v} is undefined or has the wrong spec")


def printable(text) -> str:
    """`text` on one line, with every character that is not printable (newlines, carriage
    returns, NULs, ...) escaped as repr would. Text the user controls (a source file's name, a
    primitive's) goes through this before it is printed in a program or pasted into a comment
    of generated source, where a line break would end the comment and run the rest as code."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _letters(n: int) -> str:
    s = ""
    while True:
        s = chr(ord("a") + n % 26) + s
        n = n // 26 - 1
        if n < 0:
            return s


def pretty(program: Program) -> str:
    """Print a program, one equation per line, JAX-style."""
    names: dict = {}

    def name(v):
        if v not in names:
            names[v] = _letters(len(names))
        return names[v]

    def decl(v):
        return f"{name(v)}:{v.spec!r}"

    def fmt_param(x):
        if isinstance(x, Program):
            return "{ " + pretty(x).replace("\n", "\n    ") + " }"
        return repr(x)

    consts = " ".join(decl(v) for v in program.constvars)
    ins = " ".join(decl(v) for v in program.invars)
    lines = [f"{{ lambda {consts} ; {ins} . let"]
    for e in program.eqns:
        outs = " ".join(decl(v) for v in e.outputs)
        ps = ", ".join(f"{k}={fmt_param(v)}" for k, v in e.params.items())
        ps = f"[{ps}]" if ps else ""
        args = " ".join(name(v) for v in e.inputs)
        src = f"    # {printable(e.source)}" if e.source else ""
        lines.append(f"    {outs} = {printable(e.primitive.name)}{ps} {args}{src}")
    outs = ", ".join("0" if v is None else name(v) for v in program.outvars)
    lines.append(f"  in ({outs}) }}")
    return "\n".join(lines)


def split_operands(seq, nc, ncar):
    """(consts, carry, rest) of a loop primitive's operands."""
    seq = list(seq)
    return seq[:nc], seq[nc:nc + ncar], seq[nc + ncar:]
