"""checkpoint: rematerialisation, with policies that say which intermediate values to keep.

Linearizing a function keeps residuals (the primal values its linear program reads) until the
backward pass. Under linearization a checkpointed function instead runs its primal only and
records one linear `remat` equation holding its inputs (and whatever the policy saves). The
equation's transpose linearizes the function again at those inputs (the recomputation) and
pulls the cotangent back through that fresh linear program, so one block's residuals are alive
at a time. Applied forwards (`jvp` of the linear map) it is forward mode at the saved point.
Forward mode and vmap simply run the function; staged into a program (a scan or while body,
make_program) it becomes a checkpoint_call equation that reverse mode through the program
recomputes (checkpoint_call.py). Under jit the recomputation is staged after a barrier, so
common-subexpression elimination does not merge it back into the forward pass.

Policies (`policy(primitive, params) -> bool`: keep this equation's outputs) need the function
staged into a program, so with a policy other than the default the function must not branch
in Python on the values it differentiates. A kept value is not recomputed: the recomputation
uses it and only differentiates the equation that produced it (which must have a rule for its
tangent given its output: contractions).
"""

from __future__ import annotations

import functools
import warnings

from frechet._src import tree
from frechet._src.core import trace as _trace
from frechet._src.core.backend import is_foreign, neutral
from frechet._src.core.primitive import Held, primitive
from frechet._src.core.registry import front_end
from frechet._src.core.spec import spec_of
from frechet._src.core.trace import Trace, Tracer
from frechet._src.interpreters.ad import (
    JVPTrace,
    JVPTracer,
    backward_pass,
    jvp_flat,
    linearize_flat,
)
from frechet._src.interpreters.batching import batch_flat, with_batch_axis
from frechet._src.interpreters.staging import StagingTrace, stage
from frechet._src.ir.program import zeros
from frechet._src.prims.contractions import einsum_p, einsum_tangent

# ---- policies ----------------------------------------------------------------------------------

def everything_saveable(prim, params) -> bool:
    """Keep every residual: no rematerialisation."""
    return True


def nothing_saveable(prim, params) -> bool:
    """Keep only the inputs; recompute everything else (the default)."""
    return False


def dots_saveable(prim, params) -> bool:
    """Keep the results of contractions (matmul, einsum, dot, ...); recompute the rest."""
    return prim is einsum_p


# Tangents of an equation given its (kept) output, without recomputing it.
TANGENT_GIVEN_OUTPUT = {einsum_p: einsum_tangent}


# ---- the linear equation ----------------------------------------------------------------------

def _linear_in(fun, res, which):
    """fun as a function of the inputs flagged in `which` only, the others fixed at res."""
    def f(*xs):
        it = iter(xs)
        return fun(*[next(it) if w else r for r, w in zip(res, which)])
    return f


def _remat_apply(*args, fun, which, out_specs):
    """J(res) @ tangents: forward mode at the saved point."""
    res, ts = args[:len(which)], args[len(which):]
    _, touts = jvp_flat(_linear_in(fun.value, res, which), [r for r, w in zip(res, which) if w],
                        list(ts))
    return [zeros(s) if t is None else t for t, s in zip(touts, out_specs)]


class _Token:
    """A fresh object per barrier: equal only to itself, so CSE never merges two barriers."""

    __slots__ = ()

    def __repr__(self):
        return "<token>"


# Identity on a value being staged: what follows it is computed from a new variable, so CSE
# cannot merge a recomputation back into the forward pass it repeats (which would keep the
# forward pass's residuals alive and undo the checkpoint).
remat_barrier_p = primitive("remat_barrier", lambda x, *, token: x,
                            lambda x, *, token: x)
remat_barrier_p.jvp = lambda primals, tangents, *, token: (
    remat_barrier_p.bind(primals[0], token=token), tangents[0])
remat_barrier_p.batch = lambda args, batched, *, token: args[0]


def _remat_transpose(cts, *args, fun, which, out_specs):
    res = args[:len(which)]
    if isinstance(_trace.current(), StagingTrace):     # staged (jit): keep it recomputed
        token = _Token()
        res = [remat_barrier_p.bind(r, token=token) if isinstance(r, Tracer) else r
               for r in res]
    # the recomputation: linearize the block again at the saved point
    _, program = linearize_flat(_linear_in(fun.value, res, which),
                                [r for r, w in zip(res, which) if w])
    return [None] * len(which) + backward_pass(program, list(cts), once=True)


