"""frechet.implicit.prox and the proximal splitting solvers: each prox against its closed form
and finite differences, projections feasible and idempotent, the Lasso (ProximalGradient,
BlockCoordinateDescent) against its KKT conditions, and its solution Jacobian by FPAD against
the closed form on the support, unrolled, under jit and vmap."""

import doctest

import numpy as np
import pytest

import frechet as fr
import frechet.implicit as fi
from frechet.extend import check_grads
from frechet.implicit import BlockCoordinateDescent, ProximalGradient, prox

RNG = np.random.default_rng(0)
N, P = 40, 8
X = RNG.standard_normal((N, P))
W_TRUE = np.array([2.0, -1.5, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0])
Y = X @ W_TRUE + 0.3 * RNG.standard_normal(N)
LAM = 0.2


def lasso_loss(w, X, y):
    """The smooth part |y - X w|^2 / (2 n) of the Lasso objective."""
    return np.sum((y - X @ w) ** 2) / (2 * X.shape[0])


def lasso_solver(**kw):
    return ProximalGradient(lasso_loss, prox.l1, tol=1e-12, maxiter=5000, **kw)


def closed_form_jacobians(w, X, y):
    """dw/dlam and dw/dy of the Lasso on the support S (zero off it)."""
    n = X.shape[0]
    S = w != 0
    G = X[:, S].T @ X[:, S] / n
    dlam, dy = np.zeros(w.shape), np.zeros((w.shape[0], y.shape[0]))
    dlam[S] = -np.linalg.solve(G, np.sign(w[S]))
    dy[S] = np.linalg.solve(G, X[:, S].T / n)
    return dlam, dy


def check_lasso_kkt(w, lam, X, y, tol=1e-8):
    c = X.T @ (y - X @ w) / X.shape[0]
    S = w != 0
    assert S.any() and not S.all()
    np.testing.assert_allclose(c[S], lam * np.sign(w[S]), atol=tol)
    assert np.all(np.abs(c[~S]) <= lam + tol)


# -- the operators -----------------------------------------------------------------------------

XV = np.array([2.5, -1.7, 0.3, -0.2, 1.1, -3.0])


def test_prox_closed_forms():
    np.testing.assert_allclose(prox.l1(XV, 1.0), [1.5, -0.7, 0, 0, 0.1, -2.0], atol=1e-15)
    np.testing.assert_allclose(prox.l1(XV, 0.5, scaling=2.0), prox.l1(XV, 1.0))
    lam = np.array([1.0, 2.0, 0.1, 0.0, 1.0, 1.0])     # per-coordinate weights
    np.testing.assert_allclose(prox.l1(XV, lam), [1.5, 0, 0.2, -0.2, 0.1, -2.0], atol=1e-15)
    np.testing.assert_allclose(prox.elastic_net(XV, (1.0, 2.0), 0.5),
                               prox.l1(XV, 0.5) / (1 + 0.5 * 2.0), atol=1e-15)
    G = np.array([[3.0, 4.0], [0.3, 0.4], [-6.0, 8.0]])
    np.testing.assert_allclose(prox.group_l1(G, 2.5),
                               [[1.5, 2.0], [0, 0], [-6.0 * 0.75, 8.0 * 0.75]], atol=1e-15)
    np.testing.assert_allclose(prox.group_l1(np.array([3.0, 4.0]), 1.0, 2.0), [1.8, 2.4])
    np.testing.assert_allclose(prox.nonnegative(XV), np.maximum(XV, 0))
    np.testing.assert_allclose(prox.box(XV, (-1.0, 1.0)), np.clip(XV, -1, 1))
    lo, hi = np.full(6, -2.0), np.linspace(0.0, 1.0, 6)
    np.testing.assert_allclose(prox.box(XV, (lo, hi)), np.clip(XV, lo, hi))
    np.testing.assert_allclose(prox.l2_ball(np.array([3.0, 4.0]), 2.0), [1.2, 1.6])
    np.testing.assert_allclose(prox.l2_ball(np.array([0.3, 0.4]), 2.0), [0.3, 0.4])
    # prox.l1 is the argmin of its objective: compare against a fine grid per coordinate
    grid = np.linspace(-4, 4, 80001)
    for x in XV:
        obj = 0.5 * (x - grid) ** 2 + 0.7 * np.abs(grid)
        assert abs(prox.l1(np.array([x]), 0.7)[0] - grid[np.argmin(obj)]) < 1e-4


