"""The `implicit.solver_call` primitive: the user's solver run on concrete values.

A solver may call SciPy, loop in Python, read values: it must never see a tracer, and it is
never differentiated. So it runs as one primitive's impl (eagerly, inside jit's trace and in
the code jit generates, once per example under vmap), and the primitive's JVP rule is the
implicit function theorem (`call.problem.tangent`, see _roots.py), never the solver's steps.
The rule is written in frechet operations (jvp of the optimality function, a linear solve), so
reverse mode is its transpose and every higher order differentiates the rule again.

(A frechet.custom_jvp would not do: under grad(grad(f)) the outer derivative of a custom_jvp
function whose rule calls the function differentiates the function's body, here the solver.)

On another library's arrays (torch tensors) the primitive is library-neutral: its impl runs the
solver with `frechet.extend.call_on_library`, so the NumPy code of the solver computes with
that library's functions and the solution comes back as that library's arrays.
"""

from __future__ import annotations

import contextvars

import numpy as np

import frechet as fr
from frechet import extend as fx
from frechet.implicit._pytrees import flatten, unflatten


class SolverCall:
    """One call of a solver: how to rebuild its arguments from flat leaves, and what it returns.

    The solution has init_params' structure, shapes and (inexact) dtypes; the aux output's
    structure and specs are learnt when the solver first runs (impl runs before the abstract
    evaluation under jit, which traces on concrete values)."""

    def __init__(self, solver, has_aux, n_init, init_def, sol_specs, rebuild, problem):
        self.solver, self.has_aux, self.problem = solver, has_aux, problem
        self.n_init, self.init_def, self.sol_specs = n_init, init_def, sol_specs
        self.rebuild = rebuild
        self.aux_def = self.aux_specs = None

    def run(self, leaves):
        init = unflatten(self.init_def, leaves[:self.n_init])
        args, kwargs = self.rebuild(list(leaves[self.n_init:]))
        # A fresh context: no transformation is current while the solver runs, so NumPy
        # inside it is plain NumPy (within a transformation, arrays that user code allocates
        # become constants of the transformation in progress)
        out = contextvars.Context().run(fx.call_on_library, self.solver, init, *args,
                                        **kwargs)
        if self.has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError(f"return (sol, aux) from {_name(self.solver)}, or drop "
                                f"has_aux=True: has_aux says the solver returns a pair")
            out, aux = out
        sol = self._solution(out)
        if not self.has_aux:
            return sol
        aux_leaves, aux_def = flatten(aux)
        aux_leaves = [a if fx.is_foreign(a) else np.asarray(a) for a in aux_leaves]
        self.aux_def, self.aux_specs = aux_def, [fx.spec_of(a) for a in aux_leaves]
        return sol + aux_leaves

    def _solution(self, out):
        leaves, _ = flatten(out)
        got = [np.shape(x) for x in leaves]
        want = [shape for shape, _ in self.sol_specs]
        if got != want:
            raise fr.ShapeError(f"return a solution with init_params' structure and shapes from "
                             f"{_name(self.solver)}: it returned leaves of shapes {got}, "
                             f"init_params has {want}")
        return [_as_dtype(x, dtype) for x, (_, dtype) in zip(leaves, self.sol_specs)]

    def out_specs(self):
        specs = [fx.ArraySpec(shape, dtype) for shape, dtype in self.sol_specs]
        if not self.has_aux:
            return specs
        if self.aux_specs is None:
            raise fr.ConcretizationError(
                f"call {_name(self.solver)} on concrete values (eagerly or under jit) when "
                f"it has has_aux=True: the shapes of its aux output are known only once it "
                f"has run, and this transformation (make_program, eval_shape) never runs it")
        return specs + list(self.aux_specs)

    def __repr__(self):
        return f"<{_name(self.solver)}>"


def _as_dtype(x, dtype):
    """x as an array of dtype: NumPy's, or x's own library's for another library's array."""
    if fx.is_foreign(x):
        return x if fx.spec_of(x).dtype == dtype else fr.numpy.astype(x, dtype)
    return np.asarray(x, dtype=dtype)


def _name(f):
    return getattr(f, "__name__", type(f).__name__)


def _impl(*leaves, call):
    return call.run(leaves)


def _abstract(*specs, call):
    return call.out_specs()


def _batch(args, batched, *, call):
    """One solve per example: the solver is Python and sees one problem at a time."""
    n = next(a.shape[0] for a, b in zip(args, batched) if b)
    outs = [solver_call_p.bind(*[a[i] if b else a for a, b in zip(args, batched)], call=call)
            for i in range(n)]
    # frechet.numpy's stack: the examples' solutions may be another library's arrays
    return [fr.numpy.stack([o[k] for o in outs]) for k in range(len(outs[0]))]


def _jvp(primals, tangents, *, call):
    """The solution's tangent by the implicit function theorem; aux has none."""
    out = solver_call_p.bind(*primals, call=call)
    k, m = call.n_init, len(call.sol_specs)
    sol = unflatten(call.init_def, out[:m])
    # Note: init_params' tangents (tangents[:k]) are ignored: the solution's derivative with
    # respect to the initial guess is zero
    tsol = call.problem.tangent(sol, list(primals[k:]), list(tangents[k:]))
    tsol = [None] * m if tsol is None else flatten(tsol)[0]
    return out, tsol + [None] * (len(out) - m)


# Note: made with fx.Primitive, not registered with fx.primitive: its one param is a per-call
# object holding the user's solver (never picklable), so the registry (which lets programs
# pickle, and which tests/test_coverage.py checks against the op-record table, where a solver
# call cannot be written as a record) has no use for it; tests/test_implicit.py checks it.
solver_call_p = fx.Primitive("implicit.solver_call", _impl, _abstract, multiple_results=True)
solver_call_p.batch = _batch
solver_call_p.jvp = _jvp
fx.neutral(solver_call_p)       # its impl runs the user's code (call_on_library): any library


def run_solver(call, leaves):
    """The solver's outputs (solution leaves, then aux leaves) for flat argument leaves."""
    return list(solver_call_p.bind(*leaves, call=call))