def _remat_jvp(primals, tangents, **params):
    # Linear in the tangent inputs, nonlinear in the saved point: differentiate the forward
    # application itself.
    return jvp_flat(functools.partial(_remat_apply, **params), primals, tangents)


remat_p = primitive("remat", _remat_apply,
                    lambda *specs, fun, which, out_specs: list(out_specs), multiple_results=True)
remat_p.jvp = _remat_jvp
remat_p.transpose = _remat_transpose
remat_p.linear = True
remat_p.batch = lambda args, batched, **params: batch_flat(
    functools.partial(_remat_apply, **params), args, batched)


# A kept value inside the recomputation: its primal is the kept array, its tangent that of the
# equation that produced it (TANGENT_GIVEN_OUTPUT), computed from the recomputed inputs.
def _kept_impl(value, *inputs, eqn_prim, params):
    return value


kept_p = primitive("checkpoint_kept", _kept_impl,
                   lambda value, *inputs, eqn_prim, params: value)


def _kept_jvp(primals, tangents, *, eqn_prim, params):
    tangent = TANGENT_GIVEN_OUTPUT[eqn_prim](list(primals[1:]), list(tangents[1:]), **params)
    return primals[0], tangent


def _kept_batch(args, batched, *, eqn_prim, params):
    if batched[0]:
        return args[0]
    return with_batch_axis(args[0], next(a.shape[0] for a, b in zip(args, batched) if b))


kept_p.jvp = _kept_jvp
kept_p.batch = _kept_batch


# ---- running a checkpointed function under each trace -----------------------------------------

def _default_process(self, fun, policy, args):
    with _trace.use(self):
        return fun(*args)


_CLOSURE_WARNING = ("checkpoint: the function uses a differentiated value it does not receive "
                    "as an argument (a closure), so it is not rematerialised; pass that value as "
                    "an argument")


def _closes_over(fun, trace, depth=4) -> bool:
    """Whether a value of `trace` is reachable from fun's closure cells (through functions,
    lists, tuples and dicts): the function must then run where that trace sees it."""
    seen = []

    def reach(x, d):
        if isinstance(x, Tracer):
            return x._trace is trace
        if d == 0 or any(x is y for y in seen):
            return False
        seen.append(x)
        if isinstance(x, (list, tuple)):
            return any(reach(e, d - 1) for e in x)
        if isinstance(x, dict):
            return any(reach(e, d - 1) for e in x.values())
        cells = getattr(x, "__closure__", None) or ()
        inner = getattr(x, "__wrapped__", None) or getattr(x, "__func__", None)
        return any(reach(c.cell_contents, d - 1) for c in cells if _filled(c)) or \
            (inner is not None and reach(inner, d - 1))
    return reach(fun, depth)