def simplex_by_bisection(x, value):
    lo, hi = x.min() - value, x.max()
    for _ in range(200):
        tau = (lo + hi) / 2
        lo, hi = (tau, hi) if np.maximum(x - tau, 0).sum() > value else (lo, tau)
    return np.maximum(x - (lo + hi) / 2, 0)


def test_projections_are_feasible_idempotent_and_match_references():
    for x in (XV, RNG.standard_normal(7), np.array([0.1, 0.2])):
        p = prox.simplex(x)
        assert np.all(p >= 0) and abs(p.sum() - 1) < 1e-12
        np.testing.assert_allclose(p, simplex_by_bisection(x, 1.0), atol=1e-12)
        np.testing.assert_allclose(prox.simplex(p), p, atol=1e-14)
        np.testing.assert_allclose(prox.simplex(x, 3.0), simplex_by_bisection(x, 3.0),
                                   atol=1e-12)
    batch = RNG.standard_normal((4, 5))       # rows projected independently
    np.testing.assert_allclose(prox.simplex(batch), [prox.simplex(r) for r in batch])
    b = prox.box(XV, (-1.0, 0.5))
    assert np.all((b >= -1) & (b <= 0.5))
    np.testing.assert_array_equal(prox.box(b, (-1.0, 0.5)), b)
    q = prox.l2_ball(XV, 1.5)
    assert abs(np.linalg.norm(q) - 1.5) < 1e-12
    np.testing.assert_allclose(prox.l2_ball(q, 1.5), q, rtol=1e-14)
    nn = prox.nonnegative(XV)
    assert np.all(nn >= 0)
    np.testing.assert_array_equal(prox.nonnegative(nn), nn)


def test_prox_derivatives_match_finite_differences_away_from_kinks():
    G = np.array([[3.0, 4.0], [0.3, 0.4], [-6.0, 8.0]])
    cases = [
        (lambda x, lam: prox.l1(x, lam), (XV, 0.7)),
        (lambda x, lam: prox.l1(x, lam, 0.5), (XV, np.full(6, 0.7))),
        (lambda x, a, b: prox.elastic_net(x, (a, b), 0.8), (XV, 0.7, 1.3)),
        (lambda x, lam: prox.group_l1(x, lam), (G, 2.5)),
        (lambda x, lam: prox.group_l1(x, lam), (G, np.array([2.5, 0.1, 1.0]))),
        (lambda x, lo, hi: prox.box(x, (lo, hi)), (XV, -1.0, np.linspace(0.05, 1.05, 6))),
        (lambda x: prox.nonnegative(x), (XV,)),
        (lambda x, v: prox.simplex(x, v), (XV, 1.0)),
        (lambda x, v: prox.simplex(x, v), (RNG.standard_normal((3, 5)), np.ones(3))),
        (lambda x, r: prox.l2_ball(x, r), (XV, 1.5)),
        (lambda x, r: prox.l2_ball(x, r), (0.1 * XV, 1.5)),
    ]
    for f, args in cases:
        check_grads(f, args, order=1, eps=1e-6)
    # the soft-threshold's derivative in lam is -scaling sign(x) on the support, 0 off it
    np.testing.assert_allclose(fr.jacfwd(lambda lam: prox.l1(XV, lam, 2.0))(0.5),
                               [-2.0, 2.0, 0, 0, -2.0, 2.0])
    np.testing.assert_allclose(fr.jacrev(prox.simplex)(XV), fr.jacfwd(prox.simplex)(XV),
                               atol=1e-15)


