"""The `scan` primitive (the while primitive is in while_loop.py): a loop over the leading axis of its inputs, with a sub-program body.

`scan` runs as Python in eager code. With staged inputs (make_program, jit) it binds `scan_p`,
whose body (consts, carry, x) -> (carry, y) is staged once, so a loop of any length is one
equation (jit compiles the body once) instead of an unrolled copy per step.

Rules. JVP: a scan of the body's JVP, the carry's tangent nonzero from the first step where it
can be (a fixpoint). Linearization: the JVP body is partially evaluated (ir/partial_eval.py);
a scan of its known part runs now and stacks the residuals each step needs, and a scan of its
linear part (consts: tangents of the consts; carry: the carry's tangent; xs: the residuals and
the xs' tangents) is recorded. Transpose: that linear scan run backwards, the cotangents of
loop-invariant inputs accumulated in the carry. Batching: the batch axis goes second on xs and
ys, and every carry is batched.
"""

from __future__ import annotations

import numpy as np

from frechet._src import tree
from frechet._src.core import backend
from frechet._src.core import trace as _trace
from frechet._src.core.backend import neutral
from frechet._src.core.primitive import primitive
from frechet._src.core.registry import front_end
from frechet._src.core.spec import ArraySpec, spec_of
from frechet._src.interpreters.ad import JVPTracer, is_undefined, jvp_flat, pullback_linear
from frechet._src.interpreters.batching import batch_flat, with_batch_axis
from frechet._src.ir import codegen, scalar_loops
from frechet._src.ir.partial_eval import partial_eval
from frechet._src.ir.program import Program, evaluate, split_operands, zeros
from frechet._src.lax.branch import compiled, place, stage_closed


def _step_spec(s: ArraySpec) -> ArraySpec:
    return ArraySpec(s.shape[1:], s.dtype)


def _stacked(s: ArraySpec, n: int) -> ArraySpec:
    return ArraySpec((n, *s.shape), s.dtype)


def _impl(*args, body, num_consts, num_carry, length, reverse, like=None):
    consts, carry, xs = split_operands(args, num_consts, num_carry)
    run = compiled(body, like)
    rows = list(zip(*[list(x) for x in xs])) if xs else [()] * length   # one tuple per step
    steps = []
    for i in (range(length - 1, -1, -1) if reverse else range(length)):
        outs = run(*consts, *carry, *rows[i])
        carry = outs[:num_carry]
        steps.append(outs[num_carry:])
    if reverse:
        steps.reverse()
    y_specs = body.out_specs[num_carry:]
    if like is not None:
        return list(carry) + _stacked_on(like, steps, y_specs)
    ys = []
    for k, y in enumerate(y_specs):
        if not steps:
            ys.append(np.zeros((0, *y.shape), y.dtype))
        elif y.shape == ():     # scalars: one conversion of the whole column
            ys.append(np.array([s[k] for s in steps], dtype=y.dtype))
        else:
            ys.append(np.stack([s[k] for s in steps]).astype(y.dtype, copy=False))
    return [np.asarray(c) for c in carry] + ys


def _stacked_on(like, steps, y_specs):
    """The per-step outputs stacked as arrays of like's library, on its device."""
    xp, device = backend.like_namespace(like)
    if not steps:
        return [xp.zeros((0, *y.shape), dtype=backend.namespace_dtype(xp, y.dtype),
                         device=device) for y in y_specs]
    return [xp.stack([s[k] for s in steps]) for k in range(len(y_specs))]


def _abstract(*specs, body, num_consts, num_carry, length, reverse):
    consts, carry, xs = split_operands(specs, num_consts, num_carry)
    want = list(consts) + list(carry) + [_step_spec(x) for x in xs]
    if [v.spec for v in body.invars] != want:
        raise TypeError(f"scan body takes {[v.spec for v in body.invars]}, given {want}")
    if list(body.out_specs[:num_carry]) != list(carry):
        raise TypeError(f"scan body must return its carry unchanged in shape and dtype: "
                        f"{list(carry)} -> {list(body.out_specs[:num_carry])}")
    for x in xs:
        if x.shape[:1] != (length,):
            raise TypeError(f"scan over {length} steps given an input of shape {x.shape}")
    return list(carry) + [_stacked(y, length) for y in body.out_specs[num_carry:]]


scan_p = primitive("scan", _impl, _abstract, multiple_results=True)
# jit with numba compiles a scan over small values as one loop (ir/scalar_loops.py)
codegen.KERNEL[scan_p] = scalar_loops.compile_scan


