"""Primary matrix functions (expm, logm, sqrtm) and the linear solvers of scipy.linalg that
frechet differentiates (solve_triangular, solve_sylvester).

Matrix functions: the derivative of f at A in direction E is the Frechet derivative L_f(A, E),
the upper-right block of f([[A, E], [0, A]]) (one evaluation of f at twice the size; checked
against scipy.linalg.expm_frechet). It is linear in E, and for these f (real coefficients) its
transpose is L_f(A^T, .). Its own derivative is the same block construction one level up:
L_f's derivative in (A, E) along (H, F) is the upper-right block of L_f(M, dM) with
M = [[A, E], [0, A]], dM = [[H, F], [0, H]], so every order is available.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from frechet._src.core.backend import defbackend, device_of
from frechet._src.core.primitive import primitive
from frechet._src.core.spec import ArraySpec, is_complex, numpy_dtype
from frechet._src.errors import BackendError
from frechet._src.interpreters.ad import is_undefined
from frechet._src.prims.linalg import _square
from frechet._src.prims.rules import defvectorized, defzero, traced_numpy

_FUNCTIONS = {"expm": sla.expm, "logm": sla.logm, "sqrtm": sla.sqrtm}


def per_matrix(fn, like, *stacks):
    """fn on each matrix of the stacks (equal leading dimensions), shaped and typed like
    `like`: SciPy's functions take one matrix at a time."""
    flat = [x.reshape((-1, *x.shape[-2:])) for x in stacks]
    return np.asarray([fn(*ms) for ms in zip(*flat)], dtype=like.dtype).reshape(like.shape)


def _evaluate(fn, a):
    """fn on each matrix of a stack, in a's dtype (a real matrix whose logm or sqrtm is not
    real raises)."""
    f = _FUNCTIONS[fn]

    def one(m):
        with np.errstate(all="ignore"):
            r = f(m)
        r = r[0] if isinstance(r, tuple) else r
        if not is_complex(a.dtype) and np.iscomplexobj(r):
            if np.any(np.abs(r.imag) > 1e-10 * max(np.abs(r).max(), 1e-300)):
                raise ValueError(f"{fn} of this real matrix is complex; pass a complex matrix")
            r = r.real
        return r
    return per_matrix(one, a, a)


def _block(a, e):
    """[[a, e], [0, a]] for stacks of matrices (traced or concrete)."""
    fnp = traced_numpy()
    top = fnp.concatenate([a, e], axis=-1)
    bottom = fnp.concatenate([fnp.zeros_like(a), a], axis=-1)
    return fnp.concatenate([top, bottom], axis=-2)


matfun_p = primitive("matfun", lambda a, *, fn: _evaluate(fn, a),
                     lambda a, *, fn: _square(a, fn))


def _frechet_impl(a, e, *, fn):
    n = a.shape[-1]
    return _evaluate(fn, np.asarray(_block(a, e)))[..., :n, n:]


def _frechet_abstract(a, e, *, fn):
    _square(a, fn)
    if e != a:
        raise TypeError(f"the Frechet derivative of {fn} at {a} takes a direction like it, got {e}")
    return e


frechet_p = primitive("matfun_frechet", _frechet_impl, _frechet_abstract)


def _frechet_transpose(ct, a, e, *, fn):
    if is_undefined(a):
        raise TypeError(f"the Frechet derivative of {fn} is linear in its direction only")
    return None, frechet_p.bind(traced_numpy().swapaxes(a, -1, -2), ct, fn=fn)


def _frechet_jvp(primals, tangents, *, fn):
    fnp = traced_numpy()
    (a, e), (ta, te) = primals, tangents
    out = frechet_p.bind(a, e, fn=fn)
    ta = fnp.zeros_like(a) if ta is None else ta
    te = fnp.zeros_like(e) if te is None else te
    n = a.shape[-1]
    d = frechet_p.bind(_block(a, e), _block(ta, te), fn=fn)
    return out, d[..., :n, n:]