def test_kinks_take_the_zero_subgradient_and_zero_groups_give_no_nan():
    at_kink = np.array([1.0, -1.0, 0.0])
    np.testing.assert_array_equal(np.diag(fr.jacfwd(lambda x: prox.l1(x, 1.0))(at_kink)), 0.0)
    np.testing.assert_array_equal(fr.jacfwd(prox.nonnegative)(np.zeros(2)), 0.0)
    j = fr.jacrev(lambda x: prox.group_l1(x, 1.0))(np.zeros((2, 3)))
    assert np.all(np.isfinite(j)) and np.all(j == 0)
    j = fr.jacfwd(lambda x: prox.l2_ball(x, 1.0))(np.zeros(3))
    np.testing.assert_array_equal(j, np.eye(3))


def test_bad_hyperparams_say_what_to_pass():
    with pytest.raises(TypeError, match=r"pass hyperparams to prox.box as a pair \(lower, upper\)"):
        prox.box(XV, 1.0)
    with pytest.raises(TypeError, match=r"prox.elastic_net as a pair \(lam, gamma\)"):
        prox.elastic_net(XV, 1.0)


# -- the Lasso -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [{}, {"accelerate": False},
                                {"stepsize": 1.0 / np.linalg.eigvalsh(X.T @ X / N).max()}])
def test_proximal_gradient_solves_the_lasso(kw):
    w = lasso_solver(**kw).run(np.zeros(P), LAM, X, Y)
    check_lasso_kkt(w, LAM, X, Y)


def test_block_coordinate_descent_solves_the_lasso_and_agrees():
    bcd = BlockCoordinateDescent(lasso_loss, prox.l1, maxiter=2000, tol=1e-13)
    w = bcd.run(np.zeros(P), LAM, X, Y)
    check_lasso_kkt(w, LAM, X, Y)
    np.testing.assert_allclose(w, lasso_solver().run(np.zeros(P), LAM, X, Y), atol=1e-9)


def test_lasso_jacobian_by_fpad_matches_the_closed_form_on_the_support():
    pg = lasso_solver()
    w = pg.run(np.zeros(P), LAM, X, Y)
    dlam, dy = closed_form_jacobians(w, X, Y)
    assert np.abs(dlam).max() > 0.1
    for jac in (fr.jacfwd, fr.jacrev):
        got = jac(lambda lam: pg.run(np.zeros(P), lam, X, Y))(LAM)
        np.testing.assert_allclose(got, dlam, rtol=1e-7, atol=1e-10)   # absolute: zeros off S
        got = jac(lambda y: pg.run(np.zeros(P), LAM, X, y))(Y)
        np.testing.assert_allclose(got, dy, rtol=1e-7, atol=1e-10)
    # finite differences of the solution in lam (the support is stable nearby)
    eps = 1e-6
    fd = (pg.run(np.zeros(P), LAM + eps, X, Y) - pg.run(np.zeros(P), LAM - eps, X, Y)) / (2 * eps)
    np.testing.assert_allclose(dlam, fd, atol=1e-7)


def test_support_only_gives_exact_zeros_off_the_support_and_the_same_jacobian():
    pg = lasso_solver(support_only=True)
    w = pg.run(np.zeros(P), LAM, X, Y)
    dlam, dy = closed_form_jacobians(w, X, Y)
    got = fr.jacrev(lambda y: pg.run(np.zeros(P), LAM, X, y))(Y)
    np.testing.assert_array_equal(got[w == 0], 0.0)
    np.testing.assert_allclose(got, dy, rtol=1e-7, atol=1e-10)
    got = fr.jacfwd(lambda lam: pg.run(np.zeros(P), lam, X, Y))(LAM)
    np.testing.assert_array_equal(got[w == 0], 0.0)
    np.testing.assert_allclose(got, dlam, rtol=1e-7)
    with pytest.raises(ValueError, match="drop support_only=True for box"):
        ProximalGradient(lasso_loss, prox.box, support_only=True)


