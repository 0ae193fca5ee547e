"""The `cond` primitive: a branch chosen at run time among sub-programs.

`cond` and `switch` decide in Python when their predicate is concrete (eager code, whose
tracing is execution). When it is staged (make_program, jit) they bind `cond_p`, whose params
hold one closed Program per branch (values a branch closes over become extra operands), so
the choice is made each time the program runs: jit compiles both branches once instead of
guarding and re-tracing, and make_program shows the branch.

Rules. JVP: cond of the branches' JVP programs. Linearization: each JVP branch is partially
evaluated (primals known, tangents unknown, ir/partial_eval.py); a cond of the known parts runs
now and returns the primal outputs and the residuals (each branch fills its own residual slots,
zeros elsewhere), and a cond of the unknown parts, linear in the tangents, is recorded.
Transpose: cond of the branches' transposed programs. Batching: with an unbatched index, cond
of the batched branches; with a batched one, every branch runs and each example selects.
"""

from __future__ import annotations

import functools

import numpy as np

from frechet._src import tree
from frechet._src.core import backend
from frechet._src.core import trace as _trace
from frechet._src.core.backend import neutral
from frechet._src.core.primitive import primitive
from frechet._src.core.registry import front_end
from frechet._src.core.spec import spec_of
from frechet._src.core.trace import Tracer
from frechet._src.interpreters.ad import JVPTracer, is_undefined, jvp_flat, pullback_linear
from frechet._src.interpreters.batching import (
    BatchTracer,
    batch_flat,
    select_examples,
    with_batch_axis,
)
from frechet._src.interpreters.jet import PrimalTracer
from frechet._src.interpreters.staging import StagedTracer, stage
from frechet._src.ir.codegen import emit
from frechet._src.ir.partial_eval import partial_eval
from frechet._src.ir.program import Program, Var, evaluate, zeros
from frechet._src.ir.simplify import simplify
from frechet._src.prims.shape import convert


def stage_closed(fun, in_specs, closures_first=False):
    """Stage fun on in_specs into a Program; constants that are tracers (closed-over values of
    enclosing transformations) become inputs, after fun's own (or before them, with
    `closures_first`). Returns (program, those tracers)."""
    st, ins, outs = stage(fun, in_specs)
    program = st.build(ins, list(outs))
    keep, lifted = [], []
    for v, c in zip(program.constvars, program.consts):
        (lifted if isinstance(c, Tracer) else keep).append((v, c))
    own, extra = list(program.invars), [v for v, _ in lifted]
    return Program(extra + own if closures_first else own + extra, [v for v, _ in keep],
                   [c for _, c in keep], program.eqns, program.outvars,
                   program.out_specs), [c for _, c in lifted]


def place(values, flags):
    """values spread over the positions flagged in `flags`, None elsewhere."""
    it = iter(values)
    return [next(it) if f else None for f in flags]


# ---- running a branch (compiled once per program) -----------------------------------------------

def compiled(program: Program, like=None):
    """The sub-program simplified as jit simplifies programs, then compiled to Python; with
    `like` (an array of another library), compiled to call that library's functions on like's
    device (backend.neutral)."""
    if like is None:
        return _compiled(program)
    return _compiled_on(program, *backend.like_namespace(like))


@functools.lru_cache(maxsize=1024)
def _compiled(program: Program):
    run, _ = emit(simplify(program)[0])
    return run


@functools.lru_cache(maxsize=256)
def _compiled_on(program: Program, xp, device):
    run, _ = emit(simplify(program)[0], like=xp.empty((0,), device=device))
    return run


def _impl(index, *ops, branches, like=None):
    index = np.asarray(index) if like is None else backend.to_host(index)
    i = int(np.clip(int(index), 0, len(branches) - 1))
    return list(compiled(branches[i], like)(*ops))


def _abstract(index, *ops, branches):
    if index.shape != () or np.dtype(index.dtype).kind not in "iub":
        raise TypeError(f"cond index must be an integer scalar, got {index}")
    for b in branches:
        if [v.spec for v in b.invars] != list(ops):
            raise TypeError("cond branches must take the operands' specs")
        if list(b.out_specs) != list(branches[0].out_specs):
            raise TypeError("cond branches must return values of the same specs: "
                            f"{[list(x.out_specs) for x in branches]}")
    return list(branches[0].out_specs)


