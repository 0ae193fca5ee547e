"""frechet.scipy.linalg: SciPy's matrix functions and structured solvers, differentiable.

expm, logm, sqrtm and expm_frechet take derivatives by Frechet derivatives (block
construction, prims/matfun.py); solve_sylvester and solve_continuous_lyapunov are linear in
their right-hand side with Sylvester transposes; solve_triangular, cho_factor/cho_solve read one
triangle as SciPy does, and so do their derivatives; eigh with b reduces the generalised
problem by a Cholesky factor.
"""

from __future__ import annotations

from frechet._src.interpreters.batching import batch_flat
from frechet._src.numpy.base import asarray, shape_of
from frechet._src.numpy.linalg import _inexact, common_inexact
from frechet._src.prims import matfun as F
from frechet._src.prims.rules import traced_numpy


def expm(A):
    return F.matfun_p.bind(_inexact(A), fn="expm")


def logm(A, disp=True):
    return F.matfun_p.bind(_inexact(A), fn="logm")


def sqrtm(A, disp=True, blocksize=64):
    return F.matfun_p.bind(_inexact(A), fn="sqrtm")


def expm_frechet(A, E, method=None, compute_expm=True, check_finite=True):
    """(expm(A), L(A, E)) as scipy.linalg.expm_frechet, or L(A, E) alone."""
    A, E = common_inexact(A, E)
    L = F.frechet_p.bind(A, E, fn="expm")
    return (expm(A), L) if compute_expm else L


def solve_sylvester(a, b, q):
    a, b, q = common_inexact(a, b, q)
    return F.sylvester_p.bind(a, b, q)


def solve_continuous_lyapunov(a, q):
    """X with A X + X A^H = Q."""
    fnp = traced_numpy()
    a, q = common_inexact(a, q)
    return F.sylvester_p.bind(a, fnp.conjugate(fnp.swapaxes(a, -1, -2)), q)


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    fnp = traced_numpy()
    a, b = common_inexact(a, b)
    trans = {"N": 0, "T": 1, "C": 2}.get(trans, trans)
    if trans:
        a = fnp.swapaxes(a, -1, -2)
        a = fnp.conjugate(a) if trans == 2 else a
        lower = not lower
    vector = len(shape_of(b)) == 1
    if vector:
        b = fnp.reshape(b, (-1, 1))
    x = F.triangular_solve_p.bind(a, b, lower=bool(lower), unit_diagonal=bool(unit_diagonal))
    return fnp.reshape(x, (-1,)) if vector else x


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """(c, lower): the Cholesky factor in one triangle of c, a's own entries in the other (as
    SciPy leaves them)."""
    fnp = traced_numpy()
    a = _inexact(a)
    low = fnp.linalg.cholesky(a)
    if lower:
        return fnp.tril(low) + fnp.triu(a, 1), lower
    return fnp.triu(fnp.conjugate(fnp.swapaxes(low, -1, -2))) + fnp.tril(a, -1), lower


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    c, lower = c_and_lower
    c, b = common_inexact(c, b)
    if lower:       # c's lower triangle L: L L^H x = b
        y = solve_triangular(c, b, lower=True)
        return solve_triangular(c, y, trans=2, lower=True)
    y = solve_triangular(c, b, trans=2, lower=False)   # c's upper triangle U: U^H U x = b
    return solve_triangular(c, y, lower=False)


def lu_factor(a, overwrite_a=False, check_finite=True):
    """(lu, piv) as scipy.linalg.lu_factor; lu is differentiable, piv (integers) is not.
    A stack of matrices is factored one matrix at a time (as SciPy >= 1.15 does)."""
    a = _inexact(a)
    if len(shape_of(a)) > 2:
        return _per_matrix(lambda m: tuple(F.lu_p.bind(m)), a)
    lu, piv = F.lu_p.bind(a)
    return lu, piv


def _per_matrix(fn, *stacks):
    """fn over the matrices of `stacks` (the first's leading dimensions lead every one), by
    vmap; its results' leading dimensions restored."""
    lead = shape_of(stacks[0])[:-2]
    for x in stacks[1:]:
        if shape_of(x)[:len(lead)] != lead:
            raise ValueError(f"stacks of matrices with leading dimensions {lead} and "
                             f"{shape_of(x)[:len(lead)]}")
    flat = [x.reshape((-1, *shape_of(x)[len(lead):])) for x in stacks]
    outs = batch_flat(lambda *ms: list(fn(*ms)), flat, [True] * len(flat))
    return tuple(o.reshape(lead + o.shape[1:]) for o in outs)


def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """x with A x = b from lu_factor's (lu, piv); trans 1 (A^T) and 2 (A^H) as SciPy. With a
    stack of factorizations, b is a stack of (n, k) right-hand sides with the same leading
    dimensions."""
    lu, piv = lu_and_piv
    if len(shape_of(lu)) > 2:
        lu, b = common_inexact(lu, b)
        return _per_matrix(lambda m, p, r: (_lu_solve_one(m, p, r, trans),), lu, asarray(piv),
                           b)[0]
    return _lu_solve_one(lu, piv, b, trans)


def _lu_solve_one(lu, piv, b, trans):
    fnp = traced_numpy()
    lu, b = common_inexact(lu, b)
    perm = F.perm_p.bind(asarray(piv))
    trans = {"N": 0, "T": 1, "C": 2}.get(trans, trans)
    if trans == 0:          # P A = L U: x = U^-1 L^-1 P b
        y = solve_triangular(lu, fnp.take(b, perm, axis=0), lower=True, unit_diagonal=True)
        return solve_triangular(lu, y)
    # A^T = U^T L^T P: x = P^T L^-T U^-T b (conjugated for trans 2)
    y = solve_triangular(lu, b, trans=trans)
    z = solve_triangular(lu, y, trans=trans, lower=True, unit_diagonal=True)
    return fnp.take(z, fnp.argsort(perm), axis=0)


def eigh(a, b=None, *, lower=True, eigvals_only=False, **kwargs):
    """scipy.linalg.eigh, also for the generalised problem A v = w B v (B positive definite):
    with B = L L^H, the eigenvectors of L^-1 A L^-H, mapped back by L^-H (so V^H B V = I)."""
    fnp = traced_numpy()
    uplo = "L" if lower else "U"
    a = _inexact(a)
    if b is None:
        w, v = fnp.linalg.eigh(a, UPLO=uplo)
    else:
        a, b = common_inexact(a, b)
        low = fnp.linalg.cholesky(b)
        def h(m):
            return fnp.conjugate(fnp.swapaxes(m, -1, -2))
        y = solve_triangular(low, a, lower=True)             # L^-1 A
        c = h(solve_triangular(low, h(y), lower=True))        # L^-1 A L^-H (Hermitian)
        w, v = fnp.linalg.eigh(c, UPLO=uplo)
        v = solve_triangular(low, v, trans=2, lower=True)
    return w if eigvals_only else (w, v)


__all__ = ["cho_factor", "cho_solve", "eigh", "expm", "expm_frechet", "logm", "lu_factor",
           "lu_solve",
           "solve_continuous_lyapunov", "solve_sylvester", "solve_triangular", "sqrtm"]
