"""The simplification every compiled program goes through (jit, branches, scan kernels)."""

from __future__ import annotations

from frechet._src.ir.passes import cse, dce, fold_constants
from frechet._src.ir.peephole import forward_pieces
from frechet._src.ir.program import Program


def simplify(program: Program, guards=()) -> tuple[Program, list]:
    """Constant folding, CSE and peephole forwarding, then DCE keeping the guarded values;
    returns the program and the guards renamed to its variables."""
    guards = list(guards)
    for simplification in (fold_constants, cse, forward_pieces):
        program, rename = simplification(program)
        guards = [(rename.get(v, v), val) for v, val in guards]
    return dce(program, keep=[v for v, _ in guards]), guards
