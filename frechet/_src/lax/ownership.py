"""Who owns the arrays a transformation keeps and returns.

NumPy arrays are mutable, so two rules keep derivatives right after the caller writes in place:
- a derivative kept for later (vjp's pullback, linearize's LinearMap) holds its residuals as
  they were when it was made: residuals the caller can still reach are copied;
- every array a transformation returns is writeable and shares memory with nothing else the
  caller holds (another returned array, an input, a residual kept for later).
"""

from __future__ import annotations

import sys

import numpy as np

from frechet._src.ir.program import Program


def _root(a: np.ndarray) -> np.ndarray:
    """The array that owns a's memory (a itself unless a is a view)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _refs(seq, i) -> int:
    return sys.getrefcount(seq[i])


# The count _refs gives for an array that only `seq` holds (interpreters count differently).
_ALONE = _refs((np.empty(0),), 0)


def private_residuals(program: Program) -> Program:
    """`program` with the constants that someone else can still reach copied.

    A residual made while linearizing is referenced by the program alone; one the caller
    can reach (an input, a closed-over array, an output, or a view of any of these) is a view
    or has more references (CPython's reference count tells)."""
    for eqn in program.eqns:        # residuals kept inside an equation (a tape's segment)
        held = eqn.params.get("tape")
        if held is not None:
            held.private()
    consts = program.consts
    reach = [i for i in range(len(consts)) if type(consts[i]) is np.ndarray
             and (consts[i].base is not None or _refs(consts, i) > _ALONE)]
    if not reach:
        return program
    consts = list(consts)
    for i in reach:
        consts[i] = consts[i].copy()
    return Program(program.invars, program.constvars, consts, program.eqns, program.outvars,
                   program.out_specs)


def roots(arrays) -> dict:
    """The arrays among `arrays`, grouped by the array owning their memory (by its id)."""
    out: dict[int, list] = {}
    for a in arrays:
        if isinstance(a, np.ndarray):
            out.setdefault(id(_root(a)), []).append(a)
    return out


def owned(results, held=(), kept=None):
    """`results` (a list of arrays) with each array copied where it is read-only, or where it
    may share memory with an earlier result, with an array in `held`, or with one in `kept`
    (arrays grouped by `roots`, for the residuals of a program used many times)."""
    seen = roots(held)
    out = []
    for r in results:
        if isinstance(r, np.ndarray):
            if not r.flags.writeable:
                r = r.copy()
            else:
                root = id(_root(r))
                same = seen.setdefault(root, [])
                if any(np.may_share_memory(r, o) for o in same) or (
                        kept and any(np.may_share_memory(r, o) for o in kept.get(root, ()))):
                    r = r.copy()
                else:
                    same.append(r)
        out.append(r)
    return out
