"""Solver objects for frechet.linalg.solve: each owns its options (`tol`, `maxiter`, `ridge`,
and a few of its own) and translates them for the library that does the work.

A solver is called as solver(op, b, matrix, ops): op a SciPy LinearOperator for A (a
solver_ops.Operator for another library's arrays), b a vector (or, for solvers with
`columns = False`, a matrix of right-hand sides), matrix() the matrix itself (formed once, from
op when A was given by its action), ops the vector operations of b's library (solver_ops.py:
NumPy's by default; elsewhere krylov.py replaces SciPy's Krylov solvers). Every solver solves
(A + ridge I) x = b, checks the relative residual ||(A + ridge I) x - b|| / ||b|| against `tol`
afterwards, and warns, naming the residual, when it is not met. The solvers are never
differentiated: linear_solve's rules differentiate the solution itself (see linear_solve.py).
"""

from __future__ import annotations

import inspect

import numpy as np

from frechet._src.lax import krylov
from frechet._src.lax.solver_ops import NUMPY, Operator
from frechet._src.warn import warn


class Solver:
    """Abstract: the options every solver takes and the residual check after each solve."""

    columns = True      # takes one right-hand side at a time
    _default_tol = 1e-10

    def __init__(self, tol=None, maxiter=None, ridge=0.0):
        tol = self._default_tol if tol is None else tol
        if not (isinstance(tol, (int, float)) and tol >= 0):
            raise ValueError(f"pass tol as a non-negative number (a relative residual); got {tol!r}")
        if maxiter is not None and (int(maxiter) != maxiter or maxiter < 1):
            raise ValueError(f"pass maxiter as a positive integer or None; got {maxiter!r}")
        self.tol = float(tol)
        self.maxiter = None if maxiter is None else int(maxiter)
        self.ridge = ridge

    def __call__(self, op, b, matrix, ops=NUMPY):
        op, matrix = _with_ridge(op, matrix, self.ridge, ops)
        x = self._solve(op, b, matrix, ops)
        self._check(op, b, x, matrix, ops)
        return x

    def _solve(self, op, b, matrix, ops):
        raise NotImplementedError

    def _residual(self, op, b, x, matrix, ops):
        ax = (matrix() @ x) if not self.columns else op.matvec(x).reshape(b.shape)
        scale = ops.norm(b)
        r = ops.norm(ops.asarray(ax) - b)
        return r / scale if scale > 0 else r

    def _check(self, op, b, x, matrix, ops):
        if not ops.all(ops.isfinite(x)):
            warn(f"{self!r} returned non-finite values: the system is singular or the "
                 f"iteration diverged; add ridge= or choose another solver")
            return
        res = self._residual(op, b, x, matrix, ops)
        if res > self._allowed():
            warn(f"{self!r} did not converge: relative residual {float(res):.3g} > tol "
                 f"{self.tol:.3g}; raise maxiter, add ridge=, or choose another solver")

    def _allowed(self):
        # SciPy measures its own (sometimes preconditioned or recursively updated) residual;
        # the true one may exceed tol by rounding, hence the factor
        return 10 * self.tol

    def _options(self):
        return {"tol": self.tol, "maxiter": self.maxiter, "ridge": self.ridge}

    def __repr__(self):
        opts = ", ".join(f"{k}={v!r}" for k, v in self._options().items())
        return f"{type(self).__name__}({opts})"


def _with_ridge(op, matrix, ridge, ops):
    """op and matrix for A + ridge I (unchanged when ridge is 0)."""
    if not ridge:
        return op, matrix
    import functools
    n = op.shape[0]
    if ops is not NUMPY:
        # Python numbers: a NumPy scalar would take another library's array to NumPy
        ridge = complex(ridge) if np.iscomplexobj(ridge) else float(ridge)

        @functools.cache
        def shifted_array():
            m = matrix()
            return m + ridge * ops.eye(n, m.dtype)
        return Operator(n, lambda v: op.matvec(v) + ridge * v,
                        lambda w: op.rmatvec(w) + ridge.conjugate() * w), shifted_array

    from scipy.sparse.linalg import LinearOperator
    shifted = LinearOperator(op.shape, dtype=op.dtype,
                             matvec=lambda v: op.matvec(v) + ridge * v.reshape(n),
                             rmatvec=lambda w: op.rmatvec(w) + np.conj(ridge) * w.reshape(n))

    @functools.cache
    def shifted_matrix():
        import scipy.sparse as sp
        m = matrix()
        return (m + ridge * sp.eye_array(n, dtype=m.dtype, format=m.format)
                if sp.issparse(m) else m + ridge * np.eye(n, dtype=m.dtype))
    return shifted, shifted_matrix


def _dense(m):
    return m.toarray() if hasattr(m, "toarray") else m


# ---- direct solvers ------------------------------------------------------------------------------

class _Direct(Solver):
    """A direct solve; `maxiter` is accepted (every solver takes it) and unused."""

    columns = False
    _default_tol = 1e-6

    def _options(self):
        return {"tol": self.tol, "ridge": self.ridge}

    def _allowed(self):
        return self.tol