matfun_p.jvp = lambda primals, tangents, *, fn: (
    matfun_p.bind(primals[0], fn=fn), frechet_p.bind(primals[0], tangents[0], fn=fn))
matfun_p.batch = lambda args, batched, *, fn: matfun_p.bind(args[0], fn=fn)
frechet_p.jvp = _frechet_jvp
frechet_p.transpose = _frechet_transpose
frechet_p.linear = True


defvectorized(frechet_p)     # stacks of matrices: every argument gets the batch axis


# solve_sylvester: A X + X B = Q, linear in Q --------------------------------------------------

def _sylvester_impl(a, b, q):
    return per_matrix(sla.solve_sylvester, q, a, b, q)


def _sylvester_abstract(a, b, q):
    _square(a, "solve_sylvester")
    _square(b, "solve_sylvester")
    if q.shape[-2:] != (a.shape[-1], b.shape[-1]) or a.shape[:-2] != q.shape[:-2] \
            or b.shape[:-2] != q.shape[:-2] or not (a.dtype == b.dtype == q.dtype):
        raise ValueError(f"solve_sylvester: {a}, {b} and {q} do not fit A X + X B = Q")
    return q


sylvester_p = primitive("sylvester", _sylvester_impl, _sylvester_abstract)


def _sylvester_jvp(primals, tangents):
    """A dX + dX B = dQ - dA X - X dB."""
    fnp = traced_numpy()
    (a, b, q), (ta, tb, tq) = primals, tangents
    x = sylvester_p.bind(a, b, q)
    rhs = tq
    for t in ([-fnp.matmul(ta, x)] if ta is not None else []) + \
             ([-fnp.matmul(x, tb)] if tb is not None else []):
        rhs = t if rhs is None else rhs + t
    return x, None if rhs is None else sylvester_p.bind(a, b, rhs)


def _sylvester_transpose(ct, a, b, q):
    if is_undefined(a) or is_undefined(b):
        raise TypeError("solve_sylvester is linear in Q only")
    fnp = traced_numpy()
    return None, None, sylvester_p.bind(fnp.swapaxes(a, -1, -2), fnp.swapaxes(b, -1, -2), ct)


sylvester_p.jvp = _sylvester_jvp
sylvester_p.transpose = _sylvester_transpose
sylvester_p.linear = True
defvectorized(sylvester_p)


# solve_triangular: the triangle of A only, linear in B ----------------------------------------

def _tri_impl(a, b, *, lower, unit_diagonal):
    return per_matrix(lambda x, y: sla.solve_triangular(x, y, lower=lower,
                                                        unit_diagonal=unit_diagonal), b, a, b)


def _tri_abstract(a, b, *, lower, unit_diagonal):
    _square(a, "solve_triangular")
    if b.shape[:-2] != a.shape[:-2] or b.shape[-2] != a.shape[-1] or b.dtype != a.dtype:
        raise ValueError(f"solve_triangular: {b} does not fit the matrices {a}")
    return b


triangular_solve_p = primitive("triangular_solve", _tri_impl, _tri_abstract)


def triangle_mask(n, lower, unit_diagonal):
    """Where solve_triangular reads A: one triangle, without the diagonal if it is unit."""
    m = np.tril(np.ones((n, n))) if lower else np.triu(np.ones((n, n)))
    return m - np.eye(n) if unit_diagonal else m


def _tri_jvp(primals, tangents, *, lower, unit_diagonal):
    """dX = A^-1 (dB - tri(dA) X), tri keeping the entries the solve reads."""
    fnp = traced_numpy()
    (a, b), (ta, tb) = primals, tangents
    x = triangular_solve_p.bind(a, b, lower=lower, unit_diagonal=unit_diagonal)
    rhs = tb
    if ta is not None:
        mask = triangle_mask(a.shape[-1], lower, unit_diagonal).astype(numpy_dtype(a.dtype))
        d = -fnp.matmul(fnp.multiply(ta, mask), x)
        rhs = d if rhs is None else rhs + d
    if rhs is None:
        return x, None
    return x, triangular_solve_p.bind(a, rhs, lower=lower, unit_diagonal=unit_diagonal)


