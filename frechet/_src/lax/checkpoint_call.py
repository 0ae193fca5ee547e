"""checkpoint in staged code: a call of a sub-program that reverse mode recomputes.

A checkpointed function staged into a program (the body of a scan or while loop, or
make_program) becomes one `checkpoint_call` equation holding the function's program, so the
checkpoint survives staging. Its rules keep it a checkpoint through the transformations of
that program:

- JVP: a checkpoint_call of the program's JVP (primals and tangents in, both out).
- Partial evaluation (how scan, while and cond linearize their bodies, ir/partial_eval.py): the
  known program gets the primal part, which returns the outputs (and what the policy saves);
  the unknown program gets the tangent part, which *recomputes* the primal values it reads
  from the call's inputs. So the residuals a loop stacks per step are the call's inputs, not
  every intermediate of the function.
- Linearization (the call evaluated under linearize): the same split, the primal part run now.
- Transpose (of the tangent part): the recomputation runs, then the backward pass through the
  fresh linear part; staged, the recomputation follows a barrier, so common-subexpression
  elimination cannot merge it back into the forward pass.
"""

from __future__ import annotations

from frechet._src.core import trace as _trace
from frechet._src.core.backend import neutral
from frechet._src.core.primitive import primitive
from frechet._src.core.spec import spec_of
from frechet._src.core.trace import Tracer
from frechet._src.interpreters.ad import JVPTracer, is_undefined, jvp_flat, pullback_linear
from frechet._src.interpreters.batching import batch_flat
from frechet._src.interpreters.staging import StagingTrace
from frechet._src.ir.partial_eval import RULES, partial_eval
from frechet._src.ir.passes import dce
from frechet._src.ir.program import Eqn, Program, Var, evaluate
from frechet._src.lax.branch import compiled, place, stage_closed
from frechet._src.lax.checkpoint import _Token, remat_barrier_p


def _impl(*args, program, policy, like=None):
    return list(compiled(program, like)(*args))


def _abstract(*specs, program, policy):
    if list(program.in_specs) != list(specs):
        raise TypeError(f"checkpoint_call of a program taking {list(program.in_specs)}, "
                        f"given {list(specs)}")
    return list(program.out_specs)


checkpoint_call_p = primitive("checkpoint_call", _impl, _abstract, multiple_results=True)


def stage_call(fun, policy, args):
    """fun(*args) staged as one checkpoint_call equation (values fun closes over become extra
    operands)."""
    program, lifted = stage_closed(fun, [spec_of(a) for a in args])
    return checkpoint_call_p.bind(*args, *lifted, program=program, policy=policy)


# ---- forward mode ------------------------------------------------------------------------------

def _jvp_program(program, nz):
    """(primals, nonzero tangents) -> (outputs, nonzero output tangents), and which output
    tangents are nonzero."""
    specs = list(program.in_specs)
    n = len(specs)
    pattern = []

    def f(*a):
        outs, touts = jvp_flat(lambda *x: evaluate(program, *x), list(a[:n]), place(a[n:], nz))
        pattern.append([t is not None for t in touts])
        return list(outs) + [t for t in touts if t is not None]
    jp, lifted = stage_closed(f, specs + [s for s, z in zip(specs, nz) if z])
    assert not lifted
    return jp, pattern[0]


def _jvp(primals, tangents, *, program, policy):
    nz = [t is not None for t in tangents]
    jp, out_nz = _jvp_program(program, nz)
    outs = checkpoint_call_p.bind(*primals, *[t for t in tangents if t is not None], program=jp,
                                  policy=policy)
    n = len(program.out_specs)
    return outs[:n], place(outs[n:], out_nz)


# ---- the split: primal part now, tangent part recomputing it ---------------------------------------