def _filled(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018  (an empty cell raises)
    except ValueError:
        return False
    return True


def _jvp_process(self, fun, policy, args):
    primals, tangents, found = self._unpack(args)
    if not found and not _closes_over(fun, self):
        return self.parent.process_checkpoint(fun, policy, primals)
    if not found:                   # only a closure is differentiated: nothing to rematerialise
        warnings.warn(_CLOSURE_WARNING, stacklevel=4)
        with _trace.use(self):
            return fun(*args)
    if self.rule_trace is self.parent or policy is everything_saveable:
        with _trace.use(self):      # forward mode keeps nothing: there is nothing to save
            return fun(*args)
    if policy is nothing_saveable and not any(map(is_foreign, primals)):
        recompute, saved = fun, []
        with _trace.use(self):      # the primal only: plain inputs, so no tangent is recorded
            outs = fun(*primals)
    else:       # staged: also the path of another library's arrays, which NumPy code on them
        #         as they are would copy to the host
        recompute, outs, saved = _staged(fun, policy, primals, self)
    if any(isinstance(o, JVPTracer) and o._trace is self for o in outs):
        warnings.warn(_CLOSURE_WARNING, stacklevel=4)
        with _trace.use(self):
            return fun(*args)
    # linear in the inputs with nonzero tangents; kept values are not inputs of the block
    which = tuple(t is not None for t in tangents) + (False,) * len(saved)
    with _trace.use(self.rule_trace):
        touts = remat_p.bind(*primals, *saved, *[t for t in tangents if t is not None],
                             fun=Held(recompute), which=which,
                             out_specs=tuple(spec_of(o) for o in outs))
    return [JVPTracer(self, o, t) for o, t in zip(outs, touts)]


def _staged(fun, policy, primals, jt):
    """Stage fun, run its program keeping what the policy selects; return the recomputation
    (a function of inputs and kept values), the outputs and the kept values."""
    st, ins, outs = stage(fun, [spec_of(p) for p in primals])
    program = st.build(ins, outs)
    keep = [e for e in program.eqns if policy(e.primitive, e.params)]
    for e in keep:
        if e.primitive not in TANGENT_GIVEN_OUTPUT:
            raise NotImplementedError(
                f"checkpoint policy keeps the output of '{e.primitive.name}', whose tangent "
                "cannot be formed from its output; policies may keep contractions")
    kept_ids = {id(e) for e in keep}
    n = len(primals)

    def run(*args, kept=None):
        env = dict(zip(program.constvars, program.consts))
        env.update(zip(program.invars, args[:n]))
        values = iter(args[n:]) if kept is None else None
        saved = []
        for e in program.eqns:
            ins_ = [env[v] for v in e.inputs]
            if id(e) in kept_ids and values is not None:     # the recomputation: use the kept
                out = kept_p.bind(next(values), *ins_, eqn_prim=e.primitive, params=e.params)
            else:
                out = e.primitive.bind(*ins_, **e.params)
                if id(e) in kept_ids:
                    saved.append(out)
            if e.primitive.multiple_results:
                env.update(zip(e.outputs, out))
            else:
                env[e.outputs[0]] = out
        result = [zeros(s) if v is None else env[v]
                  for v, s in zip(program.outvars, program.out_specs)]
        if kept is not None:
            kept.extend(saved)
        return result

    saved: list = []
    with _trace.use(jt):
        outs = run(*primals, kept=saved)
    return run, outs, saved


def _staging_process(self, fun, policy, args):
    """Staged into a program (a loop body, make_program): one checkpoint_call equation, which
    reverse mode through the program recomputes (checkpoint_call.py). jit's own tracing and
    linearization's partial evaluator run the function as it is."""
    if self.forward_known or type(self) is not StagingTrace or policy is everything_saveable:
        return _default_process(self, fun, policy, args)
    return stage_call(fun, policy, args)


Trace.process_checkpoint = _default_process
JVPTrace.process_checkpoint = _jvp_process
StagingTrace.process_checkpoint = _staging_process


def checkpoint(fun, policy=None):
    """fun, rematerialised in reverse mode: its residuals are recomputed in the backward pass
    instead of being kept from the forward pass (memory for time).

    Args:
      policy: which values to keep, `policy(primitive, params) -> bool`; default
        `nothing_saveable` (keep the inputs only). Others: `everything_saveable`,
        `dots_saveable` (frechet.checkpoint_policies).

    Example:
      >>> block = checkpoint(lambda x, w: np.tanh(x @ w))
      >>> grad(lambda w: block(block(x, w), w).sum())(w)
    """
    policy = nothing_saveable if policy is None else policy

    @functools.wraps(fun)
    def wrapped(*args):
        leaves, treedef = tree.flatten(args)
        leaves = [x if hasattr(x, "shape") else front_end().asarray(x) for x in leaves]
        out_tree = []

        def flat(*xs):
            ol, ot = tree.flatten(fun(*tree.unflatten(treedef, list(xs))))
            out_tree.append(ot)
            return [x if hasattr(x, "shape") else front_end().asarray(x) for x in ol]

        outs = _trace.current().process_checkpoint(flat, policy, leaves)
        return tree.unflatten(out_tree[-1], list(outs))
    return wrapped


remat = checkpoint


# At the end: checkpoint_call imports this module. It registers its primitive and its
# partial-evaluation rule.
from frechet._src.lax.checkpoint_call import stage_call

# Its impl evaluates programs by binding primitives: it runs on any array library.
neutral(remat_barrier_p)

# Its impl evaluates programs by binding primitives: it runs on any array library.
neutral(remat_p)

# Its impl evaluates programs by binding primitives: it runs on any array library.
neutral(kept_p)
