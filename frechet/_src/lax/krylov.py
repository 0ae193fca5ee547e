"""Krylov solvers on another array library's vectors (ArrayOps, solver_ops.py), for
frechet.linalg's CG, BiCGStab, GMRES and LSQR when b is not a NumPy array.

The NumPy path calls SciPy's solvers; these follow SciPy 1.17's scipy.sparse.linalg
(_isolve/iterative.py, _isolve/lsqr.py) step for step: the same starting point (x0 = 0), the
same stopping tests (||r|| < max(atol, rtol ||b||), SciPy's breakdown tests, GMRES's inner
tolerance control from gh-8400, LSQR's istop tests) and the same default iteration limits, so
that a solver's options mean the same on both paths. Vectors stay in their library; the
scalars a test or a small recurrence reads (norms, dot products, GMRES's Hessenberg matrix
and Givens rotations, LSQR's recurrences) are read on the host, as SciPy reads them.

Algorithms: conjugate gradients, Hestenes and Stiefel (1952); BiCGStab, van der Vorst (1992);
restarted GMRES with modified Gram-Schmidt Arnoldi and Givens rotations on the Hessenberg
matrix, Saad and Schultz (1986), Saad, "Iterative Methods for Sparse Linear Systems" (2003),
Algorithm 6.9 and section 6.5.3; LSQR, Paige and Saunders (1982), ACM TOMS 8(1), 43-71.
"""

from __future__ import annotations

import math

from frechet._src.errors import BackendError


def preconditioner(ops, M):
    """v -> M v for a preconditioner given as a function or an array of b's library."""
    if M is None:
        return lambda v: v
    if hasattr(M, "matvec") or hasattr(M, "toarray") or type(M).__module__ == "numpy":
        raise BackendError(
            f"pass M as a function v -> M v or as an array of b's library: a "
            f"{type(M).__name__} (SciPy's or NumPy's) computes on NumPy arrays only")
    if callable(M):
        return M
    return lambda v: M @ v


def _start(ops, b, rtol, atol, maxiter):
    """(||b||, the absolute tolerance, the iteration limit), as SciPy's _get_atol_rtol."""
    bnrm2 = float(ops.norm(b))
    return bnrm2, max(float(atol), float(rtol) * bnrm2), \
        b.shape[0] * 10 if maxiter is None else maxiter


def cg(ops, op, b, *, rtol, atol, maxiter, M):
    """Conjugate gradients from x0 = 0 (scipy.sparse.linalg.cg)."""
    bnrm2, atol, maxiter = _start(ops, b, rtol, atol, maxiter)
    if bnrm2 == 0:
        return b
    psolve = preconditioner(ops, M)
    x, r, p, rho_prev = ops.zeros_like(b), b, None, None
    for iteration in range(maxiter):
        if ops.norm(r) < atol:
            return x
        z = psolve(r)
        rho = ops.vdot(r, z)
        p = z if iteration == 0 else (rho / rho_prev) * p + z
        q = op.matvec(p)
        alpha = rho / ops.vdot(p, q)
        x = x + alpha * p
        r = r - alpha * q
        rho_prev = rho
    return x


def bicgstab(ops, op, b, *, rtol, atol, maxiter, M):
    """BiCGStab from x0 = 0 (scipy.sparse.linalg.bicgstab, its breakdown tests included)."""
    bnrm2, atol, maxiter = _start(ops, b, rtol, atol, maxiter)
    if bnrm2 == 0:
        return b
    psolve = preconditioner(ops, M)
    xp = ops.xp
    breakdown = ops.eps ** 2          # SciPy's rhotol and omegatol
    x, r = ops.zeros_like(b), b
    rtilde, p, v, rho_prev, omega, alpha = r, None, None, None, None, None
    for iteration in range(maxiter):
        if ops.norm(r) < atol:
            return x
        rho = ops.vdot(rtilde, r)
        if xp.abs(rho) < breakdown:
            return x
        if iteration > 0:
            if xp.abs(omega) < breakdown:
                return x
            p = ((rho / rho_prev) * (alpha / omega)) * (p - omega * v) + r
        else:
            p = r
        phat = psolve(p)
        v = op.matvec(phat)
        rv = ops.vdot(rtilde, v)
        if rv == 0:
            return x
        alpha = rho / rv
        r = r - alpha * v
        if ops.norm(r) < atol:
            return x + alpha * phat
        shat = psolve(r)
        t = op.matvec(shat)
        omega = ops.vdot(t, r) / ops.vdot(t, t)
        x = x + alpha * phat + omega * shat
        r = r - omega * t
        rho_prev = rho
    return x