def _split(program, unknown, policy):
    """Split `program` (unknown: flags over its inputs) for rematerialisation.

    Returns (known, unknown program, which outputs are unknown, saved specs): `known` maps the
    known inputs to the outputs that do not depend on unknown ones, then the values the policy
    saves; the unknown program maps (known inputs, saved values, unknown inputs) to the other
    outputs, recomputing every other primal value it needs."""
    dirty = {v for v, u in zip(program.invars, unknown) if u}
    candidates = []
    for e in program.eqns:
        if any(v in dirty for v in e.inputs):
            dirty.update(e.outputs)
        elif len(e.outputs) == 1 and policy(e.primitive, e.params):
            candidates.append(e.outputs[0])
    out_unknown = [v is not None and v in dirty for v in program.outvars]
    known_in = [v for v, u in zip(program.invars, unknown) if not u]
    unknown_in = [v for v, u in zip(program.invars, unknown) if u]
    # saved: the policy's values that the tangent part (with its recomputation) reads
    outs = [v for v, u in zip(program.outvars, out_unknown) if u]
    kept = set(candidates)
    read = {v for e in dce(Program(known_in + candidates + unknown_in, program.constvars,
                                   program.consts, [e for e in program.eqns
                                                    if not kept.intersection(e.outputs)],
                                   outs, [v.spec for v in outs])).eqns for v in e.inputs}
    saved = [v for v in candidates if v in read or v in outs]
    known = dce(Program(known_in, program.constvars, program.consts, program.eqns,
                        [v for v, u in zip(program.outvars, out_unknown) if not u] + saved,
                        [s for s, u in zip(program.out_specs, out_unknown) if not u] +
                        [v.spec for v in saved]))
    kept = set(saved)
    eqns = [e for e in program.eqns if not kept.intersection(e.outputs)]
    rest = dce(Program(known_in + saved + unknown_in, program.constvars, program.consts, eqns,
                       [v for v, u in zip(program.outvars, out_unknown) if u],
                       [s for s, u in zip(program.out_specs, out_unknown) if u]))
    return known, rest, out_unknown, [v.spec for v in saved]


def _partial_eval_rule(eqn, unknown):
    program, policy = eqn.params["program"], eqn.params["policy"]
    known, rest, out_unknown, saved_specs = _split(program, unknown, policy)
    known_in = [v for v, u in zip(eqn.inputs, unknown) if not u]
    saved = [Var(s) for s in saved_specs]
    known_outs = [v for v, u in zip(eqn.outputs, out_unknown) if not u] + saved
    known_eqn = Eqn(checkpoint_call_p, tuple(known_in), tuple(known_outs),
                    {"program": known, "policy": policy}, eqn.source) if known_outs else None
    unknown_eqn = Eqn(checkpoint_call_p,
                      tuple(known_in + saved + [v for v, u in zip(eqn.inputs, unknown) if u]),
                      tuple(v for v, u in zip(eqn.outputs, out_unknown) if u),
                      {"program": rest, "policy": policy}, eqn.source)
    return known_eqn, unknown_eqn


RULES[checkpoint_call_p] = _partial_eval_rule


def _linearize(jt, primals, tangents, *, program, policy):
    nz = [t is not None for t in tangents]
    jp, out_nz = _jvp_program(program, nz)
    n, nt = len(primals), sum(nz)
    known, rest, _, saved_specs = _split(jp, [False] * n + [True] * nt, policy)
    with _trace.use(jt.parent):
        got = checkpoint_call_p.bind(*primals, program=known, policy=policy)
    outs, saved = got[:len(got) - len(saved_specs)], got[len(got) - len(saved_specs):]
    with _trace.use(jt.rule_trace):
        touts = checkpoint_call_p.bind(*primals, *saved, *[t for t in tangents if t is not None],
                                       program=rest, policy=policy)
    return [o if t is None else JVPTracer(jt, o, t) for o, t in zip(outs, place(touts, out_nz))]


# ---- transpose of the tangent part ---------------------------------------------------------------

def _transpose(cts, *args, program, policy):
    linear = [is_undefined(a) for a in args]
    fixed = [a for a in args if not is_undefined(a)]
    if isinstance(_trace.current(), StagingTrace):     # staged (jit): keep it recomputed
        token = _Token()
        fixed = [remat_barrier_p.bind(a, token=token) if isinstance(a, Tracer) else a
                 for a in fixed]
    known, lin, res_specs = partial_eval(program, linear, [True] * len(program.outvars))
    residuals = evaluate(known, *fixed)               # the recomputation
    got = pullback_linear(lin, [False] * len(res_specs) + [True] * sum(linear), residuals,
                          list(cts))
    return place(got, linear)


checkpoint_call_p.jvp = _jvp
checkpoint_call_p.linearize = _linearize
checkpoint_call_p.transpose = _transpose
checkpoint_call_p.batch = lambda args, batched, *, program, policy: batch_flat(
    lambda *a: evaluate(program, *a), args, batched)

# Its impl evaluates programs by binding primitives: it runs on any array library.
neutral(checkpoint_call_p, like=True)