def _tri_transpose(ct, a, b, *, lower, unit_diagonal):
    if is_undefined(a):
        raise TypeError("solve_triangular is linear in its right-hand side only")
    fnp = traced_numpy()
    at = fnp.swapaxes(a, -1, -2)
    return None, triangular_solve_p.bind(at, ct, lower=not lower, unit_diagonal=unit_diagonal)


triangular_solve_p.jvp = _tri_jvp
triangular_solve_p.transpose = _tri_transpose
triangular_solve_p.linear = True
defvectorized(triangular_solve_p)



# lu_factor: P A = L U, packed as SciPy packs it (lu = strict lower of L + U; piv: row swaps) ----

def _lu_impl(a):
    lu, piv = sla.lu_factor(a)
    return [lu, piv.astype(np.int32)]


def _lu_abstract(a):
    _square(a, "lu_factor")
    if len(a.shape) != 2:
        raise ValueError("lu_factor takes one matrix")
    return [a, ArraySpec(a.shape[:-1], np.dtype(np.int32))]


lu_p = primitive("lu_factor", _lu_impl, _lu_abstract, multiple_results=True)


def permutation(piv, n):
    """The row order P (as indices) that LAPACK's sequential swaps `piv` apply."""
    perm = np.arange(n)
    for i, p in enumerate(np.asarray(piv)):
        perm[i], perm[p] = perm[p], perm[i]
    return perm


def _lu_jvp(primals, tangents):
    """With X = L^-1 P dA U^-1: dL = L tril(X, -1), dU = triu(X) U, packed like lu."""
    fnp = traced_numpy()
    (a,), (t,) = primals, tangents
    lu, piv = lu_p.bind(a)
    n = a.shape[-1]
    perm = perm_p.bind(piv)
    low = fnp.add(fnp.tril(lu, -1), np.eye(n, dtype=numpy_dtype(a.dtype)))
    up = fnp.triu(lu)
    y = triangular_solve_p.bind(low, fnp.take(t, perm, axis=0), lower=True,
                                unit_diagonal=True)                             # L^-1 P dA
    x = fnp.swapaxes(triangular_solve_p.bind(fnp.swapaxes(up, -1, -2), fnp.swapaxes(y, -1, -2),
                                             lower=True, unit_diagonal=False), -1, -2)  # .. U^-1
    d_low = fnp.matmul(low, fnp.tril(x, -1))
    d_up = fnp.matmul(fnp.triu(x), up)
    return [lu, piv], [fnp.tril(d_low, -1) + d_up, None]


def _lu_batch(args, batched):
    """One matrix at a time, as scipy.linalg.lu_factor, stacked."""
    fnp = traced_numpy()
    outs = [lu_p.bind(m) for m in (args[0][i] for i in range(args[0].shape[0]))]
    return [fnp.stack([o[0] for o in outs]), fnp.stack([o[1] for o in outs])]


lu_p.jvp = _lu_jvp
lu_p.batch = _lu_batch


def _perm_impl(piv):
    return permutation(piv, piv.shape[-1]).astype(np.intp)


perm_p = primitive("lu_permutation", _perm_impl,
                   lambda piv: ArraySpec(piv.shape, np.dtype(np.intp)))
defzero(perm_p)
perm_p.batch = lambda args, batched: traced_numpy().stack(
    [perm_p.bind(args[0][i]) for i in range(args[0].shape[0])])


# Other array libraries (core/backend.py): LU and triangular solves are outside the standard;
# torch's own (its pivots count from 1, LAPACK's way; SciPy's from 0). The pivots' permutation
# is a loop of swaps over host integers (indices, not data: read explicitly).
def _torch_lu(a):
    import torch  # lazy: only torch tensors come here
    lu, piv = torch.linalg.lu_factor(a)
    return [lu, (piv - 1).to(torch.int32)]


def _torch_tri(a, b, *, lower, unit_diagonal):
    import torch  # lazy: only torch tensors come here
    return torch.linalg.solve_triangular(a, b, upper=not lower, unitriangular=unit_diagonal)


