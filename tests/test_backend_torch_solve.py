"""frechet.linalg.solve and frechet.implicit on PyTorch CPU tensors.

Every solver runs on float64 tensors that refuse conversion to NumPy (NoHost): its values and
derivatives must be tensors, computed by torch, and agree with the same code on NumPy arrays
(to a tolerance set by the solver's tol) and with closed forms (np.linalg.solve, the implicit
function theorem by hand). float32 stays float32; what stays NumPy's raises BackendError.
"""

import warnings

import numpy as np
import pytest

import frechet as fr
import frechet.implicit as fi
from frechet import linalg as la

torch = pytest.importorskip("torch")
from nohost import NoHost, nohost

_t = nohost


def _np(x):
    assert isinstance(x, torch.Tensor), f"a {type(x).__name__} came back"
    return x.as_subclass(torch.Tensor).detach().numpy()


RNG = np.random.default_rng(7)
N = 6
_G = RNG.standard_normal((N, N))
SPD = _G @ _G.T + N * np.eye(N)                        # symmetric positive definite
GENERAL = 4 * np.eye(N) + 0.6 * _G                     # non-symmetric, well conditioned
B = RNG.standard_normal(N)
COT = RNG.standard_normal(N)                           # a cotangent

# (solver, matrix it suits): every solver of frechet.linalg but SparseDirect
SOLVERS = {
    "dense": (la.Dense(), GENERAL),
    "cholesky": (la.Cholesky(), SPD),
    "cg": (la.CG(), SPD),
    "bicgstab": (la.BiCGStab(), GENERAL),
    "gmres": (la.GMRES(), GENERAL),
    "gmres_restarted": (la.GMRES(restart=2), GENERAL),
    "lsqr": (la.LSQR(), GENERAL),
    "normal_cg": (la.NormalCG(), GENERAL),
    "neumann": (la.Neumann(400, alpha=0.04, tol=1e-11), SPD),
    "cg_ridge": (la.CG(ridge=0.5), SPD),
    "dense_ridge": (la.Dense(ridge=0.25), GENERAL),
}


def _tol(solver):
    # the solvers stop at a relative residual of tol; on these well-conditioned systems
    # (condition number below 10) the error is within 100 tol of the solution's size
    return 100 * max(solver.tol, 1e-13)


def _solve(solver, form):
    """(A, b) -> A^-1 b, with A an array or a function v -> A v."""
    def f(a, b):
        return la.solve(a if form == "array" else (lambda v: a @ v), b, solver)
    return f


@pytest.mark.parametrize("form", ["array", "function"])
@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_solver_values_and_gradients_on_tensors(name, form):
    solver, a = SOLVERS[name]
    f = _solve(solver, form)
    shifted = a + solver.ridge * np.eye(N)
    x = np.linalg.solve(shifted, B)
    tol = _tol(solver) * np.linalg.norm(x)
    got = f(_t(a), _t(B))
    assert type(got) is NoHost and got.dtype == torch.float64
    np.testing.assert_allclose(_np(got), x, atol=tol)
    np.testing.assert_allclose(_np(got), f(a, B), atol=tol)
    # reverse mode: d/db <c, x> = A^-T c, d/dA <c, x> = -(A^-T c) x^T
    loss = fr.grad(lambda a, b: np.sum(COT * f(a, b)), argnums=(0, 1))
    ga, gb = loss(_t(a), _t(B))
    lam = np.linalg.solve(shifted.T, COT)
    np.testing.assert_allclose(_np(gb), lam, atol=tol * np.linalg.norm(lam))
    np.testing.assert_allclose(_np(ga), -np.outer(lam, x), atol=tol * np.linalg.norm(lam) * 10)
    want_a, want_b = loss(a, B)
    np.testing.assert_allclose(_np(gb), want_b, atol=tol * np.linalg.norm(lam))
    np.testing.assert_allclose(_np(ga), want_a, atol=tol * np.linalg.norm(lam) * 10)


