"""Derivatives as operators: SciPy sparse matrices acting on traced values, and linear solves
`frechet.linalg.solve(A, b, solver=...)` differentiable in b and in everything A depends on.

A SciPy sparse matrix is a constant linear map: `A @ x` on a traced x binds `sparse_matmul`,
whose transpose multiplies by A^T. A solve is one `linear_solve` primitive holding the matrix's
action as a closed sub-program `matvec(consts, v)` (consts: what A depends on, traced or not)
and a solver. Rules, as JAX's custom_linear_solve: JVP dx = solve(A, db - dA x), with dA x the
forward derivative of matvec in its consts at v = x; transpose in b: a solve with the
transposed matvec (its own sub-program, the transpose of matvec's linear program). Nothing
differentiates through the solver's iterations.

On another library's arrays (a torch b, core/backend.py) the impl is `_impl_on(xp)`: the
matvec program is evaluated by binding its primitives (each runs xp's function) and the solvers
compute with xp's vectors (solver_ops.py, krylov.py); SciPy sparse matrices and SparseDirect
stay NumPy's and raise BackendError there.
"""

from __future__ import annotations

import numpy as np

from frechet._src.core import backend
from frechet._src.core.primitive import Held, primitive
from frechet._src.core.spec import ArraySpec, spec_of
from frechet._src.errors import BackendError
from frechet._src.interpreters.ad import is_undefined, jvp_flat, pullback_linear
from frechet._src.ir.partial_eval import partial_eval
from frechet._src.ir.program import Program, evaluate, zeros
from frechet._src.lax.branch import compiled, stage_closed
from frechet._src.lax.solver_ops import ArrayOps, Operator
from frechet._src.lax.solvers import (
    CG,
    GMRES,
    LSQR,
    BiCGStab,
    Cholesky,
    Dense,
    Neumann,
    NormalCG,
    Solver,
    SparseDirect,
)
from frechet._src.prims.rules import traced_numpy

# ---- sparse matrices as constant linear maps -----------------------------------------------------

def _sparse_abstract(x, *, matrix):
    m, n = matrix.value.shape
    if not x.shape or x.shape[0] != n:
        raise ValueError(f"matmul: a {m}x{n} sparse matrix and an operand of shape {x.shape}")
    return ArraySpec((m, *x.shape[1:]), x.dtype)


sparse_matmul_p = primitive("sparse_matmul",
                            lambda x, *, matrix: np.asarray(matrix.value @ x).astype(x.dtype),
                            _sparse_abstract)
sparse_matmul_p.jvp = lambda primals, tangents, *, matrix: (
    sparse_matmul_p.bind(primals[0], matrix=matrix),
    None if tangents[0] is None else sparse_matmul_p.bind(tangents[0], matrix=matrix))
sparse_matmul_p.transpose = lambda ct, x, *, matrix: (
    sparse_matmul_p.bind(ct, matrix=Held(matrix.value.T)),)
sparse_matmul_p.linear = True


def _sparse_batch(args, batched, *, matrix):
    fnp = traced_numpy()
    x = fnp.moveaxis(args[0], 0, -1)                 # the examples become trailing columns
    shape = x.shape
    out = sparse_matmul_p.bind(fnp.reshape(x, (shape[0], -1)), matrix=matrix)
    return fnp.moveaxis(fnp.reshape(out, (out.shape[0], *shape[1:])), -1, 0)


sparse_matmul_p.batch = _sparse_batch


def sparse_matmul(a, b):
    """a @ b where one of them is a SciPy sparse matrix (a constant) and the other traced."""
    import scipy.sparse as sp
    fnp = traced_numpy()
    if sp.issparse(a):
        b = fnp.asarray(b)
        dt = np.result_type(a.dtype, b.dtype)
        return sparse_matmul_p.bind(b.astype(dt) if b.dtype != dt else b, matrix=Held(a))
    return fnp.swapaxes(sparse_matmul(b.T, fnp.swapaxes(a, -1, -2)), -1, -2) \
        if len(a.shape) > 1 else sparse_matmul(b.T, a)


__all__ = ["CG", "GMRES", "LSQR", "BiCGStab", "Cholesky", "Dense", "Neumann", "NormalCG",
           "Solver", "SparseDirect", "solve", "sparse_matmul"]


# ---- the linear_solve primitive ------------------------------------------------------------------

def _transposed(matvec: Program) -> Program:
    """(consts, w) -> A^T w, from matvec (consts, v) -> A v, linear in v: what depends on the
    consts alone is computed first (partial evaluation), the rest is transposed."""
    nc = len(matvec.invars) - 1
    known, linear, _ = partial_eval(matvec, [False] * nc + [True], [True])

    def f(*args):
        residuals = evaluate(known, *args[:-1])
        return pullback_linear(linear, [False] * len(residuals) + [True], residuals,
                               [args[-1]])
    return stage_closed(f, [c.spec for c in matvec.invars[:-1]] + list(matvec.out_specs))[0]