class Dense(_Direct):
    """np.linalg.solve on the matrix (formed from its action when it is not an array).

    Args:
      tol: the relative residual above which a warning says the system is (nearly) singular.
      maxiter: unused (a direct solve has no iterations).
      ridge: solve (A + ridge I) x = b.
    """

    def _solve(self, op, b, matrix, ops):
        return ops.solve(_dense(matrix()), b)


class Cholesky(_Direct):
    """scipy.linalg.cho_factor/cho_solve: A symmetric (Hermitian) positive definite.

    Args: as Dense.
    """

    def _solve(self, op, b, matrix, ops):
        if ops is not NUMPY:
            # Note: the standard has no triangular solve: both factors go through solve
            low = ops.xp.linalg.cholesky(matrix())
            return ops.solve(ops.conj(ops.xp.matrix_transpose(low)), ops.solve(low, b))
        import scipy.linalg as sla
        return sla.cho_solve(sla.cho_factor(_dense(matrix())), b)


class SparseDirect(_Direct):
    """scipy.sparse.linalg.spsolve on a sparse matrix (frechet.scipy.sparse.linalg.spsolve).

    Args: as Dense.
    """

    def _solve(self, op, b, matrix, ops):      # NumPy's only (linear_solve raises elsewhere)
        import scipy.sparse.linalg as spla
        return spla.spsolve(matrix(), b)


# ---- SciPy's Krylov solvers ----------------------------------------------------------------------

class _Scipy(Solver):
    name = ""

    def __init__(self, tol=None, maxiter=None, ridge=0.0, *, atol=0.0, M=None, rtol=None,
                 truncated=False):
        # Note: `rtol` is SciPy's name for `tol`, accepted as an alias
        if rtol is not None:
            if tol is not None:
                raise TypeError(f"{type(self).__name__}: pass tol or its alias rtol, not both")
            tol = rtol
        if truncated and maxiter is None:
            raise ValueError(f"{type(self).__name__}(truncated=True) runs maxiter iterations: "
                             "pass maxiter")
        super().__init__(tol, maxiter, ridge)
        self.atol, self.M = atol, M
        # a fixed number of iterations (truncated hypergradients, Betty's cg_iterations): no
        # warning when they stop short of tol, only when they return non-finite values
        self.truncated = bool(truncated)

    def _scipy_options(self, n):
        """SciPy's keywords (also those of krylov.py's solver of the same name)."""
        return {"rtol": self.tol, "atol": self.atol, "maxiter": self.maxiter, "M": self.M}

    def _solve(self, op, b, matrix, ops):
        options = self._scipy_options(b.shape[0])
        if ops is not NUMPY:
            return getattr(krylov, self.name)(ops, op, b, **options)
        import scipy.sparse.linalg as spla
        fn = getattr(spla, self.name)
        # SciPy renamed `tol` to `rtol` in 1.12 (and removed `tol` in 1.14)
        if "rtol" not in inspect.signature(fn).parameters:
            options["tol"] = options.pop("rtol")
        x, _ = fn(op, b, **options)
        return x

    def _allowed(self):
        return 10 * self.tol

    def _check(self, op, b, x, matrix, ops):
        if self.truncated:
            if not ops.all(ops.isfinite(x)):
                super()._check(op, b, x, matrix, ops)
            return
        scale = ops.norm(b)
        if self.atol and scale > 0 and ops.all(ops.isfinite(x)) and \
                ops.norm(op.matvec(x) - b) <= 10 * self.atol:
            return
        super()._check(op, b, x, matrix, ops)

    def _options(self):
        out = super()._options()
        if self.atol:
            out["atol"] = self.atol
        if self.truncated:
            out["truncated"] = True
        return out


class CG(_Scipy):
    """scipy.sparse.linalg.cg: A symmetric (Hermitian) positive definite.

    Args:
      tol: relative residual to reach (SciPy's `rtol`; `rtol=` is accepted as an alias).
      maxiter: at most this many iterations (None: SciPy's default, 10 n).
      ridge: solve (A + ridge I) x = b.
      atol: absolute residual that also counts as converged.
      M: a preconditioner (SciPy's `M`, an approximation of A^-1).
      truncated: run maxiter iterations as an approximation by design (a truncated
        hypergradient): no warning when they stop short of tol.
    """
    name = "cg"


class BiCGStab(_Scipy):
    """scipy.sparse.linalg.bicgstab: A square, any. Args as CG."""
    name = "bicgstab"