def _givens(f, g):
    """(c, s, r), c real, with [[c, s], [-conj(s), c]] @ [f, g] = [r, 0] (LAPACK's lartg)."""
    if g == 0:
        return 1.0, 0.0, f
    if f == 0:
        return 0.0, g.conjugate() / abs(g), abs(g)
    d = math.hypot(abs(f), abs(g))
    phase = f / abs(f)
    return abs(f) / d, phase * g.conjugate() / d, phase * d


def _arnoldi_cycle(ops, op, psolve, r, restart, ptol):
    """One GMRES cycle from residual r: (the correction, its residual estimate, whether the
    Krylov space broke down)."""
    z = psolve(r)
    beta = float(ops.norm(z))
    vs = [z * (1 / beta)]
    h = [[0.0] * (restart + 1) for _ in range(restart)]     # h[col][row], as SciPy's
    givens, s_rhs = [], [beta] + [0.0] * restart
    breakdown, presid, col = False, 0.0, 0
    for col in range(restart):
        w = psolve(op.matvec(vs[col]))
        h0 = float(ops.norm(w))
        for k in range(col + 1):            # modified Gram-Schmidt
            hk = ops.scalar(ops.vdot(vs[k], w))
            h[col][k] = hk
            w = w - hk * vs[k]
        h1 = float(ops.norm(w))
        h[col][col + 1] = h1
        if h1 <= ops.eps * h0:              # the Krylov space is invariant: exact solution
            h[col][col + 1] = 0.0
            breakdown = True
            vs.append(w)
        else:
            vs.append(w * (1 / h1))
        for k, (c, s) in enumerate(givens):
            n0, n1 = h[col][k], h[col][k + 1]
            h[col][k], h[col][k + 1] = c * n0 + s * n1, -s.conjugate() * n0 + c * n1
        c, s, mag = _givens(h[col][col], h[col][col + 1])
        givens.append((c, s))
        h[col][col], h[col][col + 1] = mag, 0.0
        tmp = -s.conjugate() * s_rhs[col]
        s_rhs[col], s_rhs[col + 1] = c * s_rhs[col], tmp
        presid = abs(tmp)
        if presid <= ptol or breakdown:
            break
    if h[col][col] == 0:
        s_rhs[col] = 0.0
    y = s_rhs[:col + 1]                     # back substitution, a zero pivot skipped as SciPy's
    for k in range(col, -1, -1):
        if y[k] != 0:
            y[k] /= h[k][k]
            for i in range(k):
                y[i] -= y[k] * h[k][i]
    dx = sum((yk * vk for yk, vk in zip(y[1:], vs[1:])), y[0] * vs[0])
    return dx, presid, breakdown


def gmres(ops, op, b, *, rtol, atol, maxiter, M, restart):
    """Restarted GMRES from x0 = 0 (scipy.sparse.linalg.gmres; maxiter counts cycles)."""
    bnrm2, atol, maxiter = _start(ops, b, rtol, atol, maxiter)
    if bnrm2 == 0:
        return b
    psolve = preconditioner(ops, M)
    restart = min(20 if restart is None else restart, b.shape[0])
    ptol_max_factor = 1.0
    ptol = float(ops.norm(psolve(b))) * min(ptol_max_factor, atol / bnrm2)
    x, r = ops.zeros_like(b), b
    if float(ops.norm(r)) < atol:
        return x
    for _ in range(maxiter):
        dx, presid, breakdown = _arnoldi_cycle(ops, op, psolve, r, restart, ptol)
        x = x + dx
        r = b - op.matvec(x)
        rnorm = float(ops.norm(r))
        if rnorm <= atol or breakdown:
            break
        if presid <= ptol:          # the inner loop converged, the outer did not
            ptol_max_factor = max(ops.eps, 0.25 * ptol_max_factor)
        else:
            ptol_max_factor = min(1.0, 1.5 * ptol_max_factor)
        ptol = presid * min(ptol_max_factor, atol / rnorm)
    return x


