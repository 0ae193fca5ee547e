"""The `while` primitive: repeat a sub-program body while a sub-program condition holds.

while_p(cond_consts, body_consts, init; cond, body): cond (cond_consts, carry) -> bool scalar,
body (body_consts, carry) -> carry. `while_loop` binds it when its carry is staged (make_program,
jit). Forward mode and batching are rules on the sub-programs (the JVP reuses scan's
carry-tangent fixpoint, loop.py). Linearization splits the JVP body into its primal part and
its linear part (ir/partial_eval.py): the primal loop runs and records each iteration's
residuals on a tape, whose length is the trip count found at run time, and a linear loop over
the tape (forwards; backwards when transposed) is recorded (tape.py). So jit(grad(f)) of a
while loop compiles two loops, as for scan, with no guard on the trip count.
"""

from __future__ import annotations

import numpy as np

from frechet._src import tree
from frechet._src.core import trace as _trace
from frechet._src.core.backend import neutral
from frechet._src.core.primitive import primitive
from frechet._src.core.registry import front_end
from frechet._src.core.spec import spec_of
from frechet._src.core.trace import concrete
from frechet._src.interpreters.ad import JVPTracer
from frechet._src.interpreters.batching import batch_flat, select_examples, with_batch_axis
from frechet._src.interpreters.staging import StagingTrace
from frechet._src.ir.partial_eval import partial_eval
from frechet._src.ir.program import evaluate
from frechet._src.lax.branch import compiled, place, stage_closed
from frechet._src.lax.loop import (
    carry_fixpoint,
    merge_invariant,
    split_invariant,
    split_operands,
    tangent_operands,
)
from frechet._src.lax.tape import tape_loop_p, while_tape_p


def _while_impl(*args, cond, body, num_cond_consts, num_body_consts, like=None):
    cc = args[:num_cond_consts]
    bc = args[num_cond_consts:num_cond_consts + num_body_consts]
    carry = list(args[num_cond_consts + num_body_consts:])
    test, step = compiled(cond, like), compiled(body, like)
    while bool(test(*cc, *carry)[0]):
        carry = list(step(*bc, *carry))
    return [np.asarray(c) for c in carry] if like is None else carry


def _while_abstract(*specs, cond, body, num_cond_consts, num_body_consts):
    carry = list(specs[num_cond_consts + num_body_consts:])
    (pred,) = cond.out_specs
    if pred.shape != () or np.dtype(pred.dtype).kind != "b":
        raise TypeError(f"while_loop's condition must return a boolean scalar, got {pred}")
    if list(body.out_specs) != carry:
        raise TypeError(f"while_loop's body must return its carry unchanged in shape and "
                        f"dtype: {carry} -> {list(body.out_specs)}")
    return carry


while_p = primitive("while", _while_impl, _while_abstract, multiple_results=True)


def _while_jvp(primals, tangents, *, cond, body, num_cond_consts, num_body_consts):
    ncc, nbc = num_cond_consts, num_body_consts
    cc, bc, k = split_operands(primals, ncc, nbc)
    _, tbc, tk = split_operands(tangents, ncc, nbc)
    # the body as a scan body without xs or ys: its JVP, with the carry-tangent fixpoint
    nz, jb, _ = carry_fixpoint(body, nbc, len(k), list(tbc) + list(tk))
    tc, tkk, _ = tangent_operands(bc + k, list(tbc) + list(tk), nz, nbc, len(k))
    n_tc, n_tk = len(tc), len(tkk)
    # the condition reads the primal carry only: it ignores the tangents jb carries along
    specs = [v.spec for v in cond.invars] + [spec_of(t) for t in tkk]

    def test(*a):
        return evaluate(cond, *a[:ncc + len(k)])
    cond2 = stage_closed(test, specs)[0]
    # jb takes (bc, tc, k, tk); while_p passes (cond consts, body consts, carry) with the body
    # consts (bc, tc) and the carry (k, tk)
    outs = while_p.bind(*cc, *bc, *tc, *k, *tkk, cond=cond2, body=jb, num_cond_consts=ncc,
                        num_body_consts=nbc + n_tc)
    carry = outs[:len(k)]
    return carry, place(outs[len(k):len(k) + n_tk], nz[nbc:])


