"""Tapes: the residuals of a loop whose trip count is known only at run time.

Reverse mode through a while loop needs each iteration's residuals, and their number is the
trip count. `while_tape_p` runs the primal loop (the known part of the linearized body) and
pushes each iteration's residuals onto a `Tape`: one buffer per residual, stacked along a
leading axis that doubles when full, so a loop of n iterations makes O(log n) buffers and holds
the same memory as scan's stacked residuals. `tape_loop_p` is the linear part: a loop over the
tape's rows, carrying the tangents (forwards) or, transposed, the cotangents (backwards), with
the cotangents of loop-invariant linear inputs accumulated in the carry as scan's transpose
does. A tape is one opaque value of a program (spec: a 0-d object array), made and read only by
these two primitives.
"""

from __future__ import annotations

import numpy as np

from frechet._src.core import backend
from frechet._src.core.backend import neutral
from frechet._src.core.primitive import primitive
from frechet._src.core.spec import ArraySpec, spec_of
from frechet._src.errors import NonDifferentiableError
from frechet._src.interpreters.ad import is_undefined, pullback_linear
from frechet._src.ir.program import split_operands, zeros
from frechet._src.lax.branch import compiled, place, stage_closed

TAPE_SPEC = ArraySpec((), np.dtype(object))


class Tape:
    """Per-iteration residuals, one growing stack per residual spec."""

    __slots__ = ("length", "like", "specs", "stacks")
    shape = ()                      # a tape is a program value of spec TAPE_SPEC
    dtype = np.dtype(object)

    def __init__(self, specs, like=None):
        self.specs = tuple(specs)
        self.like = like            # None: NumPy buffers; else an array of their library
        self.stacks = [_empty(like, (8, *s.shape), s.dtype) for s in self.specs]
        self.length = 0

    def push(self, row) -> None:
        n = self.length
        if self.stacks and n == len(self.stacks[0]):
            self.stacks = [_grown(b) for b in self.stacks]
        for b, r in zip(self.stacks, row):
            b[n] = r
        self.length = n + 1

    def row(self, i: int) -> list:
        return [b[i] for b in self.stacks]

    def __repr__(self):
        return f"<tape of {self.length} rows>"


def _empty(like, shape, dtype):
    """An uninitialised buffer: NumPy's, or (like an array of another library) that library's
    on like's device, so that a loop on its arrays keeps its residuals there."""
    if like is None:
        return np.empty(shape, dtype)
    xp, device = backend.like_namespace(like)
    return xp.empty(shape, dtype=backend.namespace_dtype(xp, dtype), device=device)


def _grown(buffer):
    like = None if type(buffer) is np.ndarray else buffer
    out = _empty(like, (2 * len(buffer), *buffer.shape[1:]), backend.dtype_of(buffer))
    out[:len(buffer)] = buffer
    return out


def _unwrap(tape) -> Tape:
    # constant folding may have stored the tape as a 0-d object array
    return tape[()] if isinstance(tape, np.ndarray) else tape


# ---- the primal loop, recording residuals ------------------------------------------------------

def _while_tape_impl(*args, cond, body, num_cond_consts, num_body_consts, like=None):
    """cond (cond consts, carry) -> bool; body (body consts, carry) -> (carry, residuals)."""
    cc = args[:num_cond_consts]
    bc = args[num_cond_consts:num_cond_consts + num_body_consts]
    carry = list(args[num_cond_consts + num_body_consts:])
    nk = len(carry)
    test, step = compiled(cond, like), compiled(body, like)
    tape = Tape(body.out_specs[nk:], like)
    while bool(test(*cc, *carry)[0]):
        outs = step(*bc, *carry)
        carry = outs[:nk]
        tape.push(outs[nk:])
    return ([np.asarray(c) for c in carry] if like is None else list(carry)) + [tape]


def _while_tape_abstract(*specs, cond, body, num_cond_consts, num_body_consts):
    carry = list(specs[num_cond_consts + num_body_consts:])
    if list(body.out_specs[:len(carry)]) != carry:
        raise TypeError(f"while_tape body must return its carry unchanged: {carry} -> "
                        f"{list(body.out_specs[:len(carry)])}")
    return carry + [TAPE_SPEC]


while_tape_p = primitive("while_tape", _while_tape_impl, _while_tape_abstract,
                         multiple_results=True)


def _again(what):
    def rule(*args, **params):
        raise NonDifferentiableError(
            f"{what} a while_loop's reverse pass as a staged program (make_program(grad(f)) "
            "then differentiated or vmapped) is not supported; apply the outer transformation "
            "to grad(f) itself, e.g. jit(jvp(grad(f), ...)) or jit(vmap(grad(f)))")
    return rule


while_tape_p.jvp = _again("differentiating")
while_tape_p.batch = _again("vmapping")


