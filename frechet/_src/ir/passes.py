"""Program passes: constant folding, dead-code elimination, common-subexpression elimination.

Every primitive is pure, so an equation whose inputs are all constants can run once, at
compile time; an equation whose outputs nobody reads can go; and two equations with the same
primitive, inputs and params compute the same values.
"""

from __future__ import annotations

import math

import numpy as np

from frechet._src.ir.program import Eqn, Program

# Outputs (elements, all outputs of an equation together) up to which folding keeps the
# result as a constant: bigger ones would hold memory for the program's lifetime.
FOLD_LIMIT = 1 << 16


def fold_constants(program: Program, limit: int | None = None) -> tuple[Program, dict]:
    """Evaluate equations whose inputs are all constants now; their outputs become constants.
    (Tracing already computed everything that reads no traced value; what is left to fold is
    what transformations produce, such as a transposed program's scalings of constants.)"""
    limit = FOLD_LIMIT if limit is None else limit
    consts = dict(zip(program.constvars, program.consts))
    eqns = []
    for eqn in program.eqns:
        if (all(v in consts for v in eqn.inputs)
                and sum(math.prod(v.spec.shape) for v in eqn.outputs) <= limit):
            try:
                with np.errstate(all="ignore"):    # tracing reported them when it ran
                    outs = eqn.primitive.impl(*[consts[v] for v in eqn.inputs], **eqn.params)
            except Exception:               # noqa: BLE001  (left to fail, or not, at run time)
                outs = None
            if outs is not None:
                outs = outs if eqn.primitive.multiple_results else [outs]
                for v, value in zip(eqn.outputs, outs):
                    consts[v] = np.asarray(value, v.spec.dtype)
                continue
        eqns.append(eqn)
    if len(eqns) == len(program.eqns):
        return program, {}
    return Program(program.invars, list(consts), list(consts.values()), eqns, program.outvars,
                   program.out_specs), {}


def dce(program: Program, keep=()) -> Program:
    """Drop equations whose outputs reach neither an output nor a var in `keep`."""
    live = {v for v in program.outvars if v is not None} | set(keep)
    eqns = []
    for eqn in reversed(program.eqns):
        if any(v in live for v in eqn.outputs):
            eqns.append(eqn)
            live.update(eqn.inputs)
    eqns.reverse()
    used = [(v, c) for v, c in zip(program.constvars, program.consts) if v in live]
    return Program(program.invars, [v for v, _ in used], [c for _, c in used], eqns,
                   program.outvars, program.out_specs)


def _key(eqn):
    try:
        params = tuple(sorted(eqn.params.items()))
        hash(params)
    except TypeError:
        return None
    return (eqn.primitive, eqn.inputs, params)


def cse(program: Program) -> tuple[Program, dict]:
    """Reuse the outputs of an earlier identical equation. Returns the program and the map
    from dropped vars to the vars that replace them."""
    seen: dict = {}
    rename: dict = {}
    eqns = []
    for eqn in program.eqns:
        ins = tuple(rename.get(v, v) for v in eqn.inputs)
        eqn = Eqn(eqn.primitive, ins, eqn.outputs, eqn.params, eqn.source) \
            if ins != eqn.inputs else eqn
        k = _key(eqn)
        if k is not None and k in seen:
            for old, new in zip(eqn.outputs, seen[k].outputs):
                rename[old] = new
            continue
        if k is not None:
            seen[k] = eqn
        eqns.append(eqn)
    outvars = [rename.get(v, v) if v is not None else None for v in program.outvars]
    return Program(program.invars, program.constvars, program.consts, eqns, outvars,
                   program.out_specs), rename