def test_block_coordinate_descent_jacobian_matches_the_closed_form():
    bcd = BlockCoordinateDescent(lasso_loss, prox.l1, maxiter=2000, tol=1e-13,
                                 solve=fi.Neumann(2000, tol=1e-12))
    w = bcd.run(np.zeros(P), LAM, X, Y)
    dlam, _ = closed_form_jacobians(w, X, Y)
    got = fr.jacfwd(lambda lam: bcd.run(np.zeros(P), lam, X, Y))(LAM)
    np.testing.assert_allclose(got, dlam, rtol=1e-7, atol=1e-10)
    dense = BlockCoordinateDescent(lasso_loss, prox.l1, maxiter=2000, tol=1e-13,
                                   solve=fi.Dense())
    got = fr.grad(lambda lam: dense.run(np.zeros(P), lam, X, Y).sum())(LAM)
    np.testing.assert_allclose(got, dlam.sum(), rtol=1e-7)


def test_implicit_and_unrolled_agree():
    v = RNG.standard_normal(P)

    def hyper(pg):
        return lambda lam: np.sum(v * pg.run(np.zeros(P), lam, X, Y))
    kw = {"stepsize": 1.0 / np.linalg.eigvalsh(X.T @ X / N).max(), "accelerate": False,
          "maxiter": 400, "tol": 0.0}
    implicit = ProximalGradient(lasso_loss, prox.l1, **kw)
    unrolled = ProximalGradient(lasso_loss, prox.l1, implicit=False, **kw)
    g_imp = fr.grad(hyper(implicit))(LAM)
    g_unr = fr.grad(hyper(unrolled))(LAM)
    np.testing.assert_allclose(g_unr, g_imp, rtol=1e-6)
    # unrolled with backtracking and FISTA too (the loop's comparisons carry no derivative)
    fista = ProximalGradient(lasso_loss, prox.l1, implicit=False, maxiter=3000, tol=1e-12)
    np.testing.assert_allclose(fr.grad(hyper(fista))(LAM), g_imp, rtol=1e-6)
    # a fixed step and tol=0 test no values: the unrolled loop runs under vmap
    lams = np.array([0.15, LAM])
    np.testing.assert_allclose(fr.vmap(fr.grad(hyper(unrolled)))(lams),
                               [fr.grad(hyper(unrolled))(lam) for lam in lams], rtol=1e-12)
    with pytest.raises(fr.ConcretizationError, match=r"use implicit=True, or .* pass stepsize"):
        fr.vmap(fr.grad(hyper(fista)))(lams)
    # unrolled depends on init through a truncated loop; implicit has zero derivative there
    g0 = fr.grad(lambda w0: np.sum(v * implicit.run(w0, LAM, X, Y)))(np.ones(P))
    np.testing.assert_array_equal(g0, 0.0)


def test_grad_under_jit_and_vmap_over_lam():
    pg = lasso_solver()

    def val(lam):
        return np.sum(pg.run(np.zeros(P), lam, X, Y) ** 2)
    lams = np.array([0.1, 0.2, 0.3])
    want = []
    for lam in lams:
        w = pg.run(np.zeros(P), lam, X, Y)
        want.append(2 * w @ closed_form_jacobians(w, X, Y)[0])
    g = fr.jit(fr.grad(val))
    np.testing.assert_allclose([g(lam) for lam in lams], want, rtol=1e-7)   # fresh arguments
    np.testing.assert_allclose(fr.vmap(fr.grad(val))(lams), want, rtol=1e-7)
    np.testing.assert_allclose(fr.jit(fr.vmap(fr.grad(val)))(lams), want, rtol=1e-7)


# -- constraints and groups ----------------------------------------------------------------------

