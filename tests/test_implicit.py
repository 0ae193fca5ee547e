"""frechet.implicit: custom_root and custom_fixed_point against closed forms, finite
differences and unrolled iterations, at first and second order, under vmap and jit."""

import numpy as np
import pytest
import scipy.linalg as sla

import frechet as fr
import frechet.implicit as fi
from frechet.extend import Tracer, check_grads

RNG = np.random.default_rng(0)
N, P = 8, 3
X0 = RNG.standard_normal((N, P))
Y0 = RNG.standard_normal(N)
LAM = 0.7
W_INIT = np.zeros(P)


def ridge_optimality(w, lam, X, y):
    """Gradient of 0.5 |X w - y|^2 + 0.5 lam |w|^2 in w."""
    return X.T @ (X @ w - y) + lam * w


def plain(*values):
    for v in values:
        assert not isinstance(v, Tracer), "the solver saw a traced value"


@fi.custom_root(ridge_optimality)
def ridge(init, lam, X, y):
    plain(init, lam, X, y)
    return sla.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y, assume_a="pos")


def closed_form(lam, X, y):
    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)


def val_loss(w):
    return np.sum(np.sin(w)) + 0.5 * np.sum(w ** 2)


def test_solution_and_first_derivatives_match_the_closed_form_and_finite_differences():
    np.testing.assert_allclose(ridge(W_INIT, LAM, X0, Y0), closed_form(LAM, X0, Y0), rtol=1e-12)
    for argnums in (0, 1, 2):
        got = fr.grad(lambda *a: val_loss(ridge(W_INIT, *a)), argnums)(LAM, X0, Y0)
        want = fr.grad(lambda *a: val_loss(closed_form(*a)), argnums)(LAM, X0, Y0)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    # finite differences (forward and reverse) up to second order, in all three arguments
    check_grads(lambda lam, X, y: ridge(W_INIT, lam, X, y), (LAM, X0, Y0), order=2)
    jf = fr.jacfwd(lambda y: ridge(W_INIT, LAM, X0, y))(Y0)
    jr = fr.jacrev(lambda y: ridge(W_INIT, LAM, X0, y))(Y0)
    np.testing.assert_allclose(jf, fr.jacfwd(lambda y: closed_form(LAM, X0, y))(Y0), rtol=1e-10)
    np.testing.assert_allclose(jr, jf, rtol=1e-12)


def test_second_order():
    def hyper(lam):
        return val_loss(ridge(W_INIT, lam, X0, Y0))

    def hyper_ref(lam):
        return val_loss(closed_form(lam, X0, Y0))
    want = fr.grad(fr.grad(hyper_ref))(LAM)
    assert abs(want) > 1e-3
    np.testing.assert_allclose(fr.grad(fr.grad(hyper))(LAM), want, rtol=1e-9)
    np.testing.assert_allclose(fr.hessian(hyper)(LAM), want, rtol=1e-9)
    # jvp of the gradient, in lam and in X
    np.testing.assert_allclose(fr.jvp(fr.grad(hyper), (LAM,), (1.0,))[1], want, rtol=1e-9)
    V = RNG.standard_normal(X0.shape)
    g = fr.grad(lambda X: val_loss(ridge(W_INIT, LAM, X, Y0)))
    g_ref = fr.grad(lambda X: val_loss(closed_form(LAM, X, Y0)))
    np.testing.assert_allclose(fr.jvp(g, (X0,), (V,))[1], fr.jvp(g_ref, (X0,), (V,))[1],
                               rtol=1e-8, atol=1e-10)
    # finite differences of the hypergradient
    eps = 1e-5
    fd = (fr.grad(hyper)(LAM + eps) - fr.grad(hyper)(LAM - eps)) / (2 * eps)
    np.testing.assert_allclose(fr.grad(fr.grad(hyper))(LAM), fd, rtol=1e-6)


