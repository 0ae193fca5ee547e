"""Partial evaluation of a program: split it into the part computable from known inputs and the
part that needs the unknown ones.

`partial_eval(program, unknown)` marks every variable that depends on an unknown input. Known
equations go to the *known* program, which takes the known inputs and returns the known
outputs plus the *residuals*: known values that unknown equations read. Unknown equations go to
the *unknown* program, which takes the residuals and the unknown inputs and returns every
output the caller asks for (known outputs among them are passed through as residuals). This is
how a control-flow primitive is linearized: its JVP program, split with primals known and
tangents unknown, runs its primal now and records a linear program of its tangents.
"""

from __future__ import annotations

from frechet._src.ir.program import Program, Var

# Primitives that split themselves (checkpoint: its primal part runs in the known program, and
# the unknown program recomputes it from the inputs instead of reading it as residuals):
# rule(eqn, which inputs are unknown) -> (known equation or None, unknown equation).
RULES: dict = {}


def partial_eval(program: Program, unknown, unknown_outputs=None):
    """Split `program`; `unknown` flags its inputs. The unknown program returns the outputs
    flagged in `unknown_outputs` (default: those that depend on unknown inputs).

    Returns (known, unknown_program, residual_specs): `known` maps the known inputs to
    (known outputs not returned by the unknown program, residuals); `unknown_program` maps
    (residuals, unknown inputs) to the selected outputs.
    """
    dirty = {v for v, u in zip(program.invars, unknown) if u}
    known_eqns, unknown_eqns = [], []
    for eqn in program.eqns:
        flags = [v in dirty for v in eqn.inputs]
        if not any(flags):
            known_eqns.append(eqn)
            continue
        rule = RULES.get(eqn.primitive)
        if rule is not None and not all(flags):
            known_eqn, eqn = rule(eqn, flags)
            if known_eqn is not None:
                known_eqns.append(known_eqn)
        unknown_eqns.append(eqn)
        dirty.update(eqn.outputs)
    out_unknown = [v is not None and v in dirty for v in program.outvars]
    if unknown_outputs is None:
        unknown_outputs = out_unknown
    elif any(o and not w for o, w in zip(out_unknown, unknown_outputs)):
        raise ValueError("an output that depends on unknown inputs was asked for as known")

    # residuals: known values (computed, inputs or constants) that the unknown side reads
    consts = dict(zip(program.constvars, program.consts))
    residuals: list[Var] = []
    seen = set()

    def need(v):
        if v is not None and v not in dirty and v not in seen and v not in consts:
            seen.add(v)
            residuals.append(v)

    for eqn in unknown_eqns:
        for v in eqn.inputs:
            need(v)
    for v, w in zip(program.outvars, unknown_outputs):
        if w:
            need(v)

    used_consts = {v for e in unknown_eqns for v in e.inputs if v in consts}
    used_consts |= {v for v, w in zip(program.outvars, unknown_outputs) if w and v in consts}
    known_in = [v for v, u in zip(program.invars, unknown) if not u]
    known_outs = [v for v, w in zip(program.outvars, unknown_outputs) if not w]
    known_specs = [s for s, w in zip(program.out_specs, unknown_outputs) if not w]
    known = Program(known_in, program.constvars, program.consts, known_eqns,
                    known_outs + residuals, known_specs + [r.spec for r in residuals])
    unknown_in = [v for v, u in zip(program.invars, unknown) if u]
    kc = [v for v in program.constvars if v in used_consts]
    unknown_program = Program(
        residuals + unknown_in, kc, [consts[v] for v in kc], unknown_eqns,
        [v for v, w in zip(program.outvars, unknown_outputs) if w],
        [s for s, w in zip(program.out_specs, unknown_outputs) if w])
    return known, unknown_program, [r.spec for r in residuals]