def _impl(*args, matvec, transposed, solver, matrix):
    import functools

    from scipy.sparse.linalg import LinearOperator
    consts, b = args[:-1], args[-1]
    run, run_t = compiled(matvec), compiled(transposed.value)
    n = b.shape[0]
    op = LinearOperator((n, n), dtype=b.dtype,
                        matvec=lambda v: np.asarray(run(*consts, v.reshape(n))[0]),
                        rmatvec=lambda w: np.conj(np.asarray(
                            run_t(*consts, np.conj(w).reshape(n))[0])))

    @functools.cache
    def the_matrix():
        if matrix is not None:
            return matrix.value
        return np.stack([op.matvec(e) for e in np.eye(n, dtype=b.dtype)], axis=1)
    s = solver.value
    if b.ndim == 1 or not s.columns:
        return np.asarray(s(op, b, the_matrix), dtype=b.dtype)
    return np.stack([np.asarray(s(op, b[:, j], the_matrix), dtype=b.dtype)
                     for j in range(b.shape[1])], axis=1)


def _on_library(program, b, xp):
    """program with its NumPy constants made constants of b's library once, not at every
    product (a NumPy matrix closed over while b is traced)."""
    if not any(type(c) is np.ndarray for c in program.consts):
        return program
    consts = backend.promote([b, *program.consts], xp)[1:]
    return Program(program.invars, program.constvars, consts, program.eqns, program.outvars,
                   program.out_specs)


def _impl_on(xp):
    """linear_solve's impl on arrays of namespace xp (the primitive's array-API rule)."""
    def impl(*args, matvec, transposed, solver, matrix):
        import functools

        import scipy.sparse as sp
        consts, b, s = args[:-1], args[-1], solver.value
        if isinstance(s, SparseDirect) or (matrix is not None and sp.issparse(matrix.value)):
            raise BackendError(
                f"SciPy sparse matrices and SparseDirect compute on NumPy arrays only; b is a "
                f"{type(b).__name__}: pass A as an array of b's library or as a function "
                f"v -> A v, with Dense() or a Krylov solver")
        ops = ArrayOps(xp, b)
        n = b.shape[0]
        run, run_t = _on_library(matvec, b, xp), _on_library(transposed.value, b, xp)
        op = Operator(n, lambda v: evaluate(run, *consts, v)[0],
                      lambda w: ops.conj(evaluate(run_t, *consts, ops.conj(w))[0]))

        @functools.cache
        def the_matrix():
            if matrix is not None:
                m = matrix.value
                return backend.to_library(m, b)     # (another library's matrix as it is)
            return ops.stack_columns([op.matvec(e) for e in ops.eye(n, b.dtype)])
        if b.ndim == 1 or not s.columns:
            return s(op, b, the_matrix, ops)
        return ops.stack_columns([s(op, b[:, j], the_matrix, ops) for j in range(b.shape[1])])
    return impl


def _abstract(*specs, matvec, transposed, solver, matrix):
    b = specs[-1]
    if list(matvec.out_specs) != [ArraySpec(b.shape[:1], b.dtype)]:
        raise ValueError(f"solve: the matrix maps {list(matvec.out_specs)}, b is {b}")
    return b


linear_solve_p = primitive("linear_solve", _impl, _abstract)
linear_solve_p.array_api = _impl_on


def _jvp(primals, tangents, **params):
    consts, b = list(primals[:-1]), primals[-1]
    tc, tb = list(tangents[:-1]), tangents[-1]
    x = linear_solve_p.bind(*consts, b, **params)
    rhs = tb
    if any(t is not None for t in tc):
        fnp = traced_numpy()
        cols = [x] if len(x.shape) == 1 else [x[:, j] for j in range(x.shape[1])]
        dax = []
        for col in cols:     # d(A) x: the forward derivative of matvec in its consts
            _, (t,) = jvp_flat(lambda *a: evaluate(params["matvec"], *a), consts + [col],
                               tc + [None])
            dax.append(zeros(spec_of(col)) if t is None else t)
        dax = dax[0] if len(x.shape) == 1 else fnp.stack(dax, axis=1)
        rhs = -dax if rhs is None else rhs - dax
    return x, None if rhs is None else linear_solve_p.bind(*consts, rhs, **params)