def test_vmap_over_hyperparameters_and_over_problems():
    lams = np.array([0.1, 0.7, 3.0])
    hg = fr.grad(lambda lam: val_loss(ridge(W_INIT, lam, X0, Y0)))
    hg_ref = fr.grad(lambda lam: val_loss(closed_form(lam, X0, Y0)))
    np.testing.assert_allclose(fr.vmap(hg)(lams), [hg_ref(lam) for lam in lams], rtol=1e-10)
    np.testing.assert_allclose(fr.vmap(lambda lam: ridge(W_INIT, lam, X0, Y0))(lams),
                               np.stack([closed_form(lam, X0, Y0) for lam in lams]), rtol=1e-12)
    ys = RNG.standard_normal((4, N))
    per_problem = fr.vmap(lambda y: ridge(W_INIT, LAM, X0, y))(ys)
    np.testing.assert_allclose(per_problem, np.stack([closed_form(LAM, X0, y) for y in ys]),
                               rtol=1e-12)
    jac = fr.vmap(fr.jacrev(lambda y: ridge(W_INIT, LAM, X0, y)))(ys)
    np.testing.assert_allclose(jac[2], fr.jacfwd(lambda y: closed_form(LAM, X0, y))(ys[2]),
                               rtol=1e-10)
    # the gradient of a batched sum
    g = fr.grad(lambda lam: np.sum(fr.vmap(lambda y: ridge(W_INIT, lam, X0, y))(ys)))(LAM)
    g_ref = fr.grad(lambda lam: sum(np.sum(closed_form(lam, X0, y)) for y in ys))(LAM)
    np.testing.assert_allclose(g, g_ref, rtol=1e-10)


def test_jit_on_fresh_arguments():
    f = fr.jit(fr.grad(lambda lam, y: val_loss(ridge(W_INIT, lam, X0, y))))
    ref = fr.grad(lambda lam, y: val_loss(closed_form(lam, X0, y)))
    for lam, y in ((LAM, Y0), (2.5, -Y0), (0.3, Y0 + 1)):
        np.testing.assert_allclose(f(lam, y), ref(lam, y), rtol=1e-10)
    solve = fr.jit(lambda lam: ridge(W_INIT, lam, X0, Y0))
    for lam in (0.2, 4.0):
        np.testing.assert_allclose(solve(lam), closed_form(lam, X0, Y0), rtol=1e-12)


def test_pytrees_keywords_and_zero_dimensional_parameters():
    def optimality(params, hyper, *, data):
        w, b = params["w"], params["b"]
        r = data["X"] @ w + b - data["y"]
        return {"w": data["X"].T @ r + hyper["lam"] * w, "b": np.sum(r) + hyper["mu"] * b}

    @fi.custom_root(optimality)
    def fit(init, hyper, *, data):
        plain(hyper["lam"], hyper["mu"], data["X"], data["y"])
        A = np.block([[data["X"].T @ data["X"] + hyper["lam"] * np.eye(P),
                       data["X"].sum(0)[:, None]],
                      [data["X"].sum(0)[None, :], N + hyper["mu"] * np.ones((1, 1))]])
        z = np.linalg.solve(A, np.concatenate([data["X"].T @ data["y"], [data["y"].sum()]]))
        return {"w": z[:P], "b": z[P]}

    def ref(hyper, data):
        X1 = np.concatenate([data["X"], np.ones((N, 1))], axis=1)
        reg = np.diag(np.concatenate([hyper["lam"] * np.ones(P), [hyper["mu"]]]))
        z = np.linalg.solve(X1.T @ X1 + reg, X1.T @ data["y"])
        return {"w": z[:P], "b": z[P]}

    init = {"w": np.zeros(P), "b": 0.0}
    hyper = {"lam": 0.5, "mu": 0.2}
    data = {"X": X0, "y": Y0}
    sol = fit(init, hyper, data=data)
    assert set(sol) == {"w", "b"} and np.shape(sol["b"]) == ()

    def loss(s):
        return np.sum(s["w"] ** 3) + s["b"] ** 2
    got = fr.grad(lambda h, d: loss(fit(init, h, data=d)), argnums=(0, 1))(hyper, data)
    want = fr.grad(lambda h, d: loss(ref(h, d)), argnums=(0, 1))(hyper, data)
    assert len(_leaves(got)) == 4
    for g, w in zip(_leaves(got), _leaves(want)):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
    # a 0-d problem with 0-d parameters: the root of x^3 + a x - c (TorchOpt #222: zeros)

    @fi.custom_root(lambda x, a, c: x ** 3 + a * x - c)
    def cubic_root(x0, a, c):
        return np.real(min((r for r in np.roots([1.0, 0.0, float(a), -float(c)])
                            if abs(r.imag) < 1e-12), key=abs))
    x = cubic_root(0.0, 2.0, 3.0)
    np.testing.assert_allclose(x ** 3 + 2 * x, 3.0, rtol=1e-12)
    dx_dc = fr.grad(cubic_root, argnums=2)(0.0, 2.0, 3.0)
    np.testing.assert_allclose(dx_dc, 1 / (3 * x ** 2 + 2), rtol=1e-12)
    dx_da = fr.grad(cubic_root, argnums=1)(0.0, 2.0, 3.0)
    np.testing.assert_allclose(dx_da, -x / (3 * x ** 2 + 2), rtol=1e-12)
    # second order: d2x/dc2 = -6 x (dx/dc)^3
    np.testing.assert_allclose(fr.grad(fr.grad(cubic_root, argnums=2), argnums=2)(0.0, 2.0, 3.0),
                               -6 * x / (3 * x ** 2 + 2) ** 3, rtol=1e-10)