class GMRES(_Scipy):
    """scipy.sparse.linalg.gmres: A square, any.

    Args:
      tol, ridge, atol, M: as CG.
      maxiter: at most this many iterations in all (SciPy counts restart cycles; frechet
        converts). None: SciPy's default.
      restart: the Krylov dimension between restarts (SciPy's default, 20, when None).
    """
    name = "gmres"

    def __init__(self, tol=None, maxiter=None, ridge=0.0, *, atol=0.0, M=None, rtol=None,
                 restart=None, truncated=False):
        super().__init__(tol, maxiter, ridge, atol=atol, M=M, rtol=rtol, truncated=truncated)
        self.restart = restart

    def _scipy_options(self, n):
        options = super()._scipy_options(n)
        restart = min(self.restart or 20, n)
        options["restart"] = restart
        if self.maxiter is not None:     # SciPy's maxiter counts restart cycles
            options["maxiter"] = -(-self.maxiter // restart)
        return options


class LSQR(Solver):
    """scipy.sparse.linalg.lsqr (uses A^T too).

    Args:
      tol: relative residual to reach (LSQR's btol; its atol, the least-squares stopping test,
        is 0, so that tol means the residual of A x = b, as for the other solvers).
      maxiter: at most this many iterations (LSQR's iter_lim; None: 10 n).
      ridge: solve (A + ridge I) x = b.
    """

    _default_tol = 1e-12

    def _solve(self, op, b, matrix, ops):
        iter_lim = self.maxiter or 10 * b.shape[0]
        if ops is not NUMPY:
            return krylov.lsqr(ops, op, b, btol=self.tol, iter_lim=iter_lim)
        import scipy.sparse.linalg as spla
        return spla.lsqr(op, b, atol=0.0, btol=self.tol, iter_lim=iter_lim)[0]


# ---- solvers written here ------------------------------------------------------------------------

class NormalCG(Solver):
    """Conjugate gradients on the normal equations A^H A x = A^H b (CGNR), for A square and not
    symmetric. It tracks the residual b - A x of the system itself and stops when
    ||b - A x|| <= tol ||b||.

    Args:
      tol: relative residual to reach.
      maxiter: at most this many iterations (None: 10 n).
      ridge: solve (A + ridge I) x = b (Note: the shift is on A, not on A^H A as in jaxopt).
    """

    def _solve(self, op, b, matrix, ops):
        n = b.shape[0]
        x = ops.zeros_like(b)
        r = b                   # (no update is in place)
        z = op.rmatvec(r)
        p = z
        zz = ops.real(ops.vdot(z, z))
        stop = self.tol * ops.norm(b)
        for _ in range(self.maxiter or 10 * n):
            if ops.norm(r) <= stop or zz == 0:
                break
            w = op.matvec(p)
            step = zz / ops.real(ops.vdot(w, w))
            x = x + step * p
            r = r - step * w
            z = op.rmatvec(r)
            zz, zz_old = ops.real(ops.vdot(z, z)), zz
            p = z + (zz / zz_old) * p
        return x

    def _allowed(self):
        return 10 * self.tol


class Neumann(Solver):
    """The fixed-point iteration v_{k+1} = v_k - alpha (A v_k - b) from v_0 = 0, needing only
    products with A: after `maxiter` steps it returns

        alpha * sum_{j < maxiter} (I - alpha A)^j b,

    the truncated Neumann series of A^-1 b (maxiter terms; maxiter = 1 gives alpha b). On the
    system (I - dT/dsol) v = b of a fixed point sol = T(sol) with alpha = 1, this is FPAD:
    maxiter steps of the fixed-point map's derivative. It converges when the spectral radius
    of I - alpha A is below one (for A symmetric positive definite: 0 < alpha < 2 / lambda_max).

    Args:
      maxiter: the number of steps (terms of the series), at least 1.
      alpha: the step.
      tol: None (default) runs exactly maxiter steps and warns only when the iteration grows
        (relative residual above 1: the series diverges); a number stops early once the
        relative residual is below it, and warns when maxiter steps do not reach it.
      ridge: iterate on A + ridge I.
    """

    def __init__(self, maxiter, alpha=1.0, tol=None, ridge=0.0):
        if maxiter is None:
            raise ValueError("pass maxiter, the number of terms of the series (at least 1)")
        super().__init__(0.0 if tol is None else tol, maxiter, ridge)
        self.truncate = tol is None
        self.alpha = alpha

    def _solve(self, op, b, matrix, ops):
        v = ops.zeros_like(b)
        stop = self.tol * ops.norm(b)
        for _ in range(self.maxiter):
            r = op.matvec(v) - b
            if not self.truncate and ops.norm(r) <= stop:
                break
            v = v - self.alpha * r
        return v

    def _allowed(self):
        return 1.0 if self.truncate else 10 * self.tol

    def _check(self, op, b, x, matrix, ops):
        if not ops.all(ops.isfinite(x)):
            return super()._check(op, b, x, matrix, ops)
        res = self._residual(op, b, x, matrix, ops)
        if self.truncate and res > 1.0:
            warn(f"{self!r} diverges: relative residual {float(res):.3g} after {self.maxiter} "
                 f"steps (> 1); the series converges when the spectral radius of I - alpha A is "
                 f"below 1: lower alpha (below 2 / largest eigenvalue of A)")
        elif not self.truncate and res > self._allowed():
            warn(f"{self!r} did not converge: relative residual {float(res):.3g} > tol "
                 f"{self.tol:.3g}; raise maxiter or lower alpha")

    def _options(self):
        out = {"maxiter": self.maxiter, "alpha": self.alpha}
        if not self.truncate:
            out["tol"] = self.tol
        if self.ridge:
            out["ridge"] = self.ridge
        return out