# ---- JVP ------------------------------------------------------------------------------------------

def _jvp_body(body, nc, ncar, nz):
    """The body's JVP as a scan body: (consts, nonzero const tangents), (carry, nonzero carry
    tangents), (x, nonzero x tangents) -> (carry, carry tangents), (y, nonzero y tangents).
    Returns (program, which carry tangents come out nonzero, which y tangents do)."""
    specs = [v.spec for v in body.invars]
    c_s, k_s, x_s = split_operands(specs, nc, ncar)
    nz_c, nz_k, nz_x = split_operands(nz, nc, ncar)
    pattern = {}

    def f(*args):
        c, tc, k, tk, x, tx = _unflatten(args, [len(c_s), sum(nz_c), len(k_s), sum(nz_k),
                                                len(x_s), sum(nz_x)])
        ts = place(tc, nz_c) + place(tk, nz_k) + place(tx, nz_x)
        outs, touts = jvp_flat(lambda *a: evaluate(body, *a), c + k + x, ts)
        pattern["carry"] = [t is not None for t in touts[:ncar]]
        pattern["y"] = [t is not None for t in touts[ncar:]]
        tk_out = [zeros(s) if t is None else t
                  for t, s, z in zip(touts[:ncar], body.out_specs[:ncar], nz_k) if z]
        ty_out = [t for t in touts[ncar:] if t is not None]
        return outs[:ncar] + tk_out + outs[ncar:] + ty_out
    in_specs = (c_s + [s for s, z in zip(c_s, nz_c) if z] + k_s +
                [s for s, z in zip(k_s, nz_k) if z] + x_s + [s for s, z in zip(x_s, nz_x) if z])
    program, lifted = stage_closed(f, in_specs)
    assert not lifted
    return program, pattern["carry"], pattern["y"]


def _unflatten(seq, sizes):
    out, i = [], 0
    for n in sizes:
        out.append(list(seq[i:i + n]))
        i += n
    return out


def carry_fixpoint(body, nc, ncar, tangents):
    """Which carry tangents are nonzero at some step, and the JVP body for that pattern."""
    nz = [t is not None for t in tangents]
    while True:
        program, carry_nz, y_nz = _jvp_body(body, nc, ncar, nz)
        grown = [a or b for a, b in zip(nz[nc:nc + ncar], carry_nz)]
        if grown == nz[nc:nc + ncar]:
            return nz, program, y_nz
        nz[nc:nc + ncar] = grown


def tangent_operands(primals, tangents, nz, nc, ncar):
    """The nonzero tangents in scan-operand order, zeros where the carry's becomes nonzero."""
    tc, tk, tx = split_operands([t if t is not None or not z else zeros(spec_of(p))
                         for p, t, z in zip(primals, tangents, nz)], nc, ncar)
    fc, fk, fx = split_operands(nz, nc, ncar)
    return ([t for t, f in zip(tc, fc) if f], [t for t, f in zip(tk, fk) if f],
            [t for t, f in zip(tx, fx) if f])


def _scan_jvp(primals, tangents, *, body, num_consts, num_carry, length, reverse):
    nc, ncar = num_consts, num_carry
    nz, jb, y_nz = carry_fixpoint(body, nc, ncar, tangents)
    c, k, x = split_operands(primals, nc, ncar)
    tc, tk, tx = tangent_operands(primals, tangents, nz, nc, ncar)
    outs = scan_p.bind(*c, *tc, *k, *tk, *x, *tx, body=jb, num_consts=len(c) + len(tc),
                       num_carry=len(k) + len(tk), length=length, reverse=reverse)
    carry, tcarry = outs[:ncar], place(outs[ncar:ncar + len(tk)], nz[nc:nc + ncar])
    rest = outs[ncar + len(tk):]
    ny = len(body.out_specs) - ncar
    return carry + rest[:ny], tcarry + place(rest[ny:], y_nz)


scan_p.jvp = _scan_jvp


# ---- linearization ---------------------------------------------------------------------------------

