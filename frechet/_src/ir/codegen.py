"""Emit a Program as straight-line Python that calls each primitive's impl (NumPy) directly.

The generated function takes the program's inputs, checks recorded guards right after the
value each one tests is computed (raising GuardFailed when a Python branch taken while tracing
would now go the other way), and returns the outputs. No tracing machinery runs on replay.
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from frechet._src.core import backend
from frechet._src.ir import buffers, fusion
from frechet._src.ir.program import Program, printable


class GuardFailed(Exception):
    """A value the traced Python code branched on differs: the program must be traced again."""


def _guard_ok(value, expected) -> bool:
    value = value if type(value) is np.ndarray else backend.to_host(value)
    return value.shape == expected.shape and bool(np.array_equal(value, expected))


# Primitive -> inline(eqn, k, names, scalar_names, env): eqn as a Python expression where one
# says the same as the impl more cheaply, or None. Static params go into env as i{k}. The
# module defining a primitive registers its form with the helpers below.
INLINE: dict = {}
# Primitive -> compile(eqn): a compiled function for the whole equation (a scan over small
# values as one loop), or None; used only when fusing (numba available).
KERNEL: dict = {}


def operator(form: str):
    """Arithmetic written as a Python operator (`"{} + {}"`): on arrays an operator is the same
    ufunc call, and on NumPy scalars (what indexing and 0-d results are) it takes NumPy's
    scalar fast path, several times cheaper than a ufunc call. Same values, same warnings.
    0-d constants enter as NumPy scalars."""
    def inline(eqn, k, names, scalar_names, env):
        return form.format(*[scalar_names.get(v) or names[v] for v in eqn.inputs])
    return inline


def method(name: str, param: str):
    """x.name(params[param]), for a primitive whose impl is that method (reshape)."""
    if not name.isidentifier():
        raise ValueError(f"pass a method name such as 'reshape', got {name!r}")

    def inline(eqn, k, names, scalar_names, env):
        env[f"i{k}"] = eqn.params[param]
        return f"{names[eqn.inputs[0]]}.{name}(i{k})"
    return inline


def static_index(build, add: bool):
    """x[index] (add=False) or x with v added at index (add=True), for a static index, which
    `build(params["index"], ())` turns into a NumPy index; None with array indices."""
    def inline(eqn, k, names, scalar_names, env):
        ins = eqn.inputs
        if len(ins) != (2 if add else 1):
            return None
        env[f"i{k}"] = build(eqn.params["index"], ())
        if not add:
            return f"{names[ins[0]]}[i{k}]"
        env["_index_add"] = _index_add
        return f"_index_add({names[ins[0]]}, {names[ins[1]]}, i{k})"
    return inline


def _inline(eqn, k, names, scalar_names, env):
    form = INLINE.get(eqn.primitive)
    return None if form is None else form(eqn, k, names, scalar_names, env)


def _index_add(x, v, index):
    out = np.array(x)
    out[index] += v
    return out


def _comment(eqn) -> str:
    # The only text of the program pasted into the source: escaped onto one line, so that a
    # file or primitive name holding a line break cannot end the comment (see printable).
    text = eqn.primitive.name + (f"  ({eqn.source})" if eqn.source else "")
    return f"  # {printable(text)}"


def emit(program: Program, guards=(), fuse=False, like=None):
    """Compile `program` (guards: (var, expected value) pairs) into a Python function of the
    program's inputs; with `fuse`, runs of elementwise equations on large arrays become
    compiled loops (fusion.py) when numba is installed. Returns (function, source).

    With `like`, an input of another library (core/backend.py), every equation calls that
    library's function and the constants are made that library's arrays on like's device (no
    operator forms, fusion or NumPy buffers: those are NumPy's)."""
    xp = None if like is None else backend.namespace([like])
    if xp is not None:
        program = Program(program.invars, program.constvars,
                          [backend.promote([like, c], xp)[1] for c in program.consts],
                          program.eqns, program.outvars, program.out_specs)
        fuse = False
    names: dict = {}

    def name(v, prefix="v"):
        if v not in names:
            names[v] = f"{prefix}{len(names)}"
        return names[v]

    env = {"_GuardFailed": GuardFailed, "_guard_ok": _guard_ok}
    scalar_names = {}       # 0-d constants also bound as NumPy scalars, for operator lines
    for k, c in enumerate(program.consts):
        names[program.constvars[k]] = f"c{k}"
        env[f"c{k}"] = c
        if type(c) is np.ndarray and c.ndim == 0 and xp is None:
            env[f"s{k}"] = c[()]
            scalar_names[program.constvars[k]] = f"s{k}"
    args = [name(v, "a") for v in program.invars]
    checks: dict = {}
    for k, (v, value) in enumerate(guards):
        env[f"g{k}"] = np.asarray(value)
        checks.setdefault(v, []).append(f"g{k}")
    lines = [f"def run({', '.join(args)}):"]

    def emit_checks(v):
        for g in checks.pop(v, ()):
            lines.append(f"    if not _guard_ok({names[v]}, {g}): raise _GuardFailed()")

    for v in program.invars:
        emit_checks(v)
    items = program.eqns
    if fuse and fusion.available():
        items = fusion.plan(program, keep=[v for v, _ in guards])
    slots, slot_specs = buffers.plan(program, items) if xp is None else ({}, [])
    if slot_specs:
        # each thread has its own buffers, made on its first call
        local = threading.local()
        env["_tl"] = local
        env["_alloc"] = lambda: [np.empty(shape, dtype) for shape, dtype in slot_specs]
        lines += ["    try:", "        _b = _tl.b", "    except AttributeError:",
                  "        _b = _tl.b = _alloc()",
                  f"    {', '.join(f'b{j}' for j in range(len(slot_specs)))}, = _b"]
    for k, eqn in enumerate(items):
        if isinstance(eqn, fusion.Fused):
            env[f"f{k}"] = eqn.call
            ins = ", ".join(names[v] for v in eqn.inputs)
            outs = ", ".join(name(v) for v in eqn.outputs)
            ops = printable(" ".join(e.primitive.name for e in eqn.eqns))
            lines.append(f"    [{outs}] = f{k}({ins})  # fused: {ops}")
            for v in eqn.outputs:
                emit_checks(v)
            continue
        expr = None if k in slots or xp is not None else _inline(eqn, k, names, scalar_names,
                                                                   env)
        if expr is not None:
            lines.append(f"    {name(eqn.outputs[0])} = {expr}{_comment(eqn)}")
            emit_checks(eqn.outputs[0])
            continue
        comment = _comment(eqn)
        if k in slots:
            fn = buffers.out_ufunc(eqn)
            ins = ", ".join([names[v] for v in eqn.inputs] + [f"out=b{slots[k]}"])
        else:
            ins = ", ".join(names[v] for v in eqn.inputs)
            fn = None
            kernel = KERNEL.get(eqn.primitive) if fuse else None
            if kernel is not None and fusion.available():
                fn = kernel(eqn)
                if fn is not None:
                    comment = comment.replace(f"# {eqn.primitive.name}",
                                              f"# {eqn.primitive.name}: one compiled loop", 1)
            if fn is None:
                impl = eqn.primitive.impl if xp is None else backend.implementation(
                    eqn.primitive, xp)
                fn = impl if not eqn.params else functools.partial(impl, **eqn.params)
        env[f"f{k}"] = fn
        outs = [name(v) for v in eqn.outputs]
        lhs = outs[0] if not eqn.primitive.multiple_results else "[" + ", ".join(outs) + "]"
        lines.append(f"    {lhs} = f{k}({ins}){comment}")
        for v in eqn.outputs:
            emit_checks(v)
    for v in list(checks):          # guards on constants: checked once, at the start
        lines.insert(1, f"    if not _guard_ok({names[v]}, {checks.pop(v)[0]}): "
                        "raise _GuardFailed()")
    outs = []
    constvars = set(program.constvars)
    for k, (v, s) in enumerate(zip(program.outvars, program.out_specs)):
        if v is None:
            env[f"z{k}"] = np.zeros(s.shape, s.dtype) if xp is None else xp.zeros(
                s.shape, dtype=backend.namespace_dtype(xp, s.dtype), device=backend.device_of(like))
            outs.append(f"z{k}")
        elif v in constvars:        # a fresh array each call, as the function makes one
            if xp is None:
                outs.append(f"{names[v]}.copy()")
            else:                   # another library's arrays have no .copy()
                env["_copy"] = lambda a: xp.asarray(a, copy=True)
                outs.append(f"_copy({names[v]})")
        else:
            outs.append(names[v])
    lines.append(f"    return ({', '.join(outs)}{',' if len(outs) == 1 else ''})")
    source = "\n".join(lines)
    exec(compile(source, "<frechet.jit>", "exec"), env)  # noqa: S102  (generated from the IR)
    return env["run"], source