def _leaves(tree):
    import optree
    return optree.tree_leaves(tree, namespace="frechet")


def test_the_derivative_in_the_initial_guess_is_exactly_zero():
    g = fr.grad(lambda w0: val_loss(ridge(w0, LAM, X0, Y0)))(np.ones(P))
    np.testing.assert_array_equal(g, np.zeros(P))
    g = fr.jacfwd(lambda w0: ridge(w0, LAM, X0, Y0))(np.ones(P))
    np.testing.assert_array_equal(g, np.zeros((P, P)))


def test_has_aux_refers_to_the_solver():
    @fi.custom_root(lambda w, lam, X, y, maxiter: ridge_optimality(w, lam, X, y), has_aux=True)
    def ridge_cg(init, lam, X, y, maxiter):
        w, r, k = init.copy(), X.T @ y - (X.T @ X + lam * np.eye(P)) @ init, 0
        p = r.copy()
        while np.linalg.norm(r) > 1e-14 and k < maxiter:   # plain CG, Python loop
            Ap = (X.T @ X + lam * np.eye(P)) @ p
            a = r @ r / (p @ Ap)
            w, r_new = w + a * p, r - a * Ap
            p, r, k = r_new + (r_new @ r_new) / (r @ r) * p, r_new, k + 1
        return w, {"iterations": k, "residual": np.linalg.norm(r)}

    w, aux = ridge_cg(W_INIT, LAM, X0, Y0, 50)
    np.testing.assert_allclose(w, closed_form(LAM, X0, Y0), rtol=1e-10)
    assert 1 <= int(aux["iterations"]) <= P + 1
    g = fr.grad(lambda lam: val_loss(ridge_cg(W_INIT, lam, X0, Y0, 50)[0]))(LAM)
    np.testing.assert_allclose(g, fr.grad(lambda lam: val_loss(closed_form(lam, X0, Y0)))(LAM),
                               rtol=1e-9)
    hg = fr.jit(fr.grad(lambda lam: val_loss(ridge_cg(W_INIT, lam, X0, Y0, 50)[0])))
    np.testing.assert_allclose(hg(2.0), fr.grad(lambda lam: val_loss(closed_form(lam, X0, Y0)))(2.0),
                               rtol=1e-9)
    with pytest.raises(TypeError, match="return \\(sol, aux\\)"):
        fi.custom_root(ridge_optimality, has_aux=True)(ridge.__wrapped__)(W_INIT, LAM, X0, Y0)


# ---- fixed points ----------------------------------------------------------------------------

D = 4
W = RNG.standard_normal((D, D))
W = 0.5 * W / np.linalg.norm(W, 2)          # a contraction: |dT/dx| <= 0.5
THETA = RNG.standard_normal(D)


def T(x, W, theta):
    return np.tanh(W @ x + theta)


def iterate(x, W, theta, steps):
    for _ in range(steps):
        x = T(x, W, theta)
    return x


