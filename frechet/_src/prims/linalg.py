"""Linear algebra primitives: inv, solve, slogdet, det, eigh, svd, pinv, cholesky, qr, eig, on
stacks of matrices.

Derivatives are the coordinate-free (Frechet) formulas, not differentiation through LAPACK:

  inv:      dY = -Y dA Y                      (Y = A^-1)
  solve:    dX = A^-1 (dB - dA X)             (X = A^-1 B; linear in B, transpose A^-T)
  slogdet:  d log|det A| = Re tr(A^-1 dA),    d sign = i Im tr(A^-1 dA) sign
  det:      d det A = det A tr(A^-1 dA)
  pinv:     dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P      (P = A^+)

Each tangent is written with frechet's own contractions, so its linear program transposes
rule by rule. At a singular matrix the derivative does not exist: NumPy's LinAlgError is
raised when the inverse is formed.
"""

from __future__ import annotations

import numpy as np

from frechet._src.core.backend import defbackend, dtype_of, to_host
from frechet._src.core.primitive import primitive
from frechet._src.core.spec import ArraySpec, is_complex, numpy_dtype, real_dtype
from frechet._src.core.trace import Tracer
from frechet._src.errors import NonDifferentiableError
from frechet._src.interpreters.ad import add_tangents, is_undefined
from frechet._src.prims.rules import defvectorized, traced_numpy
from frechet._src.prims.shape import stop_gradient_p
from frechet._src.warn import warn


def _square(a, what):
    if len(a.shape) < 2 or a.shape[-1] != a.shape[-2]:
        raise np.linalg.LinAlgError(
            f"{what}: last 2 dimensions of the array must be square, got shape {a.shape}")
    return a



def _trace_of_product(y, t):
    """tr(Y dA) for each matrix of the stacks: sum(Y^T * dA) over the last two axes."""
    fnp = traced_numpy()
    return fnp.sum(fnp.swapaxes(y, -1, -2) * t, axis=(-2, -1))


# inv ------------------------------------------------------------------------------------------

inv_p = primitive("inv", np.linalg.inv, lambda a: _square(a, "inv"))


def _inv_jvp(primals, tangents):
    fnp = traced_numpy()
    (a,), (t,) = primals, tangents
    y = inv_p.bind(a)
    return y, -fnp.matmul(fnp.matmul(y, t), y)


inv_p.jvp = _inv_jvp
inv_p.batch = lambda args, batched: inv_p.bind(args[0])


# solve(a, b): b a stack of matrices (..., M, K) with a's stack shape (the front end broadcasts)

def _solve_abstract(a, b):
    _square(a, "solve")
    if len(b.shape) != len(a.shape) or b.shape[:-1] != a.shape[:-1] or b.dtype != a.dtype:
        raise ValueError(f"solve: {b} does not fit the matrices {a}")
    return b


solve_p = primitive("solve", np.linalg.solve, _solve_abstract)


def _solve_jvp(primals, tangents):
    fnp = traced_numpy()
    (a, b), (ta, tb) = primals, tangents
    x = solve_p.bind(a, b)
    rhs = tb
    if ta is not None:
        rhs = add_tangents(rhs, -fnp.matmul(ta, x))
    return x, None if rhs is None else solve_p.bind(a, rhs)


def _solve_transpose(ct, a, b):
    fnp = traced_numpy()
    if is_undefined(a):
        raise TypeError("solve is linear in its right-hand side only")
    return None, solve_p.bind(fnp.swapaxes(a, -1, -2), ct)


solve_p.jvp = _solve_jvp
solve_p.transpose = _solve_transpose
solve_p.linear = True
defvectorized(solve_p)       # stacks of matrices: every argument gets the batch axis


# slogdet and det ------------------------------------------------------------------------------

def _slogdet_abstract(a):
    _square(a, "slogdet")
    return [ArraySpec(a.shape[:-2], a.dtype), ArraySpec(a.shape[:-2], real_dtype(a.dtype))]


slogdet_p = primitive("slogdet", lambda a: list(np.linalg.slogdet(a)), _slogdet_abstract,
                      multiple_results=True)