cond_p = primitive("cond", _impl, _abstract, multiple_results=True)


# ---- JVP ------------------------------------------------------------------------------------------

def _jvp_branch(branch: Program, nonzero):
    """The program (operands, nonzero tangents) -> (outputs, output tangents)."""
    n = len(branch.invars)
    specs = [v.spec for v in branch.invars]

    def f(*args):
        ts = place(args[n:], nonzero)
        outs, touts = jvp_flat(lambda *xs: evaluate(branch, *xs), list(args[:n]), ts)
        return list(outs) + [zeros(s) if t is None else t for t, s in zip(touts, branch.out_specs)]
    program, lifted = stage_closed(f, specs + [s for s, z in zip(specs, nonzero) if z])
    assert not lifted, "a closed branch's JVP closes over nothing"
    return program


def _cond_jvp(primals, tangents, *, branches):
    index, ops = primals[0], primals[1:]
    nonzero = tuple(t is not None for t in tangents[1:])
    if not any(nonzero):
        return cond_p.bind(index, *ops, branches=branches), [None] * len(branches[0].out_specs)
    jvps = tuple(_jvp_branch(b, nonzero) for b in branches)
    outs = cond_p.bind(index, *ops, *[t for t in tangents[1:] if t is not None], branches=jvps)
    n = len(branches[0].out_specs)
    return outs[:n], outs[n:]


cond_p.jvp = _cond_jvp


# ---- linearization: known cond now, linear cond recorded ------------------------------------------

def _cond_linearize(jt, primals, tangents, *, branches):
    index, ops = primals[0], list(primals[1:])
    nonzero = tuple(t is not None for t in tangents[1:])
    n_out = len(branches[0].out_specs)
    if not any(nonzero):
        with _trace.use(jt.parent):
            return cond_p.bind(index, *ops, branches=branches)
    splits = []
    for b in branches:
        p = _jvp_branch(b, nonzero)
        known, unknown, res = partial_eval(
            p, [False] * len(ops) + [True] * sum(nonzero), [False] * n_out + [True] * n_out)
        splits.append((known, unknown, res))
    slots = [r for _, _, res in splits for r in res]      # every branch's residuals, in turn
    op_specs = [spec_of(o) for o in ops]
    ts = [t for t in tangents[1:] if t is not None]
    t_specs = [spec_of(t) for t in ts]
    known_branches, unknown_branches, start = [], [], 0
    for known, unknown, res in splits:
        lo, hi = start, start + len(res)
        start = hi

        def k(*xs, known=known, lo=lo, hi=hi):
            got = evaluate(known, *xs)
            own = got[n_out:]
            return got[:n_out] + [own[i - lo] if lo <= i < hi else zeros(s)
                                  for i, s in enumerate(slots)]
        known_branches.append(stage_closed(k, op_specs)[0])

        def u(*xs, unknown=unknown, lo=lo, hi=hi):
            return evaluate(unknown, *xs[lo:hi], *xs[len(slots):])
        unknown_branches.append(stage_closed(u, slots + t_specs)[0])
    with _trace.use(jt.parent):
        got = cond_p.bind(index, *ops, branches=tuple(known_branches))
    outs, residuals = got[:n_out], got[n_out:]
    with _trace.use(jt.rule_trace):
        touts = cond_p.bind(index, *residuals, *ts, branches=tuple(unknown_branches))
    return [JVPTracer(jt, o, t) for o, t in zip(outs, touts)]


cond_p.linearize = _cond_linearize


# ---- transpose ------------------------------------------------------------------------------------

def _transposed_branch(branch: Program, linear, known_specs):
    """(known inputs, output cotangents) -> cotangents of the linear inputs."""
    n_known = len(known_specs)

    def f(*args):
        return pullback_linear(branch, linear, args[:n_known], list(args[n_known:]))
    return stage_closed(f, list(known_specs) + list(branch.out_specs))[0]