def test_fixed_point_against_unrolled_iteration():
    @fi.custom_fixed_point(T)
    def equilibrium(x0, W, theta):
        plain(x0, W, theta)
        return iterate(x0, W, theta, 200)

    x = equilibrium(np.zeros(D), W, THETA)
    np.testing.assert_allclose(x, T(x, W, THETA), rtol=1e-14)

    def out(x):
        return np.sum(x ** 2)
    for argnums in (0, 1):
        got = fr.grad(lambda *a: out(equilibrium(np.zeros(D), *a)), argnums)(W, THETA)
        want = fr.grad(lambda *a: out(iterate(np.zeros(D), *a, 200)), argnums)(W, THETA)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    hess = fr.hessian(lambda t: out(equilibrium(np.zeros(D), W, t)))(THETA)
    want = fr.hessian(lambda t: out(iterate(np.zeros(D), W, t, 200)))(THETA)
    np.testing.assert_allclose(hess, want, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_neumann_k_is_fpad_k_steps_from_the_fixed_point(k):
    # (I - dT/dx) v = b solved by Neumann(k) (alpha = 1) is sum_{j<k} (dT/dx)^j b: the
    # derivative of k iterations of T started at the fixed point, held constant
    x_star = iterate(np.zeros(D), W, THETA, 200)
    fpad = fi.custom_fixed_point(T, solve=fi.Neumann(k))(
        lambda x0, W, theta: iterate(x0, W, theta, 200))
    got = fr.jacfwd(lambda t: fpad(np.zeros(D), W, t))(THETA)
    want = fr.jacfwd(lambda t: iterate(x_star, W, t, k))(THETA)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    got_r = fr.jacrev(lambda t: fpad(np.zeros(D), W, t))(THETA)
    np.testing.assert_allclose(got_r, want, rtol=1e-12, atol=1e-14)
    if k > 1:      # and it is not the exact implicit derivative
        exact = fr.jacfwd(lambda t: iterate(np.zeros(D), W, t, 200))(THETA)
        assert np.abs(got - exact).max() > 1e-6


# ---- linear solvers in the backward pass ---------------------------------------------------

def _systems():
    rng = np.random.default_rng(3)
    M = rng.standard_normal((5, 5))
    spd = M @ M.T + 5 * np.eye(5)
    nonsym = 4 * np.eye(5) + 0.5 * M
    Q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    ill = Q @ np.diag(np.logspace(0, -6, 5)) @ Q.T          # SPD, condition number 1e6
    return {"spd": spd, "nonsym": nonsym, "ill": ill}


SYSTEMS = _systems()
B = np.random.default_rng(4).standard_normal(5)
SOLVERS = {     # tol: a relative residual an ill-conditioned system can reach
    "dense": lambda tol: fi.Dense(), "cholesky": lambda tol: fi.Cholesky(),
    "cg": lambda tol: fi.CG(tol=tol), "gmres": lambda tol: fi.GMRES(tol=tol),
    "bicgstab": lambda tol: fi.BiCGStab(tol=tol), "lsqr": lambda tol: fi.LSQR(tol=tol),
    "normal_cg": lambda tol: fi.NormalCG(tol=tol, maxiter=1000), "neumann": None,
}
# which solvers apply to which system: (symmetric positive definite only, converges on ill)
APPLIES = {"cholesky": ("spd", "ill"), "cg": ("spd", "ill"), "neumann": ("spd", "nonsym")}


def _cases():
    for name in SOLVERS:
        for system in SYSTEMS:
            if system in APPLIES.get(name, SYSTEMS):
                yield name, system


@pytest.mark.parametrize("name, system", list(_cases()))
def test_every_solver_as_the_backward_solver_of_custom_root(name, system):
    A = SYSTEMS[system]
    ill = system == "ill"
    solver = SOLVERS[name] and SOLVERS[name](1e-10 if ill else 1e-13)
    if name == "neumann":        # alpha = 1 / lambda_max: converges in a few hundred steps
        lam = np.abs(np.linalg.eigvals(A))
        solver = fi.Neumann(2000, alpha=1.0 / lam.max(), tol=1e-13)

    @fi.custom_root(lambda x, A, b: A @ x - b, solve=solver)
    def linsolve(x0, A, b):
        return sla.solve(A, b)

    rtol = 1e-4 if ill else 1e-9
    want_b = fr.grad(lambda b: np.sum(np.sin(np.linalg.solve(A, b))))(B)
    got_b = fr.grad(lambda b: np.sum(np.sin(linsolve(np.zeros(5), A, b))))(B)
    scale = np.abs(want_b).max()
    np.testing.assert_allclose(got_b, want_b, rtol=rtol, atol=rtol * scale)
    want_A = fr.grad(lambda A: np.sum(np.sin(np.linalg.solve(A, B))))(A)
    got_A = fr.grad(lambda A: np.sum(np.sin(linsolve(np.zeros(5), A, B))))(A)
    np.testing.assert_allclose(got_A, want_A, rtol=rtol, atol=rtol * np.abs(want_A).max())


def test_default_solver_choice():
    from frechet.implicit._roots import DENSE_UP_TO, _Problem
    small = _Problem(None, False, None, False, None, None, [((3,), np.float64)])
    large = _Problem(None, False, None, False, None, None, [((DENSE_UP_TO + 1,), np.float64)])
    large_sym = _Problem(None, False, None, True, None, None, [((DENSE_UP_TO + 1,), np.float64)])
    assert isinstance(small.solver(), fi.Dense)
    assert isinstance(large.solver(), fi.GMRES)
    assert isinstance(large_sym.solver(), fi.CG)


def test_symmetric_large_problem_uses_cg_and_is_right():
    n = 600
    d = 1.0 + np.linspace(0, 1, n)

    @fi.custom_root(lambda x, a: d * x - a, symmetric=True)
    def diag_solve(x0, a):
        return a / d
    a = np.linspace(-1, 1, n)
    np.testing.assert_allclose(fr.grad(lambda a: np.sum(diag_solve(np.zeros(n), a) ** 2))(a),
                               2 * a / d ** 2, rtol=1e-8)


def test_errors_lead_with_the_fix():
    @fi.custom_root(ridge_optimality)
    def wrong_shape(init, lam, X, y):
        return np.zeros(P + 1)
    with pytest.raises(fr.ShapeError, match="return a solution with init_params' structure"):
        wrong_shape(W_INIT, LAM, X0, Y0)

    @fi.custom_root(lambda w, lam: w - lam)
    def fewer_args(init, lam, X, y):
        return closed_form(lam, X, y)
    with pytest.raises(TypeError, match="optimality_fun is called as optimality_fun"):
        fr.grad(lambda lam: np.sum(fewer_args(W_INIT, lam, X0, Y0)))(LAM)

    @fi.custom_root(lambda w, lam, X, y: np.sum(w) - lam)
    def not_square(init, lam, X, y):
        return closed_form(lam, X, y)
    with pytest.raises(fr.ShapeError, match="return 3 numbers from optimality_fun"):
        fr.grad(lambda lam: np.sum(not_square(W_INIT, lam, X0, Y0)))(LAM)


def test_fixed_point_under_vmap_and_jit():
    @fi.custom_fixed_point(T)
    def equilibrium(x0, W, theta):
        return iterate(x0, W, theta, 200)

    thetas = RNG.standard_normal((3, D))
    got = fr.vmap(fr.jacrev(lambda t: equilibrium(np.zeros(D), W, t)))(thetas)
    want = np.stack([fr.jacfwd(lambda t: iterate(np.zeros(D), W, t, 200))(t) for t in thetas])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    g = fr.jit(fr.grad(lambda W, t: np.sum(equilibrium(np.zeros(D), W, t) ** 2)))
    for t in thetas:
        want = fr.grad(lambda W, t=t: np.sum(iterate(np.zeros(D), W, t, 200) ** 2))(W)
        np.testing.assert_allclose(g(W, t), want, rtol=1e-10, atol=1e-12)


def test_aux_shapes_need_a_run():
    @fi.custom_root(ridge_optimality, has_aux=True)
    def with_aux(init, lam, X, y):
        return closed_form(lam, X, y), np.arange(3)
    with pytest.raises(fr.ConcretizationError, match="call with_aux on concrete values"):
        fr.make_program(lambda lam: with_aux(W_INIT, lam, X0, Y0)[0])(LAM)
    w, aux = fr.jit(lambda lam: with_aux(W_INIT, lam, X0, Y0))(LAM)
    np.testing.assert_allclose(w, closed_form(LAM, X0, Y0), rtol=1e-12)
    np.testing.assert_array_equal(aux, np.arange(3))


def test_documentation_examples_run():
    import doctest
    import pathlib

    from frechet.implicit import _api
    assert doctest.testmod(_api).failed == 0
    text = (pathlib.Path(__file__).parent.parent / "docs" / "implicit.md").read_text()
    code = text.split("```python\n")[1].split("```")[0]
    exec(compile(code, "docs/implicit.md", "exec"), {})  # noqa: S102


def test_the_rule_is_applied_where_the_solver_stopped():
    # one gradient step from zero: not the argmin; the derivative is the implicit-function
    # formula at that point, -(X^T X + lam I)^-1 dF/dlam = -(X^T X + lam I)^-1 w
    @fi.custom_root(ridge_optimality)
    def one_step(init, lam, X, y):
        return init - 0.01 * ridge_optimality(init, lam, X, y)
    w = one_step(W_INIT, LAM, X0, Y0)
    want = -np.linalg.solve(X0.T @ X0 + LAM * np.eye(P), w)
    np.testing.assert_allclose(fr.jacfwd(lambda lam: one_step(W_INIT, lam, X0, Y0))(LAM), want,
                               rtol=1e-12)
    exact = fr.jacfwd(lambda lam: closed_form(lam, X0, Y0))(LAM)
    assert np.abs(want - exact).max() > 1e-2


def test_a_backward_solve_that_does_not_converge_warns():
    slow = fi.custom_root(ridge_optimality, solve=fi.CG(tol=1e-12, maxiter=1))(ridge.__wrapped__)
    with pytest.warns(RuntimeWarning, match="did not converge: relative residual"):
        fr.grad(lambda lam: val_loss(slow(W_INIT, lam, X0, Y0)))(LAM)