# ---- the linear loop over a tape -----------------------------------------------------------------

def _tape_loop_impl(*args, body, num_known, num_linear, reverse, like=None):
    """body (known consts, linear consts, carry, row) -> carry, once per row of the tape."""
    nc = num_known + num_linear
    consts, carry, tape = args[:nc], list(args[nc:-1]), _unwrap(args[-1])
    if like is None and tape.like is not None:
        # another library's residuals with NumPy operands (zero cotangents made by a rule):
        # the operands become constants of the residuals' library, as backend.call makes them
        like = tape.like
        xp, _ = backend.like_namespace(like)
        consts, carry = (backend.promote([like, *a], xp)[1:] for a in (consts, carry))
    run = compiled(body, like)
    for i in (range(tape.length - 1, -1, -1) if reverse else range(tape.length)):
        carry = run(*consts, *carry, *tape.row(i))
    return [np.asarray(c) for c in carry] if like is None else list(carry)


def _tape_loop_abstract(*specs, body, num_known, num_linear, reverse):
    nc = num_known + num_linear
    carry = list(specs[nc:-1])
    if specs[-1] != TAPE_SPEC:
        raise TypeError(f"tape_loop reads a tape, given {specs[-1]}")
    if list(body.out_specs) != carry:
        raise TypeError(f"tape_loop body must return its carry unchanged: {carry} -> "
                        f"{list(body.out_specs)}")
    return carry


tape_loop_p = primitive("tape_loop", _tape_loop_impl, _tape_loop_abstract,
                        multiple_results=True)
tape_loop_p.linear = True      # in its linear consts and its carry (known consts, tape fixed)


def _tape_loop_jvp(primals, tangents, *, body, num_known, num_linear, reverse):
    if any(t is not None for t in tangents[:num_known]) or tangents[-1] is not None:
        _again("differentiating")()
    outs = tape_loop_p.bind(*primals, body=body, num_known=num_known, num_linear=num_linear,
                            reverse=reverse)
    ts = [zeros(spec_of(p)) if t is None else t
          for p, t in zip(primals[num_known:-1], tangents[num_known:-1])]
    touts = tape_loop_p.bind(*primals[:num_known], *ts, primals[-1], body=body,
                             num_known=num_known, num_linear=num_linear, reverse=reverse)
    return outs, touts


def _tape_loop_transpose(cts, *args, body, num_known, num_linear, reverse):
    """The loop run the other way over the tape, carrying the cotangents of the carry and
    accumulating those of the linear consts."""
    kc, lc, k = split_operands(args[:-1], num_known, num_linear)
    tape = args[-1]
    lin_c = [is_undefined(a) for a in lc]
    fixed = list(kc) + [a for a in lc if not is_undefined(a)]     # known: fixed values
    n_fix, n_acc, nk = len(fixed), sum(lin_c), len(k)
    body_vars = body.invars
    row_specs = [v.spec for v in body_vars[num_known + num_linear + nk:]]
    flags = [False] * num_known + lin_c + [True] * nk + [False] * len(row_specs)

    n_row = len(row_specs)

    def body_t(*a):
        a_fix, a_acc = a[:n_fix], a[n_fix:n_fix + n_acc]
        a_ct, row = a[n_fix + n_acc:len(a) - n_row], a[len(a) - n_row:]
        got = pullback_linear(body, flags, list(a_fix) + list(row), list(a_ct))
        return [x + g for x, g in zip(a_acc, got[:n_acc])] + got[n_acc:]
    lin_specs = [v.spec for v, f in zip(body_vars[num_known:num_known + num_linear], lin_c) if f]
    specs = ([spec_of(a) for a in fixed] + lin_specs + [v.spec for v in
             body_vars[num_known + num_linear:num_known + num_linear + nk]] + row_specs)
    bt, lifted = stage_closed(body_t, specs)
    assert not lifted
    ct_k = [zeros(v.spec) if ct is None else ct
            for ct, v in zip(cts, body_vars[num_known + num_linear:])]
    outs = tape_loop_p.bind(*fixed, *[zeros(s) for s in lin_specs], *ct_k, tape, body=bt,
                            num_known=n_fix, num_linear=0, reverse=not reverse)
    return ([None] * num_known + place(outs[:n_acc], lin_c)
            + [g if is_undefined(a) else None for g, a in zip(outs[n_acc:], k)] + [None])


tape_loop_p.jvp = _tape_loop_jvp
tape_loop_p.transpose = _tape_loop_transpose
tape_loop_p.batch = _again("vmapping")

# Both evaluate programs by binding primitives; on another library's arrays the tape's buffers
# are that library's arrays on the carry's device.
neutral(while_tape_p, like=True)
neutral(tape_loop_p, like=True)
