"""Program passes: dead-code elimination and common-subexpression elimination.

Every primitive is pure, so an equation whose outputs nobody reads can go, and two equations
with the same primitive, inputs and params compute the same values.
"""

from __future__ import annotations

from frechet._src.ir.program import Eqn, Program


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