def _scan_linearize(jt, primals, tangents, *, body, num_consts, num_carry, length, reverse):
    nc, ncar = num_consts, num_carry
    ny = len(body.out_specs) - ncar
    nz, jb, y_nz = carry_fixpoint(body, nc, ncar, tangents)
    c, k, x = split_operands(primals, nc, ncar)
    tc, tk, tx = tangent_operands(primals, tangents, nz, nc, ncar)
    # jb's inputs: c, tc, k, tk, x, tx; outputs: carry, tcarry, y, ty
    unknown_in = ([False] * len(c) + [True] * len(tc) + [False] * len(k) + [True] * len(tk) +
                  [False] * len(x) + [True] * len(tx))
    unknown_out = [False] * ncar + [True] * len(tk) + [False] * ny + [True] * sum(y_nz)
    known, lin, _ = partial_eval(jb, unknown_in, unknown_out)
    # residuals that are consts of the loop are the same every step: read, not stacked
    known, invariant = split_invariant(known, ncar + ny, c)
    # known: (c, k, x) -> (carry, y, residuals): a scan body whose residuals are extra ys
    with _trace.use(jt.parent):
        got = scan_p.bind(*c, *k, *x, body=known, num_consts=len(c), num_carry=ncar,
                          length=length, reverse=reverse)
    carry, ys, stacked = got[:ncar], got[ncar:ncar + ny], got[ncar + ny:]
    # lin: (residuals, tc, tk, tx) -> (tcarry, ty); as a scan body: consts (invariant
    # residuals, tc), carry tk, xs (stacked residuals, tx)
    inv = [r for r in invariant if r is not None]
    n_inv, n_res = len(inv), len(stacked)
    tc_s, tk_s, tx_s = ([spec_of(t) for t in tc], [spec_of(t) for t in tk],
                        [_step_spec(spec_of(t)) for t in tx])

    def linear_body(*args):
        a_inv, a_tc, a_tk, a_res, a_tx = _unflatten(args, [n_inv, len(tc), len(tk), n_res,
                                                           len(tx)])
        return evaluate(lin, *merge_invariant(invariant, a_inv, a_res), *a_tc, *a_tk, *a_tx)
    lb, lifted = stage_closed(linear_body, [spec_of(r) for r in inv] + tc_s + tk_s +
                              [_step_spec(spec_of(r)) for r in stacked] + tx_s)
    assert not lifted
    with _trace.use(jt.rule_trace):
        touts = scan_p.bind(*inv, *tc, *tk, *stacked, *tx, body=lb, num_consts=n_inv + len(tc),
                            num_carry=len(tk), length=length, reverse=reverse)
    tcarry = place(touts[:len(tk)], nz[nc:nc + ncar])
    tys = place(touts[len(tk):], y_nz)
    return [o if t is None else JVPTracer(jt, o, t)
            for o, t in zip(list(carry) + list(ys), tcarry + tys)]


scan_p.linearize = _scan_linearize


def split_invariant(known, n_outs, consts):
    """`known` (a loop body whose outputs past the first n_outs are residuals, whose first
    inputs are the loop's consts) without the residuals that are those consts. Returns it and,
    per residual, the const's value (None: stacked per step, still an output)."""
    pos = {v: i for i, v in enumerate(known.invars[:len(consts)])}
    res = known.outvars[n_outs:]
    invariant = [consts[pos[v]] if v in pos else None for v in res]
    keep = [v for v, r in zip(res, invariant) if r is None]
    body = Program(known.invars, known.constvars, known.consts, known.eqns,
                   list(known.outvars[:n_outs]) + keep,
                   list(known.out_specs[:n_outs]) + [v.spec for v in keep])
    return body, invariant


def merge_invariant(invariant, inv_values, stacked_values):
    """The residuals in order: invariant ones from inv_values, the others from stacked_values."""
    a, b = iter(inv_values), iter(stacked_values)
    return [next(a) if r is not None else next(b) for r in invariant]


# ---- transpose (of a scan linear in some consts, every carry and some xs) -------------------------

