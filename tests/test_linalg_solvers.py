"""frechet.linalg's solver objects: options they own (tol, maxiter, ridge), residual warnings,
NormalCG, Neumann's exact-sum convention, and every solver on SPD, non-symmetric and
ill-conditioned systems through frechet.linalg.solve."""

import numpy as np
import pytest

import frechet as fr
from frechet.linalg import (
    CG,
    GMRES,
    LSQR,
    BiCGStab,
    Cholesky,
    Dense,
    Neumann,
    NormalCG,
    solve,
)

RNG = np.random.default_rng(7)
M = RNG.standard_normal((6, 6))
SPD = M @ M.T + 6 * np.eye(6)
NONSYM = 5 * np.eye(6) + 0.6 * M
Q, _ = np.linalg.qr(RNG.standard_normal((6, 6)))
ILL = Q @ np.diag(np.logspace(0, -6, 6)) @ Q.T          # SPD, condition number 1e6
B = RNG.standard_normal(6)
C = RNG.standard_normal(6)

SOLVERS = {
    "dense": lambda tol: Dense(), "cholesky": lambda tol: Cholesky(),
    "cg": lambda tol: CG(tol=tol), "gmres": lambda tol: GMRES(tol=tol),
    "bicgstab": lambda tol: BiCGStab(tol=tol), "lsqr": lambda tol: LSQR(tol=tol),
    "normal_cg": lambda tol: NormalCG(tol=tol, maxiter=2000),
    "neumann": lambda tol: Neumann(3000, alpha=1 / np.linalg.norm(SPD, 2), tol=tol),
}
SPD_ONLY = {"cholesky", "cg"}


def _cases():
    for name in SOLVERS:
        for system in ("spd", "nonsym", "ill"):
            if system == "nonsym" and name in SPD_ONLY:
                continue
            if system == "ill" and name == "neumann":    # 1e6 steps: not a case for Neumann
                continue
            yield name, system


@pytest.mark.parametrize("name, system", list(_cases()))
def test_every_solver_directly(name, system):
    A = {"spd": SPD, "nonsym": NONSYM, "ill": ILL}[system]
    ill = system == "ill"
    solver = SOLVERS[name](1e-10 if ill else 1e-13)
    rtol = 1e-4 if ill else 1e-9
    x = solve(A, B, solver)
    want = np.linalg.solve(A, B)
    np.testing.assert_allclose(x, want, rtol=rtol, atol=rtol * np.abs(want).max())
    # as a function of v too (the matrix formed from its action where the solver needs one)
    np.testing.assert_allclose(solve(lambda v: A @ v, B, solver), want, rtol=rtol,
                               atol=rtol * np.abs(want).max())
    # reverse mode: a solve with A^T; and the derivative in A
    g = fr.grad(lambda b: C @ solve(A, b, solver))(B)
    gw = np.linalg.solve(A.T, C)
    np.testing.assert_allclose(g, gw, rtol=rtol, atol=rtol * np.abs(gw).max())
    gA = fr.grad(lambda a: C @ solve(a, B, solver))(A)
    np.testing.assert_allclose(gA, -np.outer(gw, want), rtol=rtol,
                               atol=rtol * np.abs(gw).max() * np.abs(want).max())