@pytest.mark.parametrize("name", ["dense", "cg", "gmres", "bicgstab", "lsqr", "neumann"])
def test_solver_jvp_jacrev_vmap_and_jit_on_tensors(name):
    solver, a = SOLVERS[name]
    f = _solve(solver, "function")
    tol = _tol(solver) * 10
    inv = np.linalg.inv(a)
    da = RNG.standard_normal((N, N))
    x = inv @ B
    # forward mode: dx = A^-1 (db - dA x)
    _, tx = fr.jvp(f, (_t(a), _t(B)), (_t(da), _t(COT)))
    np.testing.assert_allclose(_np(tx), inv @ (COT - da @ x), atol=tol)
    jac = fr.jacrev(lambda b: f(_t(a), b))(_t(B))
    np.testing.assert_allclose(_np(jac), inv, atol=tol)
    bs = np.stack([B, COT])
    got = fr.vmap(lambda b: f(_t(a), b))(_t(bs))
    np.testing.assert_allclose(_np(got), bs @ inv.T, atol=tol)
    # d/db of <c, x^2> / 2 is A^-T (c * x)
    j = fr.jit(fr.grad(lambda b: np.sum(COT * f(_t(a), b) ** 2) / 2))
    for rhs in (B, 2 * B):          # the tracing call, then a replay of the generated code
        np.testing.assert_allclose(_np(j(_t(rhs))), inv.T @ (COT * (inv @ rhs)), atol=tol)
    assert j.trace_count == 1


@pytest.mark.parametrize("solver, a", [
    (la.CG(maxiter=3, truncated=True), SPD), (la.BiCGStab(maxiter=2, truncated=True), GENERAL),
    (la.GMRES(maxiter=3, restart=2, truncated=True), GENERAL), (la.LSQR(maxiter=3), GENERAL)],
    ids=["cg", "bicgstab", "gmres", "lsqr"])