def _slogdet_jvp(primals, tangents):
    fnp = traced_numpy()
    (a,), (t,) = primals, tangents
    sign, logabsdet = slogdet_p.bind(a)
    tr = _trace_of_product(inv_p.bind(a), t)
    if not is_complex(a.dtype):
        return [sign, logabsdet], [None, tr]
    return [sign, logabsdet], [sign * 1j * fnp.imag(tr), fnp.real(tr)]


slogdet_p.jvp = _slogdet_jvp
slogdet_p.batch = lambda args, batched: slogdet_p.bind(args[0])

det_p = primitive("det", np.linalg.det,
                  lambda a: ArraySpec(_square(a, "det").shape[:-2], a.dtype))


def _det_jvp(primals, tangents):
    """d det A = tr(adj(A) dA). The adjugate is det(A) A^-1 where A is well-conditioned; at a
    (nearly) singular A, where that form is lost to rounding or undefined, it is formed from the
    SVD (`_adjugate`). Both are computed and one is selected per matrix by a traced condition
    (cond(A) > 1e12), so the rule is the same program for every A: jit traces it once. The
    unselected form gets a safe operand (the identity for the inverse; singular values 1..n,
    all distinct, for the SVD), so it neither raises nor warns nor poisons the result."""
    fnp = traced_numpy()
    (a,), (t,) = primals, tangents
    d = det_p.bind(a)
    n = a.shape[-1]
    if n == 0:
        return d, _trace_of_product(inv_p.bind(a), t)
    s = svdvals_p.bind(stop_gradient_p.bind(a))        # the condition has no derivative
    singular = fnp.expand_dims(s[..., -1] <= 1e-12 * s[..., 0], (-2, -1))
    safe_inv = np.eye(n, dtype=numpy_dtype(a.dtype))
    safe_svd = np.diag(np.arange(1, n + 1)).astype(numpy_dtype(a.dtype))
    regular = fnp.expand_dims(fnp.expand_dims(d, -1), -1) * \
        inv_p.bind(fnp.where(singular, safe_inv, a))
    adj = fnp.where(singular, _adjugate(fnp.where(singular, a, safe_svd)), regular)
    return d, _trace_of_product(adj, t)