def test_nonnegative_least_squares_and_box_qp():
    y = X @ np.array([1.0, -1.0, 0.5, -0.3, 0.0, 2.0, -2.0, 0.2]) + 0.1 * RNG.standard_normal(N)
    pg = ProximalGradient(lasso_loss, prox.nonnegative, tol=1e-12, maxiter=5000)
    w = pg.run(np.zeros(P), None, X, y)
    g = X.T @ (X @ w - y) / N        # KKT: w >= 0, g >= 0, w * g = 0
    F = w > 0
    assert F.any() and not F.all()
    assert np.all(w >= 0) and np.all(g[~F] >= -1e-10)
    np.testing.assert_allclose(g[F], 0, atol=1e-10)
    dy = np.zeros((P, N))
    dy[F] = np.linalg.solve(X[:, F].T @ X[:, F], X[:, F].T)
    np.testing.assert_allclose(fr.jacrev(lambda y: pg.run(np.zeros(P), None, X, y))(y), dy,
                               rtol=1e-7, atol=1e-10)
    # box QP: the solution's derivative in the bounds is 1 where it is clipped to them
    lo, hi = -0.5 * np.ones(P), 0.8 * np.ones(P)
    box = ProximalGradient(lasso_loss, prox.box, tol=1e-12, maxiter=5000)
    w = box.run(np.zeros(P), (lo, hi), X, y)
    at_hi = np.isclose(w, hi)
    assert at_hi.any()
    d_hi = fr.jacfwd(lambda h: box.run(np.zeros(P), (lo, h), X, y))(hi)
    eps = 1e-6
    fd = (box.run(np.zeros(P), (lo, hi + eps * at_hi), X, y)
          - box.run(np.zeros(P), (lo, hi - eps * at_hi), X, y)) / (2 * eps)
    np.testing.assert_allclose(d_hi @ at_hi, fd, atol=1e-6)


def test_group_lasso_support_and_jacobian():
    Xg = RNG.standard_normal((50, 8))
    W = np.array([[1.5, -1.0], [0.0, 0.0], [0.8, 0.6], [0.0, 0.0]])
    y = Xg @ W.ravel() + 0.2 * RNG.standard_normal(50)

    def loss(w, X, y):
        return np.sum((y - X @ w.ravel()) ** 2) / (2 * X.shape[0])
    lam = 0.3
    for solver in (ProximalGradient(loss, prox.group_l1, tol=1e-12, maxiter=5000),
                   BlockCoordinateDescent(loss, prox.group_l1, maxiter=3000, tol=1e-13,
                                          support_only=True)):
        w = solver.run(np.zeros((4, 2)), lam, Xg, y)
        grad = (Xg.T @ (Xg @ w.ravel() - y) / 50).reshape(4, 2)
        on = np.linalg.norm(w, axis=1) > 0
        np.testing.assert_array_equal(on, [True, False, True, False])
        np.testing.assert_allclose(grad[on], -lam * w[on] / np.linalg.norm(w[on], axis=1,
                                                                          keepdims=True),
                                   atol=1e-8)
        assert np.all(np.linalg.norm(grad[~on], axis=1) <= lam)
        J = fr.jacfwd(lambda lam, s=solver: s.run(np.zeros((4, 2)), lam, Xg, y))(lam)
        np.testing.assert_allclose(J[~on], 0.0, atol=1e-10)
        eps = 1e-6
        fd = (solver.run(np.zeros((4, 2)), lam + eps, Xg, y)
              - solver.run(np.zeros((4, 2)), lam - eps, Xg, y)) / (2 * eps)
        np.testing.assert_allclose(J, fd, atol=1e-6)


def test_solver_errors_and_non_convergence_warning():
    with pytest.raises(ValueError, match="pass maxiter to ProximalGradient as a positive"):
        ProximalGradient(lasso_loss, prox.l1, maxiter=0)
    with pytest.raises(ValueError, match="pass stepsize as a positive number"):
        ProximalGradient(lasso_loss, prox.l1, stepsize=-1.0)
    with pytest.raises(fr.ShapeError, match="pass init to BlockCoordinateDescent as a 1-D"):
        BlockCoordinateDescent(lambda w: np.sum(w ** 2), prox.l1).run(np.zeros((2, 2, 2)), 1.0)
    with pytest.warns(RuntimeWarning, match="ProximalGradient did not converge"):
        ProximalGradient(lasso_loss, prox.l1, maxiter=3).run(np.zeros(P), LAM, X, Y)


def test_docstring_and_documentation_examples_run():
    import pathlib

    from frechet.implicit import _proximal
    assert doctest.testmod(prox).failed == 0
    assert doctest.testmod(_proximal).failed == 0
    text = (pathlib.Path(__file__).parent.parent / "docs" / "implicit.md").read_text()
    section = text.split("## Proximal splitting and FPAD")[1]
    code = section.split("```python\n")[1].split("```")[0]
    exec(compile(code, "docs/implicit.md", "exec"), {})  # noqa: S102