def test_krylov_iterates_are_scipys(solver, a):
    """A few iterations, stopped short of convergence: the iterate on tensors is SciPy's
    (the same algorithm, start and iteration count), not merely another solution."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # LSQR: not converged, by design
        want = la.solve(a, B, solver)
        got = la.solve(_t(a), _t(B), solver)
    assert np.linalg.norm(want - np.linalg.solve(a, B)) > 1e-6      # truly stopped short
    np.testing.assert_allclose(_np(got), want, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", ["dense", "cg", "cholesky"])
def test_matrix_of_right_hand_sides(name):
    solver, a = SOLVERS[name]
    bs = np.stack([B, COT], axis=1)
    got = la.solve(_t(a), _t(bs), solver)
    np.testing.assert_allclose(_np(got), np.linalg.solve(a, bs), atol=_tol(solver) * 10)


@pytest.mark.parametrize("name", ["dense", "cg", "bicgstab", "gmres", "gmres_restarted", "lsqr",
                                  "normal_cg"])
def test_complex_systems(name):
    solver, a = SOLVERS[name]
    rng = np.random.default_rng(3)
    if name == "cg":        # Hermitian positive definite
        g = rng.standard_normal((N, N)) + 1j * rng.standard_normal((N, N))
        a = g @ g.conj().T + N * np.eye(N)
    else:
        a = a + 0.5j * rng.standard_normal((N, N))
    b = B + 1j * COT
    got = la.solve(_t(a), _t(b), solver)
    assert got.dtype == torch.complex128
    x = np.linalg.solve(a, b)
    np.testing.assert_allclose(_np(got), x, atol=_tol(solver) * np.linalg.norm(x))
    np.testing.assert_allclose(_np(got), la.solve(a, b, solver), atol=_tol(solver) * 10)


@pytest.mark.parametrize("name", ["dense", "cholesky", "cg", "gmres", "bicgstab", "lsqr"])
def test_float32_stays_float32(name):
    solver, a = SOLVERS[name]
    solver = type(solver)(tol=1e-5)
    g = fr.grad(lambda b: np.sum(COT * la.solve(_t(a, np.float32), b, solver)))(
        _t(B, np.float32))
    assert type(g) is NoHost and g.dtype == torch.float32
    np.testing.assert_allclose(_np(g), np.linalg.solve(a.T, COT), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["dense", "cg"])
def test_numpy_matrix_meets_a_tensor(name):
    """NumPy constants meeting a tensor are constants of torch (docs/backends.md)."""
    solver, a = SOLVERS[name]
    got = la.solve(a, _t(B), solver)
    assert type(got) is NoHost
    np.testing.assert_allclose(_np(got), np.linalg.solve(a, B), atol=_tol(solver))
    g = fr.grad(lambda b: np.sum(COT * la.solve(a, b, solver) ** 2) / 2)(_t(B))
    x = np.linalg.solve(a, B)
    np.testing.assert_allclose(_np(g), np.linalg.solve(a.T, COT * x), atol=_tol(solver) * 10)


def test_preconditioner_as_a_function_of_tensors():
    d = _t(1 / np.diag(SPD))
    steps = []

    def jacobi(v):
        steps.append(1)
        return d * v
    got = la.solve(_t(SPD), _t(B), la.CG(M=jacobi))
    assert steps, "the preconditioner was not applied"
    np.testing.assert_allclose(_np(got), np.linalg.solve(SPD, B), atol=1e-8)


def test_what_stays_numpy_raises_backend_error():
    sp = pytest.importorskip("scipy.sparse")
    spl = pytest.importorskip("scipy.sparse.linalg")
    with pytest.raises(fr.BackendError, match="SciPy sparse matrices and SparseDirect"):
        la.solve(sp.csr_array(SPD), _t(B), la.SparseDirect())
    op = spl.aslinearoperator(np.eye(N))
    with pytest.raises(fr.BackendError, match="computes on NumPy arrays only"):
        la.solve(_t(SPD), _t(B), la.CG(M=op))


def test_non_convergence_warns_on_tensors():
    with pytest.warns(RuntimeWarning, match="did not converge: relative residual"):
        la.solve(_t(GENERAL), _t(B), la.GMRES(maxiter=1, restart=1))


# frechet.implicit ----------------------------------------------------------------------------

def _cos_map(x, a):
    return a * np.cos(x)


@fi.custom_fixed_point(_cos_map)
def _iterate(x, a):
    for _ in range(200):
        x = _cos_map(x, a)
    return x


A_FP = np.array([0.5, 0.4, 0.3])


def _fixed_point_derivative(a):
    """dx/da of x = a cos(x), elementwise, by the implicit function theorem by hand."""
    x = A_FP
    for _ in range(200):
        x = a * np.cos(x)
    return x, np.cos(x) / (1 + a * np.sin(x))


@pytest.mark.parametrize("transform", ["value", "grad", "jit_grad", "jacrev", "jacfwd", "jvp",
                                       "vmap_grad", "hessian"])
def test_custom_fixed_point_on_tensors(transform):
    def sol(a):
        return _iterate(a * 0.0, a)

    def loss(a):
        return np.sum(sol(a))
    fn = {"value": sol, "grad": fr.grad(loss), "jit_grad": fr.jit(fr.grad(loss)),
          "jacrev": fr.jacrev(sol), "jacfwd": fr.jacfwd(sol),
          "jvp": lambda a: fr.jvp(sol, (a,), (a / a,))[1],
          "vmap_grad": lambda a: fr.vmap(fr.grad(loss))(a[None])[0],
          "hessian": fr.hessian(loss)}[transform]
    got = fn(_t(A_FP))
    assert type(got) is NoHost and got.dtype == torch.float64
    want = fn(A_FP)
    np.testing.assert_allclose(_np(got), want, rtol=1e-10, atol=1e-12)
    x, dx = _fixed_point_derivative(A_FP)
    closed = {"value": x, "grad": dx, "jit_grad": dx, "jacrev": np.diag(dx),
              "jacfwd": np.diag(dx), "jvp": dx, "vmap_grad": dx}.get(transform)
    if closed is not None:
        np.testing.assert_allclose(_np(got), closed, rtol=1e-10)
    if transform == "jit_grad":
        np.testing.assert_allclose(_np(fn(_t(0.9 * A_FP))), fn(0.9 * A_FP), rtol=1e-10)
        assert fn.trace_count == 2      # one trace for NumPy arrays, one for tensors


@pytest.mark.parametrize("solve", [la.Dense(), la.GMRES(tol=1e-12), la.BiCGStab(tol=1e-12),
                                   la.Neumann(60)])
def test_custom_fixed_point_linear_solvers_on_tensors(solve):
    @fi.custom_fixed_point(_cos_map, solve=solve)
    def iterate(x, a):
        for _ in range(200):
            x = _cos_map(x, a)
        return x
    g = fr.grad(lambda a: np.sum(iterate(a * 0.0, a)))(_t(A_FP))
    np.testing.assert_allclose(_np(g), _fixed_point_derivative(A_FP)[1], rtol=1e-9)


def test_float32_stays_float32_through_custom_fixed_point():
    g = fr.grad(lambda a: np.sum(_iterate(a * 0.0, a)))(_t(A_FP, np.float32))
    assert type(g) is NoHost and g.dtype == torch.float32
    np.testing.assert_allclose(_np(g), _fixed_point_derivative(A_FP)[1], rtol=1e-5)


def _ridge_grad(w, lam, X, y):
    return X.T @ (X @ w - y) + lam * w


@fi.custom_root(_ridge_grad, has_aux=True)
def _ridge(init, lam, X, y):        # NumPy code: on tensors it computes with torch
    w = np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)
    return w, np.sum((X @ w - y) ** 2)


X_R = RNG.standard_normal((8, 3))
Y_R = RNG.standard_normal(8)


def test_custom_root_on_tensors_with_tensor_data():
    def loss(lam, X, y):
        w, _ = _ridge(np.zeros(3), lam, X, y)
        return np.sum(COT[:3] * w)
    got = fr.grad(loss, argnums=(0, 1, 2))(_t(0.7), _t(X_R), _t(Y_R))
    want = fr.grad(loss, argnums=(0, 1, 2))(0.7, X_R, Y_R)
    for g, w in zip(got, want):
        assert type(g) is NoHost
        np.testing.assert_allclose(_np(g), w, rtol=1e-10, atol=1e-12)
    # d/dlam of w = (X^T X + lam I)^-1 X^T y is -(X^T X + lam I)^-1 w
    h = X_R.T @ X_R + 0.7 * np.eye(3)
    w = np.linalg.solve(h, X_R.T @ Y_R)
    np.testing.assert_allclose(_np(got[0]), COT[:3] @ -np.linalg.solve(h, w), rtol=1e-10)
    w_t, aux = _ridge(_t(np.zeros(3)), _t(0.7), _t(X_R), _t(Y_R))
    assert type(w_t) is NoHost and type(aux) is NoHost
    np.testing.assert_allclose(_np(w_t), w, rtol=1e-12)
    np.testing.assert_allclose(_np(aux), np.sum((X_R @ w - Y_R) ** 2), rtol=1e-12)


def _least_squares(w, X, y):
    return 0.5 * np.sum((X @ w - y) ** 2)


@pytest.mark.parametrize("make", [
    lambda: fi.ProximalGradient(_least_squares, fi.prox.l1, tol=1e-12, maxiter=2000),
    lambda: fi.BlockCoordinateDescent(_least_squares, fi.prox.l1, tol=1e-12, maxiter=2000)],
    ids=["proximal_gradient", "block_coordinate_descent"])
def test_proximal_solvers_on_tensors(make):
    solver = make()
    init = np.zeros(3)

    def loss(lam, X, y):
        return np.sum(COT[:3] * solver.run(init, lam, X, y))
    got_x = solver.run(_t(init), _t(0.5), _t(X_R), _t(Y_R))
    want_x = solver.run(init, 0.5, X_R, Y_R)
    assert type(got_x) is NoHost
    np.testing.assert_allclose(_np(got_x), want_x, atol=1e-9)
    got = fr.grad(loss)(_t(0.5), _t(X_R), _t(Y_R))
    np.testing.assert_allclose(_np(got), fr.grad(loss)(0.5, X_R, Y_R), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("prox, hp", [
    (fi.prox.l1, 0.3), (fi.prox.elastic_net, (0.3, 0.5)), (fi.prox.group_l1, 0.3),
    (fi.prox.nonnegative, None), (fi.prox.box, (-0.5, 0.5)), (fi.prox.simplex, 1.0),
    (fi.prox.l2_ball, 1.0)], ids=lambda p: getattr(p, "__name__", ""))
def test_prox_operators_on_tensors(prox, hp):
    x = np.array([0.7, -0.2, 0.4, 1.5])

    def f(x):
        return np.sum(np.sin(prox(x, hp)) * np.arange(1.0, 5.0))
    got = fr.grad(f)(_t(x))
    assert type(got) is NoHost
    np.testing.assert_allclose(_np(got), fr.grad(f)(x), rtol=1e-12, atol=1e-15)


# frechet.extend: what frechet.implicit needed ---------------------------------------------------

def test_call_on_library_runs_numpy_code_with_torch():
    from frechet import extend as fx

    def solver(x, a):           # NumPy code: in-place writes, value reads, a while loop
        x = np.zeros_like(a)
        x[0] = 0.1
        while float(np.linalg.norm(_cos_map(x, a) - x)) > 1e-14:
            x = _cos_map(x, a)
        return {"x": x, "steps": np.sum(x * 0.0)}
    out = fx.call_on_library(solver, None, _t(A_FP))
    assert type(out["x"]) is NoHost and isinstance(out["steps"], torch.Tensor)
    np.testing.assert_allclose(_np(out["x"]), _fixed_point_derivative(A_FP)[0], rtol=1e-12)
    plain = fx.call_on_library(solver, None, A_FP)         # NumPy arrays: a plain call
    assert type(plain["x"]) is np.ndarray
    assert fx.is_foreign(_t(A_FP)) and not fx.is_foreign(A_FP) and not fx.is_foreign(1.0)


def test_neutral_primitive_runs_on_torch():
    from frechet import extend as fx
    p = fx.Primitive("test_solve_neutral_double", lambda x: fr.numpy.multiply(x, 2.0),
                     lambda x: x)
    with pytest.raises(fr.BackendError, match="'test_solve_neutral_double' has no "
                                              "implementation for the torch back end"):
        p.bind(_t(A_FP))
    fx.neutral(p)
    got = p.bind(_t(A_FP))
    assert type(got) is NoHost
    np.testing.assert_allclose(_np(got), 2 * A_FP)