def _adjugate(a):
    fnp = traced_numpy()
    u, s, vh = svd_p.bind(a)
    ones = fnp.ones_like(s[..., :1])
    before = fnp.cumprod(fnp.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = fnp.flip(fnp.cumprod(fnp.flip(fnp.concatenate([s[..., 1:], ones], axis=-1), -1),
                                 axis=-1), -1)
    others = fnp.astype(before * after, numpy_dtype(a.dtype))   # prod_{j != i} s_j, no division
    # det(U) det(V^H): +-1 (real) or a unit complex number; slogdet's sign, as U and V^H are
    # unitary (always invertible: its derivative needs no choice between formulas)
    phase = slogdet_p.bind(u)[0] * slogdet_p.bind(vh)[0]
    v = fnp.conjugate(fnp.swapaxes(vh, -1, -2))
    adj = fnp.matmul(v * fnp.expand_dims(others, -2), fnp.conjugate(fnp.swapaxes(u, -1, -2)))
    return adj * fnp.expand_dims(fnp.expand_dims(phase, -1), -1)


det_p.jvp = _det_jvp
det_p.batch = lambda args, batched: det_p.bind(args[0])


# eigh: Hermitian eigendecomposition (values ascending, vectors in columns) --------------------

def _eigh_abstract(a, *, UPLO):
    _square(a, "eigh")
    return [ArraySpec(a.shape[:-1], real_dtype(a.dtype)), a]


eigh_p = primitive("eigh", lambda a, *, UPLO: list(np.linalg.eigh(a, UPLO)), _eigh_abstract,
                   multiple_results=True)


def _eigh_jvp(primals, tangents, *, UPLO):
    """dw = Re diag(V^H dA V); dV = V (F * V^H dA V), F_ij = 1/(w_j - w_i), F_ii = 0, for the
    Hermitian part of dA (the input is taken to be Hermitian, as JAX and PyTorch do)."""
    fnp = traced_numpy()
    (a,), (t,) = primals, tangents
    w, v = eigh_p.bind(a, UPLO=UPLO)
    vh = fnp.conjugate(fnp.swapaxes(v, -1, -2))
    t = (t + fnp.conjugate(fnp.swapaxes(t, -1, -2))) * 0.5
    m = fnp.matmul(fnp.matmul(vh, t), v)
    dw = fnp.diagonal(m, axis1=-2, axis2=-1)
    if is_complex(a.dtype):
        dw = fnp.real(dw)
    return [w, v], [dw, fnp.matmul(v, _gaps(w) * m)]


def _gaps(w, what="eigh: repeated eigenvalues"):
    """F_ij = 1/(w_j - w_i) off the diagonal, 0 on it; 0 also between repeated eigenvalues,
    where eigenvectors are defined only up to a rotation of their eigenspace (the choice is
    right for losses invariant under those rotations; a warning says so)."""
    fnp = traced_numpy()
    diff = fnp.expand_dims(w, -2) - fnp.expand_dims(w, -1)
    eye = np.eye(w.shape[-1], dtype=bool)
    if not isinstance(diff, np.ndarray):
        # traced eigenvalues (jit, higher derivatives): the same formula, in traced operations
        # (no warning: the values are not known here)
        scale = (fnp.max(fnp.abs(w), axis=-1, keepdims=True)[..., None] if w.shape[-1]
                 else 1.0)
        tol = 1e3 * np.finfo(numpy_dtype(diff.dtype)).eps * fnp.maximum(scale, 1e-300)
        gap = fnp.logical_or(fnp.abs(diff) <= tol, eye)
        return fnp.where(gap, 0.0, 1.0 / fnp.where(gap, 1.0, diff))
    concrete = diff
    scale = np.max(np.abs(w), axis=-1, keepdims=True)[..., None] if w.shape[-1] else 1.0
    tiny = np.abs(concrete) <= 1e3 * np.finfo(concrete.dtype).eps * np.maximum(scale, 1e-300)
    degenerate = tiny & ~eye
    if degenerate.any():
        warn(
            f"{what}; the derivative of their vectors is defined only up to a rotation of "
            "their subspace, and frechet takes the one without rotation. Gradients of losses "
            "that do not depend on that choice (the values, projectors onto whole subspaces) "
            "are right")
    with np.errstate(divide="ignore"):
        f = 1.0 / np.where(tiny | eye, 1.0, concrete)
    return np.where(tiny | eye, 0.0, f).astype(w.dtype)


eigh_p.jvp = _eigh_jvp
eigh_p.batch = lambda args, batched, *, UPLO: eigh_p.bind(args[0], UPLO=UPLO)


# eigvalsh: eigenvalues only (no eigenvector derivative, so repeated eigenvalues are fine) ------

eigvalsh_p = primitive("eigvalsh", lambda a, *, UPLO: np.linalg.eigvalsh(a, UPLO),
                       lambda a, *, UPLO: _eigh_abstract(a, UPLO=UPLO)[0])


def _eigvalsh_jvp(primals, tangents, *, UPLO):
    fnp = traced_numpy()
    (a,), (t,) = primals, tangents
    w, v = eigh_p.bind(a, UPLO=UPLO)
    vh = fnp.conjugate(fnp.swapaxes(v, -1, -2))
    # Re diag(V^H dA V) = Re sum_i conj(V_ki) dA_kl V_li: the Hermitian part of dA is implied
    dw = fnp.sum(fnp.matmul(vh, t) * fnp.swapaxes(v, -1, -2), axis=-1)
    return w, fnp.real(dw) if is_complex(a.dtype) else dw


eigvalsh_p.jvp = _eigvalsh_jvp
eigvalsh_p.batch = lambda args, batched, *, UPLO: eigvalsh_p.bind(args[0], UPLO=UPLO)


# svd: singular values, and the reduced decomposition -----------------------------------------

def _svd_sizes(a):
    if len(a.shape) < 2:
        raise np.linalg.LinAlgError(
            f"{len(a.shape)}-dimensional array given. Array must be at least two-dimensional")
    return a.shape[-2], a.shape[-1]


svdvals_p = primitive(
    "svdvals", lambda a: np.linalg.svd(a, compute_uv=False),
    lambda a: ArraySpec(a.shape[:-2] + (min(_svd_sizes(a)),), real_dtype(a.dtype)))


def _svdvals_jvp(primals, tangents):
    """ds = Re diag(U^H dA V) (singular values are differentiable wherever they are distinct
    from zero; repeated ones are fine)."""
    fnp = traced_numpy()
    (a,), (t,) = primals, tangents
    u, s, vh = svd_p.bind(a)
    # diag(U^H dA V)_i = sum_k conj(U_ki) (dA V)_ki
    ds = fnp.sum(fnp.conjugate(u) * fnp.matmul(t, fnp.conjugate(fnp.swapaxes(vh, -1, -2))),
                 axis=-2)
    return s, fnp.real(ds) if is_complex(a.dtype) else ds


svdvals_p.jvp = _svdvals_jvp
svdvals_p.batch = lambda args, batched: svdvals_p.bind(args[0])


def _svd_abstract(a):
    m, n = _svd_sizes(a)
    k, batch = min(m, n), a.shape[:-2]
    return [ArraySpec(batch + (m, k), a.dtype), ArraySpec(batch + (k,), real_dtype(a.dtype)),
            ArraySpec(batch + (k, n), a.dtype)]


svd_p = primitive("svd", lambda a: list(np.linalg.svd(a, full_matrices=False)), _svd_abstract,
                  multiple_results=True)


def _svd_jvp(primals, tangents):
    """The reduced SVD's derivative (Townsend 2016; complex: Wan & Zhang 2019). With
    dP = U^H dA V, F_ij = 1/(s_j^2 - s_i^2): ds = Re diag(dP),
    dU = U (F * (dP S + S dP^H)) + (I - U U^H) dA V S^-1,
    dV = V (F * (S dP + dP^H S)) + (I - V V^H) dA^H U S^-1, and for complex matrices the
    phase term i Im diag(dP) / (2 S) added to U^H dU and taken from V^H dV (the gauge that
    splits it evenly). Repeated singular values make F infinite (a warning, as for eigh);
    zero ones make S^-1 infinite."""
    fnp = traced_numpy()
    (a,), (t,) = primals, tangents

    def h(x):
        return fnp.conjugate(fnp.swapaxes(x, -1, -2))
    u, s, vh = svd_p.bind(a)
    v, uh = h(vh), h(u)
    dp = fnp.matmul(fnp.matmul(uh, t), v)
    dph = h(dp)
    diag = fnp.diagonal(dp, axis1=-2, axis2=-1)
    complex_ = is_complex(a.dtype)
    ds = fnp.real(diag) if complex_ else diag
    f = _gaps(s * s, "svd: repeated singular values")
    s_row, s_col = fnp.expand_dims(s, -2), fnp.expand_dims(s, -1)     # S on the right / left
    j = f * (dp * s_row + s_col * dph)
    k = f * (s_col * dp + dph * s_row)
    if complex_:
        phase = 1j * fnp.imag(diag) / (2 * s)
        eye = np.eye(s.shape[-1])
        j = j + fnp.multiply(fnp.expand_dims(phase, -1), eye)
        k = k - fnp.multiply(fnp.expand_dims(phase, -1), eye)
    inv_s = 1.0 / s_row
    du = fnp.matmul(u, j)
    dv = fnp.matmul(v, k)
    m, n = a.shape[-2], a.shape[-1]
    if m > min(m, n):     # the part of dA outside U's columns
        tv = fnp.matmul(t, v)
        du = du + (tv - fnp.matmul(u, fnp.matmul(uh, tv))) * inv_s
    if n > min(m, n):     # outside V's columns
        tu = fnp.matmul(h(t), u)
        dv = dv + (tu - fnp.matmul(v, fnp.matmul(vh, tu))) * inv_s
    return [u, s, vh], [du, ds, h(dv)]


svd_p.jvp = _svd_jvp
svd_p.batch = lambda args, batched: svd_p.bind(args[0])


# pinv: the Moore-Penrose pseudo-inverse ------------------------------------------------------

def _pinv_abstract(a, *, rcond, hermitian):
    m, n = _svd_sizes(a)
    if hermitian:
        _square(a, "pinv(hermitian=True)")
    return ArraySpec(a.shape[:-2] + (n, m), a.dtype)


pinv_p = primitive(
    "pinv", lambda a, *, rcond, hermitian: np.linalg.pinv(a, np.asarray(rcond), hermitian),
    _pinv_abstract)


def _pinv_jvp(primals, tangents, *, rcond, hermitian):
    """Golub & Pereyra (1973): with P = A^+,
    dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P.
    Only P and the projectors A P, P A appear (no singular-value gaps), so repeated singular
    values are fine; it is the derivative wherever the rank stays constant (the cutoff drops
    the same singular values nearby). Singular values dropped by the cutoff that are not
    exactly zero count as zero: their O(s_dropped / s_kept^2) contribution is left out.
    hermitian=True: the Hermitian part of dA (the input is taken to be Hermitian)."""
    fnp = traced_numpy()
    (a,), (t,) = primals, tangents

    def h(x):
        return fnp.conjugate(fnp.swapaxes(x, -1, -2))
    p = pinv_p.bind(a, rcond=rcond, hermitian=hermitian)
    if hermitian:
        t = (t + h(t)) * 0.5
    ph, th = h(p), h(t)
    # (I - A P) and (I - P A) applied without forming the identity
    left = fnp.matmul(fnp.matmul(p, ph), th - fnp.matmul(fnp.matmul(th, a), p))
    right = fnp.matmul(th - fnp.matmul(p, fnp.matmul(a, th)), fnp.matmul(ph, p))
    return p, left + right - fnp.matmul(fnp.matmul(p, t), p)


pinv_p.jvp = _pinv_jvp
pinv_p.batch = lambda args, batched, **params: pinv_p.bind(args[0], **params)


# cholesky: A = L L^H (lower) -------------------------------------------------------------------

cholesky_p = primitive("cholesky", np.linalg.cholesky, lambda a: _square(a, "cholesky"))


def _cholesky_jvp(primals, tangents):
    """dL = L Phi(L^-1 dA L^-H), Phi keeping the strict lower triangle and half the diagonal,
    for the Hermitian part of dA (the input is taken to be Hermitian, as JAX and PyTorch do)."""
    fnp = traced_numpy()
    (a,), (t,) = primals, tangents
    low = cholesky_p.bind(a)
    inv_l = inv_p.bind(low)
    t = (t + fnp.conjugate(fnp.swapaxes(t, -1, -2))) * 0.5
    x = fnp.matmul(fnp.matmul(inv_l, t), fnp.conjugate(fnp.swapaxes(inv_l, -1, -2)))
    n = a.shape[-1]
    phi = np.tril(np.ones((n, n)), -1) + 0.5 * np.eye(n)
    return low, fnp.matmul(low, fnp.multiply(x, phi.astype(real_dtype(a.dtype))))


cholesky_p.jvp = _cholesky_jvp
cholesky_p.batch = lambda args, batched: cholesky_p.bind(args[0])


# qr: reduced ------------------------------------------------------------------------------------

def _qr_abstract(a):
    m, n = _svd_sizes(a)
    k = min(m, n)
    return [ArraySpec(a.shape[:-2] + (m, k), a.dtype), ArraySpec(a.shape[:-2] + (k, n), a.dtype)]


qr_p = primitive("qr", lambda a: list(np.linalg.qr(a)), _qr_abstract, multiple_results=True)


def _qr_tall_tangents(q, r, t):
    """(dQ, dR) of A = QR with A m x n, m >= n, full rank. With X = Q^H dA R^-1 and
    Omega = tril(X, -1) - tril(X, -1)^H (+ i Im diag X for complex):
    dR = (X - Omega) R, dQ = Q Omega + (I - Q Q^H) dA R^-1."""
    fnp = traced_numpy()
    n = r.shape[-1]
    qh = fnp.conjugate(fnp.swapaxes(q, -1, -2))
    t_r = fnp.matmul(t, inv_p.bind(r))
    x = fnp.matmul(qh, t_r)
    low = fnp.multiply(x, np.tril(np.ones((n, n)), -1))
    omega = low - fnp.conjugate(fnp.swapaxes(low, -1, -2))
    if is_complex(r.dtype):
        omega = omega + fnp.multiply(1j * fnp.imag(x), np.eye(n))
    dr = fnp.matmul(x - omega, r)
    dq = fnp.matmul(q, omega) + t_r - fnp.matmul(q, fnp.matmul(qh, t_r))
    return dq, dr


def _qr_jvp(primals, tangents):
    """Tall or square: _qr_tall_tangents. Wide (m < n): A = [X Y] with X square, and
    Householder QR gives X = Q R1 (R1 from X alone) and R2 = Q^H Y, so (dQ, dR1) come from
    X's square QR and dR2 = dQ^H Y + Q^H dY. Needs the leading m x m block of full rank."""
    fnp = traced_numpy()
    (a,), (t,) = primals, tangents
    m, n = a.shape[-2], a.shape[-1]
    q, r = qr_p.bind(a)
    if m >= n:
        return [q, r], list(_qr_tall_tangents(q, r, t))
    dq, dr1 = _qr_tall_tangents(q, r[..., :m], t[..., :m])
    dr2 = (fnp.matmul(fnp.conjugate(fnp.swapaxes(dq, -1, -2)), a[..., m:])
           + fnp.matmul(fnp.conjugate(fnp.swapaxes(q, -1, -2)), t[..., m:]))
    return [q, r], [dq, fnp.concatenate([dr1, dr2], axis=-1)]


qr_p.jvp = _qr_jvp
qr_p.batch = lambda args, batched: qr_p.bind(args[0])


# eig: general eigendecomposition (complex results) ---------------------------------------------

def _eig_abstract(a):
    _square(a, "eig")
    c = np.result_type(a.dtype, np.complex64)
    return [ArraySpec(a.shape[:-1], c), ArraySpec(a.shape, c)]


def _eig_impl(a):
    w, v = np.linalg.eig(a)
    c = np.result_type(a.dtype, np.complex64)
    return [w.astype(c, copy=False), v.astype(c, copy=False)]


eig_p = primitive("eig", _eig_impl, _eig_abstract, multiple_results=True)


def _eig_jvp(primals, tangents):
    """dw = diag(V^-1 dA V); dV = V (F * V^-1 dA V), F_ij = 1/(w_j - w_i), with each column
    kept at unit norm (NumPy's normalisation); its phase stays LAPACK's (a gauge)."""
    fnp = traced_numpy()
    (a,), (t,) = primals, tangents
    w, v = eig_p.bind(a)
    m = fnp.matmul(fnp.matmul(inv_p.bind(v), t), v)
    dw = fnp.diagonal(m, axis1=-2, axis2=-1)
    dv = fnp.matmul(v, _gaps(w, "eig: repeated eigenvalues") * m)
    dv = dv - v * fnp.expand_dims(fnp.real(fnp.sum(fnp.conjugate(v) * dv, axis=-2)), -2)
    return [w, v], [dw, dv]


eig_p.jvp = _eig_jvp
eig_p.batch = lambda args, batched: eig_p.bind(args[0])


# roots: the roots of a polynomial (eigenvalues of its companion matrix) ------------------------

def _roots_abstract(p, *, leading_zeros):
    if len(p.shape) != 1:
        raise ValueError("Input must be a rank-1 array.")
    return ArraySpec((p.shape[0] - leading_zeros - 1,), np.result_type(p.dtype, np.complex64))


def _roots_impl(p, *, leading_zeros):
    return np.roots(p[leading_zeros:]).astype(np.result_type(p.dtype, np.complex64))


roots_p = primitive("roots", _roots_impl, _roots_abstract)


def _roots_jvp(primals, tangents, *, leading_zeros):
    """dr = -dp(r) / p'(r) (the implicit function theorem on p(r) = 0), for simple roots. The
    leading zero coefficients NumPy drops have no derivative (perturbing one sends a root to
    infinity), and repeated roots none either (p'(r) = 0): both raise."""
    fnp = traced_numpy()
    (p,), (t,) = primals, tangents
    if leading_zeros:
        raise NonDifferentiableError(
            "np.roots: the leading coefficient is 0, where the roots are not differentiable "
            "(perturbing it sends a root to infinity); drop the leading zeros from the "
            "polynomial before np.roots")
    r = roots_p.bind(p, leading_zeros=0)
    n = p.shape[0]
    value = r.concrete() if isinstance(r, Tracer) else r
    if value is not None:
        _check_simple_roots(to_host(value))
    dtype = dtype_of(r)
    powers = fnp.power(fnp.expand_dims(r, -1), np.arange(n - 1, -1, -1))   # r_i^(n-1-k)
    dp_at_r = fnp.matmul(powers, fnp.astype(t, dtype))
    slope = fnp.matmul(powers[:, 1:], fnp.astype(fnp.multiply(p[:-1], np.arange(n - 1, 0, -1)),
                                                 dtype))
    return r, -dp_at_r / slope


def _check_simple_roots(r):
    """Raise where two computed roots are closer than eps**(1/4), relative: a root of
    multiplicity m comes out of the companion matrix split by about eps**(1/m), so double and
    triple roots are caught; distinct roots that close have derivatives too large to trust."""
    tol = np.finfo(r.dtype).eps ** 0.25
    gap = np.where(np.eye(len(r), dtype=bool), np.inf, np.abs(r[:, None] - r[None, :]))
    scale = np.maximum(np.maximum(np.abs(r)[:, None], np.abs(r)[None, :]), 1.0)
    if np.any(gap <= tol * scale):
        raise NonDifferentiableError(
            f"np.roots: repeated roots (two roots within {tol:.1e} of each other, relative), "
            "where each root is not differentiable (p'(r) = 0); symmetric functions of a "
            "cluster of roots (their sum, the coefficients) are, and can be computed from the "
            "polynomial directly")


roots_p.jvp = _roots_jvp
roots_p.batch = lambda args, batched, *, leading_zeros: traced_numpy().stack(
    [roots_p.bind(args[0][i], leading_zeros=leading_zeros) for i in range(args[0].shape[0])])


def _torch_roots(p, *, leading_zeros):
    """np.roots' algorithm on torch: the eigenvalues of the companion matrix of p without its
    leading and trailing zeros (where the nonzero coefficients are is read on the host), then
    a zero root per trailing zero. torch.linalg.eigvals is LAPACK's geev, as NumPy's eigvals,
    so the roots come in NumPy's order (to rounding)."""
    import torch  # lazy: only torch tensors come here
    dtype = torch.complex64 if p.dtype in (torch.float32, torch.complex64) else torch.complex128
    nonzero = np.flatnonzero(to_host(p != 0))
    size = p.shape[0] - leading_zeros - 1
    if len(nonzero) < 2:
        return torch.zeros(size, dtype=dtype, device=p.device)
    p = p[nonzero[0]:nonzero[-1] + 1]
    n = p.shape[0] - 1
    companion = torch.diag(torch.ones(n - 1, dtype=p.dtype, device=p.device), -1)
    companion[0, :] = -p[1:] / p[0]
    roots = torch.linalg.eigvals(companion).to(dtype)
    return torch.cat([roots, torch.zeros(size - n, dtype=dtype, device=p.device)])


# Other array libraries (core/backend.py): the standard's linalg extension where it has the
# function (its eigh reads the lower triangle, as UPLO="L" does); eig through each library's
# own.
def _triangle(xp, fn):
    """fn (which reads the lower triangle) reading the triangle UPLO names: the upper
    triangle of a is the lower one of its conjugate transpose (the same Hermitian matrix)."""
    def rule(a, *, UPLO):
        return fn(a if UPLO == "L" else xp.conj(xp.matrix_transpose(a)))
    return rule


def _torch_eig(a):
    import torch  # lazy: only torch tensors come here
    return list(torch.linalg.eig(a))


def _listed(fn, **kwargs):
    """fn's tuple of results as a list (multiple-result primitives return lists); fn is looked
    up when the back end is chosen, so a namespace without it raises BackendError then."""
    return lambda a: list(fn(a, **kwargs))


def _pinv_xp(xp):
    pinv = xp.linalg.pinv
    return lambda a, *, rcond, hermitian: pinv(
        a, rtol=float(rcond) if np.ndim(rcond) == 0 else xp.asarray(rcond))


inv_p.array_api = lambda xp: xp.linalg.inv
solve_p.array_api = lambda xp: xp.linalg.solve
det_p.array_api = lambda xp: xp.linalg.det
slogdet_p.array_api = lambda xp: _listed(xp.linalg.slogdet)
cholesky_p.array_api = lambda xp: xp.linalg.cholesky
qr_p.array_api = lambda xp: _listed(xp.linalg.qr)
svd_p.array_api = lambda xp: _listed(xp.linalg.svd, full_matrices=False)
svdvals_p.array_api = lambda xp: xp.linalg.svdvals
eigh_p.array_api = lambda xp: _triangle(xp, _listed(xp.linalg.eigh))
eigvalsh_p.array_api = lambda xp: _triangle(xp, xp.linalg.eigvalsh)
pinv_p.array_api = _pinv_xp
defbackend(eig_p, torch=_torch_eig)
defbackend(roots_p, torch=_torch_roots)