def _perm_xp(xp):
    def perm(piv):
        host = [int(p) for p in xp.reshape(piv, (-1,))]
        return xp.asarray(permutation(host, len(host)).astype(np.int64), device=device_of(piv))
    return perm


defbackend(lu_p, torch=_torch_lu)
defbackend(triangular_solve_p, torch=_torch_tri)
perm_p.array_api = _perm_xp


# expm and its Frechet derivative on torch (torch.linalg.matrix_exp) and CuPy
# (cupyx.scipy.linalg.expm, one matrix at a time): scaling and squaring, as SciPy's. logm and
# sqrtm need a Schur decomposition, which neither has: BackendError.
def _torch_expm():
    import torch  # lazy: only torch tensors come here
    return torch.linalg.matrix_exp


def _cupy_expm():
    import cupy  # lazy: only CuPy arrays come here
    import cupyx.scipy.linalg

    def expm(a):
        flat = a.reshape(-1, *a.shape[-2:])
        return cupy.stack([cupyx.scipy.linalg.expm(m) for m in flat]).reshape(a.shape)
    return expm


def _expm_on(backend, expm):
    """matfun's and matfun_frechet's functions on `backend`, from its expm."""
    def only_expm(name, fn):
        if fn != "expm":
            raise BackendError(
                f"primitive '{name}' has no implementation for the {backend} back end for {fn} "
                f"({backend} has no Schur decomposition, which SciPy's logm and sqrtm start "
                "from): compute it with NumPy arrays")
        return expm()

    def matfun(a, *, fn):
        return only_expm("matfun", fn)(a)

    def frechet(a, e, *, fn):
        """L(A, E), the upper-right block of expm([[A, E], [0, A]]) (Higham, Functions of
        Matrices, 2008, Theorem 3.6 / eq. 3.16; the NumPy path's construction)."""
        f = only_expm("matfun_frechet", fn)
        import array_api_compat  # lazy: see core/backend.py
        xp = array_api_compat.array_namespace(a)
        n = a.shape[-1]
        top, bottom = xp.concat([a, e], axis=-1), xp.concat([xp.zeros_like(a), a], axis=-1)
        return f(xp.concat([top, bottom], axis=-2))[..., :n, n:]
    return matfun, frechet


# solve_sylvester on torch, which has no Bartels-Stewart solver: A X + X B = Q as one linear
# system, (A kron I_m + I_n kron B^T) vec X = vec Q (row-major vec; X is n x m), solved by LU.
# It has (nm)^2 entries: larger systems raise.
KRONECKER_LIMIT = 4096


def _torch_sylvester(a, b, q):
    import torch  # lazy: only torch tensors come here
    n, m = q.shape[-2:]
    if n * m > KRONECKER_LIMIT:
        raise BackendError(
            f"primitive 'sylvester' has no implementation for the torch back end at this size "
            f"({n} x {m}: torch has no Sylvester solver, and the Kronecker form used instead "
            f"is kept to n m <= {KRONECKER_LIMIT}): compute it with NumPy arrays")
    eye_n = torch.eye(n, dtype=a.dtype, device=a.device)
    eye_m = torch.eye(m, dtype=a.dtype, device=a.device)
    # k[..., i, j, k, l] = A[i, k] delta[j, l] + delta[i, k] B[l, j]
    k = (a[..., :, None, :, None] * eye_m[:, None, :]
         + eye_n[:, None, :, None] * b.transpose(-1, -2)[..., None, :, None, :])
    lead = k.shape[:-4]
    x = torch.linalg.solve(k.reshape(*lead, n * m, n * m), q.reshape(*q.shape[:-2], n * m, 1))
    return x.reshape(q.shape)


_TORCH, _CUPY = _expm_on("torch", _torch_expm), _expm_on("cupy", _cupy_expm)
defbackend(matfun_p, torch=_TORCH[0], cupy=_CUPY[0])
defbackend(frechet_p, torch=_TORCH[1], cupy=_CUPY[1])
defbackend(sylvester_p, torch=_torch_sylvester)