def _sym_ortho(a, b):
    """SciPy's lsqr._sym_ortho: a stable Givens rotation (c, s, r) of real a, b."""
    if b == 0:
        return math.copysign(1.0, a) if a else 0.0, 0.0, abs(a)
    if a == 0:
        return 0.0, math.copysign(1.0, b), abs(b)
    if abs(b) > abs(a):
        tau = a / b
        s = math.copysign(1.0, b) / math.sqrt(1 + tau * tau)
        return s * tau, s, b / s
    tau = b / a
    c = math.copysign(1.0, a) / math.sqrt(1 + tau * tau)
    return c, c * tau, a / c


def lsqr(ops, op, b, *, btol, iter_lim, atol=0.0, conlim=1e8):
    """LSQR from x0 = 0 with damp = 0 (scipy.sparse.linalg.lsqr and its istop tests)."""
    eps = 2.220446049250313e-16         # SciPy's lsqr uses float64's eps for every dtype
    ctol = 1 / conlim if conlim > 0 else 0
    anorm = ddnorm = res2 = xxnorm = z = sn2 = 0.0
    cs2 = -1.0
    bnorm = beta = float(ops.norm(b))
    x, u = ops.zeros_like(b), b
    if beta > 0:
        u = (1 / beta) * u
        v = op.rmatvec(u)
        alfa = float(ops.norm(v))
    else:
        v, alfa = x, 0.0
    if alfa > 0:
        v = (1 / alfa) * v
    w, rhobar, phibar = v, alfa, beta
    if alfa * beta == 0:
        return x
    for itn in range(1, iter_lim + 1):
        u = op.matvec(v) - alfa * u
        beta = float(ops.norm(u))
        if beta > 0:
            u = (1 / beta) * u
            anorm = math.sqrt(anorm ** 2 + alfa ** 2 + beta ** 2)
            v = op.rmatvec(u) - beta * v
            alfa = float(ops.norm(v))
            if alfa > 0:
                v = (1 / alfa) * v
        cs, sn, rho = _sym_ortho(rhobar, beta)
        theta, rhobar = sn * alfa, -cs * alfa
        phi, phibar = cs * phibar, sn * phibar
        tau = sn * phi
        dk = (1 / rho) * w
        x = x + (phi / rho) * w
        w = v + (-theta / rho) * w
        ddnorm += float(ops.norm(dk)) ** 2
        delta, gambar = sn2 * rho, -cs2 * rho
        rhs = phi - delta * z
        zbar = rhs / gambar
        xnorm = math.sqrt(xxnorm + zbar ** 2)
        gamma = math.sqrt(gambar ** 2 + theta ** 2)
        cs2, sn2, z = gambar / gamma, theta / gamma, rhs / gamma
        xxnorm += z ** 2
        acond = anorm * math.sqrt(ddnorm)
        rnorm = math.sqrt(phibar ** 2 + res2)
        arnorm = alfa * abs(tau)
        test1 = rnorm / bnorm
        test2 = arnorm / (anorm * rnorm + eps)
        test3 = 1 / (acond + eps)
        t1 = test1 / (1 + anorm * xnorm / bnorm)
        rtol = btol + atol * anorm * xnorm / bnorm
        if (itn >= iter_lim or 1 + test3 <= 1 or 1 + test2 <= 1 or 1 + t1 <= 1
                or test3 <= ctol or test2 <= atol or test1 <= rtol):
            break
    return x