def _scan_transpose(cts, *args, body, num_consts, num_carry, length, reverse):
    nc, ncar = num_consts, num_carry
    c, k, x = split_operands(args, nc, ncar)
    # the carry is linear throughout; a known initial carry is a zero tangent made concrete
    # (its cotangent is dropped)
    lin_c = [is_undefined(a) for a in c]
    lin_x = [is_undefined(a) for a in x]
    known_c = [a for a in c if not is_undefined(a)]
    known_x = [a for a in x if not is_undefined(a)]
    c_vars, k_vars, _ = split_operands(body.invars, nc, ncar)
    n_lc = sum(lin_c)

    def body_t(*args):
        a_kc, a_acc, a_ck, a_kx, a_cy = _unflatten(
            args, [len(known_c), n_lc, ncar, len(known_x), len(body.out_specs) - ncar])
        got = pullback_linear(body, lin_c + [True] * ncar + lin_x, a_kc + a_kx, a_ck + a_cy)
        g_c, g_k, g_x = got[:n_lc], got[n_lc:n_lc + ncar], got[n_lc + ncar:]
        return [a + g for a, g in zip(a_acc, g_c)] + g_k + g_x
    lin_c_specs = [v.spec for v, f in zip(c_vars, lin_c) if f]
    y_specs = list(body.out_specs[ncar:])
    specs = ([spec_of(a) for a in known_c] + lin_c_specs + [v.spec for v in k_vars] +
             [_step_spec(spec_of(a)) for a in known_x] + y_specs)
    bt, lifted = stage_closed(body_t, specs)
    assert not lifted
    ct_k = [zeros(v.spec) if ct is None else ct for ct, v in zip(cts[:ncar], k_vars)]
    ct_y = [zeros(_stacked(s, length)) if ct is None else ct
            for ct, s in zip(cts[ncar:], y_specs)]
    outs = scan_p.bind(*known_c, *[zeros(s) for s in lin_c_specs], *ct_k, *known_x, *ct_y,
                       body=bt, num_consts=len(known_c), num_carry=n_lc + ncar, length=length,
                       reverse=not reverse)
    g_k = outs[n_lc:n_lc + ncar]
    return (place(outs[:n_lc], lin_c) + [g if is_undefined(a) else None for g, a in zip(g_k, k)]
            + place(outs[n_lc + ncar:], lin_x))


scan_p.transpose = _scan_transpose
scan_p.linear = True


# ---- batching ------------------------------------------------------------------------------------

def _scan_batch(args, batched, *, body, num_consts, num_carry, length, reverse):
    moveaxis = front_end().moveaxis
    nc, ncar = num_consts, num_carry
    n = next(a.shape[0] for a, b in zip(args, batched) if b)
    c, k, x = split_operands(args, nc, ncar)
    bc, _, bx = split_operands(batched, nc, ncar)
    k = [a if b else with_batch_axis(a, n) for a, b in zip(k, batched[nc:nc + ncar])]
    x = [moveaxis(a, 0, 1) if b else a for a, b in zip(x, bx)]     # steps first, then examples
    flags = list(bc) + [True] * ncar + list(bx)

    def bbody(*a):
        return batch_flat(lambda *v: evaluate(body, *v), list(a), flags, n)
    specs = ([spec_of(a) for a in c] + [spec_of(a) for a in k] +
             [_step_spec(spec_of(a)) for a in x])
    bb, lifted = stage_closed(bbody, specs)
    assert not lifted
    outs = scan_p.bind(*c, *k, *x, body=bb, num_consts=nc, num_carry=ncar, length=length,
                       reverse=reverse)
    return list(outs[:ncar]) + [moveaxis(y, 1, 0) for y in outs[ncar:]]


scan_p.batch = _scan_batch


# ---- the entry point used by scan ----------------------------------------------------------------

def staged_scan(f, init, xs, length, reverse):
    """scan via scan_p: the body staged once (closed-over values become consts)."""
    asarray = front_end().asarray
    k_leaves, k_tree = tree.flatten(init)
    x_leaves, x_tree = tree.flatten(xs) if xs is not None else ([], None)
    k_leaves = [asarray(a) for a in k_leaves]
    x_leaves = [asarray(a) for a in x_leaves]
    ncar = len(k_leaves)
    y_tree = []

    def flat(*a):
        carry = tree.unflatten(k_tree, list(a[:ncar]))
        x = tree.unflatten(x_tree, list(a[ncar:])) if xs is not None else None
        new, y = f(carry, x)
        nl, nt = tree.flatten(new)
        if nt != k_tree:
            raise TypeError(f"scan body must return a carry of the same structure: {k_tree} "
                            f"-> {nt}")
        yl, yt = tree.flatten(y)
        y_tree.append(yt)
        return [asarray(v) for v in nl] + [asarray(v) for v in yl]
    specs = [spec_of(a) for a in k_leaves] + [_step_spec(spec_of(a)) for a in x_leaves]
    body, lifted = stage_closed(flat, specs, closures_first=True)     # the consts first
    outs = scan_p.bind(*lifted, *k_leaves, *x_leaves, body=body, num_consts=len(lifted),
                       num_carry=ncar, length=length, reverse=reverse)
    return (tree.unflatten(k_tree, list(outs[:ncar])),
            tree.unflatten(y_tree[0], list(outs[ncar:])))

# Its impl evaluates programs by binding primitives: it runs on any array library.
neutral(scan_p, like=True)