def _cond_transpose(cts, index, *args, branches):
    linear = tuple(is_undefined(a) for a in args)
    known = [a for a in args if not is_undefined(a)]
    known_specs = [spec_of(a) for a in known]
    cts = [zeros(s) if c is None else c for c, s in zip(cts, branches[0].out_specs)]
    transposed = tuple(_transposed_branch(b, linear, known_specs) for b in branches)
    return [None] + place(cond_p.bind(index, *known, *cts, branches=transposed), linear)


cond_p.transpose = _cond_transpose
cond_p.linear = True      # in the operands its linearization marks undefined


# ---- batching -------------------------------------------------------------------------------------

def _cond_batch(args, batched, *, branches):
    clip = front_end().clip
    equal = front_end().equal
    index, ops = args[0], list(args[1:])
    n = next(a.shape[0] for a, b in zip(args, batched) if b)
    if not batched[0]:
        specs = [spec_of(o) for o in ops]
        bb = tuple(stage_closed(lambda *xs, b=b: batch_flat(
            lambda *ys: evaluate(b, *ys), list(xs), list(batched[1:]), n), specs)[0]
            for b in branches)
        return cond_p.bind(index, *ops, branches=bb)
    outs = [batch_flat(lambda *ys, b=b: evaluate(b, *ys), ops, list(batched[1:]), n)
            if any(batched[1:]) else [with_batch_axis(o, n) for o in evaluate(b, *ops)]
            for b in branches]
    idx = clip(index, 0, len(branches) - 1)
    result = outs[-1]
    for k in range(len(outs) - 2, -1, -1):
        pick = equal(idx, k)
        result = [select_examples(pick, a, r) for a, r in zip(outs[k], result)]
    return result


cond_p.batch = _cond_batch


# ---- the entry point used by cond and switch ------------------------------------------------------

def is_staged(x) -> bool:
    """Whether x's value is staged (make_program or jit), under any JVP, batch or Taylor-mode
    tracers."""
    while True:
        if isinstance(x, (JVPTracer, PrimalTracer)):
            x = x.primal
        elif type(x) is BatchTracer:
            x = x.val
        else:
            return isinstance(x, StagedTracer)


def staged_switch(index, branches, operands):
    """cond_p over Python functions of the operands (pytrees in and out)."""
    asarray = front_end().asarray
    leaves, in_tree = tree.flatten(tuple(operands))
    leaves = [asarray(x) for x in leaves]
    specs = [spec_of(x) for x in leaves]
    out_trees, programs, closures = [], [], []
    for fun in branches:
        def flat(*xs, fun=fun):
            ol, ot = tree.flatten(fun(*tree.unflatten(in_tree, list(xs))))
            out_trees.append(ot)
            return [asarray(o) for o in ol]
        p, lifted = stage_closed(flat, specs)
        programs.append(p)
        closures.append(lifted)
    if any(t != out_trees[0] for t in out_trees):
        raise TypeError(f"cond branches return different structures: {out_trees}")
    # every branch takes every closed-over value (by identity), in one order
    extra, seen = [], {}
    for lifted in closures:
        for c in lifted:
            if id(c) not in seen:
                seen[id(c)] = len(extra)
                extra.append(c)
    n = len(leaves)
    aligned = []
    for p, lifted in zip(programs, closures):
        own = {id(c): v for c, v in zip(lifted, p.invars[n:])}
        ins = list(p.invars[:n]) + [own.get(id(c)) or Var(spec_of(c)) for c in extra]
        aligned.append(Program(ins, p.constvars, p.consts, p.eqns, p.outvars, p.out_specs))
    index = asarray(index)
    if np.dtype(index.dtype).kind == "b":
        index = convert(index, np.dtype(np.int32))
    outs = cond_p.bind(index, *leaves, *extra, branches=tuple(aligned))
    return tree.unflatten(out_trees[0], list(outs))

# Its impl evaluates programs by binding primitives: it runs on any array library.
neutral(cond_p, like=True)