def test_cg_takes_tol_and_translates_it_for_scipy():
    # formerly CG(tol=...) reached SciPy, which renamed tol to rtol: a TypeError
    x = solve(SPD, B, CG(tol=1e-12))
    np.testing.assert_allclose(SPD @ x, B, rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(solve(SPD, B, CG(rtol=1e-12)), x, rtol=1e-9)   # SciPy's name
    with pytest.raises(TypeError, match="pass tol or its alias rtol, not both"):
        CG(tol=1e-8, rtol=1e-8)
    np.testing.assert_allclose(solve(NONSYM, B, GMRES(tol=1e-12, maxiter=60, restart=3)),
                               np.linalg.solve(NONSYM, B), rtol=1e-9)
    with pytest.raises(ValueError, match="pass maxiter as a positive integer"):
        CG(maxiter=0)
    with pytest.raises(ValueError, match="pass tol as a non-negative number"):
        GMRES(tol=-1.0)
    assert repr(CG(tol=1e-8)) == "CG(tol=1e-08, maxiter=None, ridge=0.0)"


def test_truncated_krylov_runs_maxiter_steps_without_a_warning():
    # a fixed number of iterations by design (truncated hypergradients): k CG steps on SPD,
    # the same iterate as SciPy's, no warning; non-finite results still warn
    import warnings

    import scipy.sparse.linalg as spla
    for k in (1, 2, 3):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            x = solve(SPD, B, CG(maxiter=k, truncated=True))
        want = spla.cg(SPD, B, rtol=1e-10, maxiter=k)[0]
        np.testing.assert_allclose(x, want, rtol=1e-12)
        assert np.linalg.norm(SPD @ x - B) > 1e-8 * np.linalg.norm(B)     # stopped short
    assert repr(CG(maxiter=3, truncated=True)).endswith("truncated=True)")
    with pytest.raises(ValueError, match="pass maxiter"):
        CG(truncated=True)
    with pytest.warns(RuntimeWarning, match="non-finite"):
        solve(np.full((2, 2), np.nan), np.ones(2), CG(maxiter=2, truncated=True))


def test_non_convergence_warns_naming_the_residual():
    with pytest.warns(RuntimeWarning, match=r"CG\(.*\) did not converge: relative residual"):
        solve(SPD, B, CG(tol=1e-12, maxiter=1))
    with pytest.warns(RuntimeWarning, match=r"GMRES\(.*\) did not converge: relative residual"):
        solve(NONSYM, B, GMRES(tol=1e-12, maxiter=1, restart=1))
    with pytest.warns(RuntimeWarning, match=r"NormalCG\(.*\) did not converge: relative resid"):
        solve(NONSYM, B, NormalCG(tol=1e-12, maxiter=1))
    with pytest.warns(RuntimeWarning, match=r"LSQR\(.*\) did not converge: relative residual"):
        solve(NONSYM, B, LSQR(tol=1e-12, maxiter=1))
    with pytest.warns(RuntimeWarning, match=r"Neumann\(.*\) did not converge: relative resid"):
        solve(SPD, B, Neumann(2, alpha=0.01, tol=1e-8))
    with pytest.warns(RuntimeWarning, match=r"Neumann\(.*\) diverges: relative residual"):
        solve(SPD, B, Neumann(20, alpha=1.0))      # alpha > 2 / lambda_max
    singular = np.diag([1.0, 1.0, 1.0, 1.0, 1.0, 1e-17])
    with pytest.warns(RuntimeWarning, match=r"Dense\(.*\) did not converge: relative residual"):
        solve(singular @ NONSYM, B, Dense())


@pytest.mark.parametrize("k, alpha", [(1, 0.05), (3, 0.05), (10, 0.02)])
def test_neumann_returns_the_exact_truncated_sum(k, alpha):
    want = alpha * sum(np.linalg.matrix_power(np.eye(6) - alpha * NONSYM, j) @ B
                       for j in range(k))
    np.testing.assert_allclose(solve(NONSYM, B, Neumann(k, alpha)), want, rtol=1e-13)
    np.testing.assert_allclose(solve(lambda v: NONSYM @ v, B, Neumann(k, alpha)), want,
                               rtol=1e-13)
    # its transpose (reverse mode) is the same sum with A^T: the exact adjoint of the truncation
    want_t = alpha * sum(np.linalg.matrix_power(np.eye(6) - alpha * NONSYM.T, j) @ C
                         for j in range(k))
    np.testing.assert_allclose(fr.grad(lambda b: C @ solve(NONSYM, b, Neumann(k, alpha)))(B),
                               want_t, rtol=1e-13)
    with pytest.raises(ValueError, match="pass maxiter, the number of terms"):
        Neumann(None)


def test_ridge_shifts_every_solver():
    want = np.linalg.solve(NONSYM + 0.5 * np.eye(6), B)
    for solver in (Dense(ridge=0.5), GMRES(tol=1e-13, ridge=0.5), LSQR(ridge=0.5),
                   NormalCG(tol=1e-13, ridge=0.5), BiCGStab(tol=1e-13, ridge=0.5)):
        np.testing.assert_allclose(solve(NONSYM, B, solver), want, rtol=1e-9, err_msg=repr(solver))
        np.testing.assert_allclose(solve(lambda v: NONSYM @ v, B, solver), want, rtol=1e-9)
    want = np.linalg.solve(SPD + 0.5 * np.eye(6), B)
    for solver in (Cholesky(ridge=0.5), CG(tol=1e-13, ridge=0.5)):
        np.testing.assert_allclose(solve(SPD, B, solver), want, rtol=1e-9)
    g = fr.grad(lambda b: C @ solve(NONSYM, b, Dense(ridge=0.5)))(B)
    np.testing.assert_allclose(g, np.linalg.solve(NONSYM.T + 0.5 * np.eye(6), C), rtol=1e-12)