def _while_linearize(jt, primals, tangents, *, cond, body, num_cond_consts, num_body_consts):
    """Reverse mode through a loop whose trip count is known only at run time. Staged (jit,
    make_program): one equation runs the loop, stacking each iteration's residuals on a tape,
    and one linear equation runs the linearized body over the tape (tape.py), so jit
    compiles a loop, not one copy of the body per iteration. Under another transformation
    (jvp or vmap of grad), the loop runs now, each iteration's body linearized, as eager
    code does."""
    if not isinstance(jt.parent, StagingTrace):
        return _while_unrolled(jt, primals, tangents, cond, num_cond_consts, num_body_consts,
                               body)
    ncc, nbc = num_cond_consts, num_body_consts
    cc, bc, k = split_operands(primals, ncc, nbc)
    _, tbc, tk = split_operands(tangents, ncc, nbc)
    nz, jb, _ = carry_fixpoint(body, nbc, len(k), list(tbc) + list(tk))
    tc, tkk, _ = tangent_operands(bc + k, list(tbc) + list(tk), nz, nbc, len(k))
    # jb: (bc, tc, k, tk) -> (k, tk); known: (bc, k) -> (k, residuals);
    # lin: (residuals, tc, tk) -> tk
    known, lin, res_specs = partial_eval(
        jb, [False] * nbc + [True] * len(tc) + [False] * len(k) + [True] * len(tkk),
        [False] * len(k) + [True] * len(tkk))
    # residuals that are consts of the loop are the same every iteration: not on the tape
    known, invariant = split_invariant(known, len(k), bc)
    with _trace.use(jt.parent):
        outs = while_tape_p.bind(*cc, *bc, *k, cond=cond, body=known, num_cond_consts=ncc,
                                 num_body_consts=nbc)
    carry, tape = outs[:-1], outs[-1]
    inv = [r for r in invariant if r is not None]
    n_inv, n_lin = len(inv), len(tc) + len(tkk)
    row_specs = [s for s, r in zip(res_specs, invariant) if r is None]

    def linear_body(*args):   # a tape loop body: (invariant residuals, tc, tk, one tape row)
        res = merge_invariant(invariant, args[:n_inv], args[n_inv + n_lin:])
        return evaluate(lin, *res, *args[n_inv:n_inv + n_lin])
    lb, lifted = stage_closed(linear_body, [spec_of(r) for r in inv] +
                              [spec_of(t) for t in tc] + [spec_of(t) for t in tkk] + row_specs)
    assert not lifted
    with _trace.use(jt.rule_trace):
        touts = tape_loop_p.bind(*inv, *tc, *tkk, tape, body=lb, num_known=n_inv,
                                 num_linear=len(tc), reverse=False)
    tcarry = place(touts, nz[nbc:])
    return [o if t is None else JVPTracer(jt, o, t) for o, t in zip(carry, tcarry)]


def _while_unrolled(jt, primals, tangents, cond, ncc, nbc, body):
    """The loop run now, each iteration's body linearized (its trip count must be concrete)."""
    args = [a if t is None else JVPTracer(jt, a, t) for a, t in zip(primals, tangents)]
    cc, bc, carry = split_operands(args, ncc, nbc)
    with _trace.use(jt):
        while True:
            (pred,) = evaluate(cond, *cc, *carry)
            if not bool(concrete(pred, "reverse mode through a staged while_loop",
                                 "call grad outside make_program, or use jit, which traces "
                                 "on concrete values")):
                return carry
            carry = evaluate(body, *bc, *carry)


def _while_batch(args, batched, *, cond, body, num_cond_consts, num_body_consts):
    any_ = front_end().any
    ncc, nbc = num_cond_consts, num_body_consts
    n = next(a.shape[0] for a, b in zip(args, batched) if b)
    cc, bc, k = split_operands(args, ncc, nbc)
    fcc, fbc, _ = split_operands(batched, ncc, nbc)
    k = [a if b else with_batch_axis(a, n) for a, b in
         zip(k, batched[ncc + nbc:])]      # every carry batched
    nk = len(k)

    def per_example_pred(ccs, ks):
        return batch_flat(lambda *v: evaluate(cond, *v), list(ccs) + list(ks),
                          list(fcc) + [True] * nk, n)[0]

    def test(*a):        # some example continues
        return [any_(per_example_pred(a[:ncc], a[ncc:]))]

    def step(*a):        # examples that continue step; the others keep their carry
        ccs, bcs, ks = a[:ncc], a[ncc:ncc + nbc], a[ncc + nbc:]
        go = per_example_pred(ccs, ks)
        new = batch_flat(lambda *v: evaluate(body, *v), list(bcs) + list(ks),
                         list(fbc) + [True] * nk, n)
        return [select_examples(go, x, o) for x, o in zip(new, ks)]
    c_specs = [spec_of(a) for a in cc]
    k_specs = [spec_of(a) for a in k]
    cond_b = stage_closed(test, c_specs + k_specs)[0]
    # the batched body also needs the condition's consts: they join the body's consts
    body_b = stage_closed(step, c_specs + [spec_of(a) for a in bc] + k_specs)[0]
    return while_p.bind(*cc, *cc, *bc, *k, cond=cond_b, body=body_b, num_cond_consts=ncc,
                        num_body_consts=ncc + nbc)


while_p.jvp = _while_jvp
while_p.linearize = _while_linearize
while_p.batch = _while_batch


def staged_while(cond_fun, body_fun, init_val):
    """while_loop via while_p: condition and body staged once."""
    asarray = front_end().asarray
    leaves, treedef = tree.flatten(init_val)
    leaves = [asarray(a) for a in leaves]
    specs = [spec_of(a) for a in leaves]

    def flat_cond(*a):
        return [asarray(cond_fun(tree.unflatten(treedef, list(a))))]

    def flat_body(*a):
        out, ot = tree.flatten(body_fun(tree.unflatten(treedef, list(a))))
        if ot != treedef:
            raise TypeError(f"while_loop body must return a carry of the same structure: "
                            f"{treedef} -> {ot}")
        return [asarray(o) for o in out]
    cp, c_lifted = stage_closed(flat_cond, specs, closures_first=True)
    bp, b_lifted = stage_closed(flat_body, specs, closures_first=True)
    outs = while_p.bind(*c_lifted, *b_lifted, *leaves, cond=cp, body=bp,
                        num_cond_consts=len(c_lifted),
                        num_body_consts=len(b_lifted))
    return tree.unflatten(treedef, list(outs))

# Its impl evaluates programs by binding primitives: it runs on any array library.
neutral(while_p, like=True)