def _transpose(ct, *args, matvec, transposed, solver, matrix):
    consts = args[:-1]
    if any(is_undefined(c) for c in consts):
        raise TypeError("solve is linear in its right-hand side only")
    t_matrix = None if matrix is None else Held(matrix.value.T)
    return [None] * len(consts) + [linear_solve_p.bind(
        *consts, ct, matvec=transposed.value, transposed=Held(matvec), solver=solver,
        matrix=t_matrix)]


def _batch(args, batched, **params):
    """One solve per example (the solvers take one right-hand side at a time anyway)."""
    fnp = traced_numpy()
    n = next(a.shape[0] for a, f in zip(args, batched) if f)
    return fnp.stack([linear_solve_p.bind(*[a[i] if f else a for a, f in zip(args, batched)],
                                          **params) for i in range(n)])


linear_solve_p.jvp = _jvp
linear_solve_p.transpose = _transpose
linear_solve_p.linear = True
linear_solve_p.batch = _batch


def _foreign_consts_as_operands(program, lifted):
    """The program with its constants of another library made operands (after the lifted
    ones): the solve's operands then say which library computes it, also when b and its
    cotangents are NumPy's (a torch matrix closed over by a function A)."""
    foreign = [k for k, c in enumerate(program.consts) if backend.is_foreign(c)]
    keep = [k for k in range(len(program.consts)) if k not in foreign]
    extra = [program.constvars[k] for k in foreign]
    invars = list(program.invars)
    return Program(invars[:-1] + extra + invars[-1:], [program.constvars[k] for k in keep],
                   [program.consts[k] for k in keep], program.eqns, program.outvars,
                   program.out_specs), list(lifted) + [program.consts[k] for k in foreign]


def _astype(x, dtype):
    """x.astype(dtype); another library's concrete array (no astype method) through
    frechet.numpy, which keeps it in its library."""
    return traced_numpy().astype(x, dtype) if backend.is_foreign(x) else x.astype(dtype)


def solve(A, b, solver=None):
    """x with A x = b, differentiable in b and in everything A depends on.

    Args:
      A: an array (traced or not), a SciPy sparse matrix, a frechet LinearMap, or a function
        v -> A v (linear in v; it may close over traced values).
      b: a vector, or a matrix of right-hand sides (columns). With A or b another library's
        array (a torch tensor), the solve computes in that library (docs/backends.md).
      solver: Dense() (default for arrays), Cholesky(), CG(), GMRES(tol=1e-12) (default
        otherwise), BiCGStab(), LSQR(), NormalCG(), Neumann(maxiter, alpha), SparseDirect();
        each takes tol (relative residual), maxiter and ridge (it solves (A + ridge I) x = b)
        and warns, naming the residual, when it does not converge.
    """
    import scipy.sparse as sp

    fnp = traced_numpy()
    b = fnp.asarray(b)
    if not np.issubdtype(backend.dtype_of(b), np.inexact):
        b = _astype(b, np.float64)
    n = b.shape[0]
    matrix = None
    if sp.issparse(A):
        matrix = Held(A)

        def matvec(v):
            return sparse_matmul(A, v)
    elif callable(A):      # a function, or a LinearMap (called on a vector, it applies itself)
        matvec = A
    else:
        A = fnp.asarray(A)
        if type(A) is np.ndarray and backend.is_foreign(b):
            # a NumPy matrix meeting another library's b is a constant of that library
            # (core/backend.py's rule for mixed inputs), made once, not at every product
            A = backend.to_library(A, b)
        if isinstance(A, np.ndarray) and A.dtype == b.dtype:
            matrix = Held(A)
        elif backend.is_foreign(A) and backend.dtype_of(A) == backend.dtype_of(b):
            matrix = Held(A)        # another library's matrix, kept as it is
        else:
            dt = np.result_type(backend.dtype_of(A), backend.dtype_of(b))
            A, b = _astype(A, dt), _astype(b, dt)

        def matvec(v):
            return fnp.matmul(A, v)
    if solver is None:
        solver = (SparseDirect() if sp.issparse(A) else
                  Dense() if matrix is not None or not callable(A) else GMRES(tol=1e-12))
    if isinstance(solver, SparseDirect) and not (matrix is not None and sp.issparse(A)):
        raise TypeError("SparseDirect (spsolve) needs a SciPy sparse matrix")
    program, lifted = stage_closed(lambda v: [matvec(v)], [ArraySpec((n,), backend.dtype_of(b))],
                                   closures_first=True)
    for c in program.consts:
        if type(c) is not np.ndarray and backend.is_foreign(c):
            program, lifted = _foreign_consts_as_operands(program, lifted)
            break
    return linear_solve_p.bind(*lifted, b, matvec=program, transposed=Held(_transposed(program)),
                               solver=Held(solver), matrix=matrix)
