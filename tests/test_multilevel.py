"""frechet.multilevel: hypergradients against closed forms, the engine's conventions, errors."""

import numpy as np
import pytest

import frechet
from frechet import linalg, optim
from frechet.multilevel import (
    Engine,
    FiniteDifference,
    Implicit,
    Neumann,
    Problem,
    Unroll,
    check,
)

# -- a quadratic three-level problem with a closed-form answer ------------------------------
#
# bottom: 0.5 b'Ab b - b'(P m + Q t)             ->  b*(m, t) = K m + Kt t
# mid:    0.5 m'Am m - m'R t + 0.5 |b - c|^2      ->  m*(t) = S t + s0 (b = b*(m, t))
# top:    0.5 |m - d|^2 + 0.5 |b - e|^2 + 0.5 mu |t|^2


def _spd(rng, n, shift):
    X = rng.normal(size=(n, n))
    return X @ X.T / n + shift * np.eye(n)


class Quad:
    def __init__(self, seed=0, n=3):
        rng = np.random.default_rng(seed)
        self.Ab, self.Am = _spd(rng, n, 1.0), _spd(rng, n, 1.0)
        self.P, self.Q, self.R = (0.5 * rng.normal(size=(n, n)) for _ in range(3))
        self.c, self.d, self.e = (rng.normal(size=n) for _ in range(3))
        self.mu, self.n = 0.3, n
        self.t0 = rng.normal(size=n)
        self.K = np.linalg.solve(self.Ab, self.P)
        self.Kt = np.linalg.solve(self.Ab, self.Q)
        H = self.Am + self.K.T @ self.K
        self.S = np.linalg.solve(H, self.R - self.K.T @ self.Kt)
        self.s0 = np.linalg.solve(H, self.K.T @ self.c)

    def bottom_loss(self, b, m, t, batch):
        return 0.5 * b @ self.Ab @ b - b @ (self.P @ m + self.Q @ t)

    def mid_loss(self, m, t, b, batch):
        return 0.5 * m @ self.Am @ m - m @ self.R @ t + 0.5 * np.sum((b - self.c) ** 2)

    def top_loss(self, t, m, b, batch):
        return (0.5 * np.sum((m - self.d) ** 2) + 0.5 * np.sum((b - self.e) ** 2)
                + 0.5 * self.mu * t @ t)

    def solution(self, t):
        m = self.S @ t + self.s0
        return m, self.K @ m + self.Kt @ t

    def top_grad_and_hessian(self, t):
        m, b = self.solution(t)
        J = self.K @ self.S + self.Kt
        g = self.S.T @ (m - self.d) + J.T @ (b - self.e) + self.mu * t
        return g, self.S.T @ self.S + J.T @ J + self.mu * np.eye(self.n)

    def engine(self, mid_method, bottom_method, at_solution=True, lr=0.2):
        t = self.t0
        m, b = self.solution(t) if at_solution else (np.zeros(self.n), np.zeros(self.n))
        probs = [Problem("top", self.top_loss, t, optim.sgd(0.1)),
                 Problem("mid", self.mid_loss, m, optim.sgd(lr), method=mid_method),
                 Problem("bottom", self.bottom_loss, b, optim.sgd(lr), method=bottom_method)]
        return Engine(probs, upper_to_lower={"top": ["mid", "bottom"], "mid": ["bottom"]},
                      lower_to_upper={"mid": ["top"], "bottom": ["mid", "top"]})


# Seed 0: sgd(0.35) and Neumann(alpha=0.35) contract by at most 0.64 per step on both lower
# levels, so 60 steps or terms leave an error below 1e-11.
EXACT_METHODS = [
    ("implicit", "implicit"),
    (Implicit(solver=linalg.CG(tol=1e-12)), Implicit(solver=linalg.CG(tol=1e-12))),
    (Neumann(60, alpha=0.35), Neumann(60, alpha=0.35)),
    (Unroll(60), Implicit()),
    (Implicit(), Unroll(60)),
    (Neumann(60, alpha=0.35), Unroll(60)),
    (Unroll(60), Neumann(60, alpha=0.35)),
    pytest.param(Unroll(60), Unroll(60), marks=pytest.mark.slow),
]


@pytest.mark.parametrize("mid, bottom", EXACT_METHODS, ids=repr)
def test_three_level_hypergradient_matches_closed_form(mid, bottom):
    q = Quad(seed=0)
    engine = q.engine(mid, bottom, lr=0.35)
    g, H = q.top_grad_and_hessian(q.t0)
    np.testing.assert_allclose(engine.hypergradient("top"), g, rtol=1e-8, atol=1e-10)
    # the top level's Hessian, through the same differentiable responses
    H_engine = frechet.hessian(lambda t: engine.total_loss("top", t))(q.t0)
    np.testing.assert_allclose(H_engine, H, rtol=1e-7, atol=1e-9)


def test_three_level_implicit_quick():
    q = Quad(seed=1)
    engine = q.engine(Implicit(), Implicit())
    g, _ = q.top_grad_and_hessian(q.t0)
    np.testing.assert_allclose(engine.hypergradient("top"), g, rtol=1e-9, atol=1e-10)
    # the middle problem's hypergradient: its total derivative through the bottom's response
    m, b = q.solution(q.t0)
    g_mid = q.Am @ m - q.R @ q.t0 + q.K.T @ (b - q.c)
    np.testing.assert_allclose(engine.hypergradient("mid"), g_mid, atol=1e-10)
    np.testing.assert_allclose(engine.hypergradient("mid"), 0.0, atol=1e-10)  # an optimum


def test_three_level_hessian_through_engine():
    q = Quad(seed=2)
    engine = q.engine(Implicit(), Implicit())
    _, H = q.top_grad_and_hessian(q.t0)
    H_engine = frechet.hessian(lambda t: engine.total_loss("top", t))(q.t0)
    np.testing.assert_allclose(H_engine, H, rtol=1e-8, atol=1e-10)


def test_unrolled_implicit_and_exact_differ_off_the_optimum():
    # Pitfall: at an unconverged lower state, the implicit formula, the unrolled derivative
    # and the exact hypergradient are three different numbers.
    q = Quad(seed=3)
    g_exact, _ = q.top_grad_and_hessian(q.t0)
    g_imp = q.engine(Implicit(), Implicit(), at_solution=False).hypergradient("top")
    g_unr = q.engine(Unroll(3), Unroll(3), at_solution=False).hypergradient("top")
    assert np.max(np.abs(g_imp - g_exact)) > 1e-3
    assert np.max(np.abs(g_unr - g_exact)) > 1e-3
    assert np.max(np.abs(g_unr - g_imp)) > 1e-3


def test_finite_difference_is_an_approximation_reported_by_check(capsys):
    q = Quad(seed=4)
    engine = q.engine(Implicit(), FiniteDifference(1e-4))
    report = check(engine, rtol=1e-6)
    rows = {r.problem: r for r in report.rows}
    assert rows["top"].error_vs_exact > 1e-3 and not rows["top"].ok
    assert rows["top"].error_vs_fd > 1e-3
    assert "FiniteDifference" in capsys.readouterr().out
    # Betty's finite difference replaces H^-1 by I: on a one-level quadratic with H = 2 I
    # the hypergradient is off by exactly the factor 2.
    inner = Problem("inner", lambda w, lam, batch: np.sum((w - lam) ** 2), np.array([0.5, 0.2]),
                    optim.sgd(0.25), method="finite_difference")
    outer = Problem("outer", lambda lam, w, batch: np.sum((w - 1.0) ** 2), np.array([0.5, 0.2]),
                    optim.sgd(0.25))
    e2 = Engine([outer, inner], upper_to_lower={"outer": ["inner"]},
                lower_to_upper={"inner": ["outer"]})
    np.testing.assert_allclose(e2.hypergradient("outer"), [-2.0, -3.2], rtol=1e-6)


def test_check_passes_for_exact_methods():
    q = Quad(seed=5)
    report = check(q.engine(Implicit(), Neumann(200, alpha=0.3)), rtol=1e-6, verbose=False)
    assert report.ok, str(report)
    assert all(r.error_vs_fd < 1e-5 for r in report.rows), str(report)
    assert "top" in str(report) and "Neumann(200" in str(report)


def test_check_exact_resolves_an_unconverged_state():
    # Off the optimum the engine's implicit hypergradient is wrong, and check says so.
    q = Quad(seed=6)
    report = check(q.engine(Implicit(), Implicit(), at_solution=False), verbose=False)
    top = {r.problem: r for r in report.rows}["top"]
    assert not top.ok and top.error_vs_exact > 1e-3
    g, _ = q.top_grad_and_hessian(q.t0)
    np.testing.assert_allclose(top.exact, g, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(top.fd, g, rtol=1e-6, atol=1e-8)


# -- bilevel ridge regression: tune log lambda ---------------------------------------------

def _ridge_data(seed=0):
    rng = np.random.default_rng(seed)
    X, Xv = rng.normal(size=(20, 4)), rng.normal(size=(15, 4))
    w_true = rng.normal(size=4)
    return X, X @ w_true + rng.normal(size=20), Xv, Xv @ w_true + 0.1 * rng.normal(size=15)


def _ridge_engine(method, theta=0.0, w=None):
    X, y, Xv, yv = _ridge_data()
    lam = np.exp(theta)
    w = np.linalg.solve(X.T @ X + lam * np.eye(4), X.T @ y) if w is None else w
    train = Problem("train", lambda w, th, batch: 0.5 * np.sum((X @ w - y) ** 2)
                    + 0.5 * np.exp(th) * w @ w, w, optim.sgd(0.01), method=method, steps=50)
    valid = Problem("valid", lambda th, w, batch: 0.5 * np.sum((Xv @ w - yv) ** 2),
                    np.asarray(theta), optim.sgd(0.05))
    return Engine([valid, train], upper_to_lower={"valid": ["train"]},
                  lower_to_upper={"train": ["valid"]})


def _ridge_hypergradient(theta):
    X, y, Xv, yv = _ridge_data()
    lam = np.exp(theta)
    A = X.T @ X + lam * np.eye(4)
    w = np.linalg.solve(A, X.T @ y)
    dw = -np.linalg.solve(A, w)            # dw / dlambda
    return lam * (Xv.T @ (Xv @ w - yv)) @ dw


@pytest.mark.parametrize("method", ["implicit", Implicit(linalg.CG(tol=1e-12)),
                                    Neumann(400, alpha=0.02), Unroll(400)], ids=repr)
def test_ridge_log_lambda_hypergradient(method):
    engine = _ridge_engine(method, theta=0.5)
    np.testing.assert_allclose(engine.hypergradient("valid"), _ridge_hypergradient(0.5),
                               rtol=1e-6, atol=1e-10)


def test_ridge_tuning_lowers_validation_loss():
    engine = _ridge_engine("implicit", theta=2.0)
    history = engine.run(15, progress=False)
    assert history["valid"][-1] < history["valid"][0]
    assert abs(float(engine.hypergradient("valid"))) < abs(_ridge_hypergradient(2.0))


# -- the engine's conventions ----------------------------------------------------------------

def _value(a):
    if a is None or isinstance(a, str):
        return a
    try:
        return float(np.asarray(a).ravel()[0])
    except frechet.TracerConversionError:
        return "traced"


def _recording_engine(calls, steps=1, **kw):
    def loss_of(name):
        def loss(*args):
            calls.append((name, [_value(a) for a in args]))
            params = args[0]
            return 0.5 * np.sum(params ** 2) + 0.0 * sum(np.sum(a) for a in args[1:-1])
        return loss
    probs = [Problem(n, loss_of(n), np.array([v]), optim.sgd(0.1), steps=steps, **kw)
             for n, v in (("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0))]
    # a and b above c; c above d; d also below a.
    return Engine(probs, upper_to_lower={"a": ["c", "d"], "b": ["c"], "c": ["d"]},
                  lower_to_upper={"c": ["b", "a"], "d": ["c", "a"]})


def test_loss_call_order_uppers_then_lowers_and_batch_none():
    calls = []
    engine = _recording_engine(calls)
    assert engine.loss("c") == pytest.approx(4.5)
    assert calls[-1] == ("c", [3.0, 2.0, 1.0, 4.0, None])   # own, uppers b a, lower d, batch
    engine.loss("a")
    assert calls[-1] == ("a", [1.0, 3.0, 4.0, None])
    engine.loss("d")
    assert calls[-1] == ("d", [4.0, 3.0, 1.0, None])
    assert engine.graph.order.index("c") < engine.graph.order.index("d")


def test_run_with_data_batches_callback_and_progress(capsys):
    calls, logged = [], []
    engine = _recording_engine(calls)
    history = engine.run(3, data=["x", "y"], callback=lambda i, losses: logged.append((i, losses)))
    assert [i for i, _ in logged] == [0, 1, 2]
    assert set(logged[0][1]) == {"a", "b", "c", "d"}
    assert history["d"].shape == (3,) and history["d"][-1] == pytest.approx(logged[-1][1]["d"])
    batches = [args[-1] for name, args in calls if name == "d"]
    assert set(batches) == {"x", "y"} and batches[-1] == "x"       # cycled: x, y, x
    err = capsys.readouterr().err
    assert "multilevel" in err and "3/3" in err          # tqdm's bar or the plain line
    # a per-problem dict of data; an iterator ends the run when it runs out
    calls.clear()
    history = engine.run(5, data={"d": iter(["p", "q"])}, progress=False)
    assert history["a"].shape == (2,)
    assert {args[-1] for name, args in calls if name == "c"} == {None}
    assert {args[-1] for name, args in calls if name == "d"} == {"p", "q"}


def test_run_order_lowest_first_and_warm_start():
    q = Quad(seed=7)
    seen = []
    # warm_start=False: the bottom problem restarts from its initial params every iteration
    engine = q.engine(Unroll(5), Unroll(5), at_solution=False)
    engine.problems["bottom"] = Problem("bottom", q.bottom_loss, np.zeros(q.n), optim.sgd(0.2),
                                        steps=1, warm_start=False)
    engine.run(2, progress=False, callback=lambda i, losses: seen.append(dict(engine.params)))
    m1, t1 = seen[0]["mid"], seen[0]["top"]
    # lowest first: iteration 2's bottom step sees mid and top as iteration 1 left them
    np.testing.assert_allclose(engine.params["bottom"], 0.2 * (q.P @ m1 + q.Q @ t1), atol=1e-12)
    # a warm-started bottom keeps going from where it was
    warm = q.engine(Unroll(5), Unroll(5), at_solution=False)
    warm.run(2, progress=False)
    assert np.max(np.abs(warm.params["bottom"] - engine.params["bottom"])) > 1e-3


# -- errors -----------------------------------------------------------------------------------

def _p(name):
    return Problem(name, lambda x, *a: np.sum(x ** 2), np.zeros(1), optim.sgd(0.1))


def test_errors_for_bad_graphs_lead_with_the_fix():
    with pytest.raises(ValueError, match=r"^remove an edge of the cycle a -> b -> a"):
        Engine([_p("a"), _p("b")], upper_to_lower={"a": ["b"]}, lower_to_upper={"a": ["b"]})
    with pytest.raises(ValueError, match=r"^use one of the problem names \['a', 'b'\].*'z'"):
        Engine([_p("a"), _p("b")], upper_to_lower={"a": ["z"]})
    with pytest.raises(ValueError, match=r"^remove 'a' from its own list"):
        Engine([_p("a")], lower_to_upper={"a": ["a"]})
    with pytest.raises(ValueError, match=r"^give every Problem a distinct name"):
        Engine([_p("a"), _p("a")])
    with pytest.raises(TypeError, match=r"^pass upper_to_lower\['a'\] as a list"):
        Engine([_p("a"), _p("b")], upper_to_lower={"a": "b"})
    with pytest.raises(KeyError, match=r"use one of the problem names"):
        Engine([_p("a")]).hypergradient("nope")
    with pytest.raises(ValueError, match=r"^pass method= as one of"):
        Problem("a", lambda x, b: 0.0, np.zeros(1), optim.sgd(0.1), method="first_order")
    with pytest.raises(ValueError, match=r"^pass a positive integer steps"):
        Unroll(0)


def test_documentation_examples_run():
    import doctest
    import pathlib

    from frechet.multilevel import _check, _engine, _methods, _problem
    for module in (_check, _engine, _methods, _problem):
        assert doctest.testmod(module).failed == 0, module.__name__
    text = (pathlib.Path(__file__).parent.parent / "docs" / "multilevel.md").read_text()
    for block in text.split("```python\n")[1:]:
        exec(compile(block.split("```")[0], "docs/multilevel.md", "exec"), {})  # noqa: S102


def _one_dim(method, lr=0.2):
    inner = Problem("inner", lambda w, lam, batch: (w - lam) ** 2, np.asarray(0.0),
                    optim.sgd(lr), method=method)
    outer = Problem("outer", lambda lam, w, batch: (w - 1.0) ** 2, np.asarray(0.5),
                    optim.sgd(0.1))
    return Engine([outer, inner], upper_to_lower={"outer": ["inner"]},
                  lower_to_upper={"inner": ["outer"]})


@pytest.mark.parametrize("truncate, seen", [(None, 5), (2, 1), (3, 2), (5, 5)])
def test_unroll_truncation(truncate, seen):
    # w_k = lam + 0.6^k (w_0 - lam); truncation differentiates only the last `seen` steps
    engine = _one_dim(Unroll(5, truncate=truncate))
    w5 = 0.5 + 0.6 ** 5 * (0.0 - 0.5)
    expected = 2 * (w5 - 1.0) * (1 - 0.6 ** seen)
    np.testing.assert_allclose(engine.hypergradient("outer"), expected, rtol=1e-12)


@pytest.mark.parametrize("method", [Implicit(), Unroll(80), Neumann(80, 0.35)], ids=repr)
def test_pytree_params(method):
    q = Quad(seed=0)
    m, b = q.solution(q.t0)
    bottom = Problem("bottom", lambda p, m, t, batch: q.bottom_loss(p["b"], m, t, batch),
                     {"b": b}, optim.sgd(0.35), method=method)
    mid = Problem("mid", lambda m, t, p, batch: q.mid_loss(m, t, p["b"], batch), m,
                  optim.sgd(0.35), method=method)
    top = Problem("top", lambda t, m, p, batch: q.top_loss(t, m, p["b"], batch), q.t0,
                  optim.sgd(0.1))
    engine = Engine([top, mid, bottom],
                    upper_to_lower={"top": ["mid", "bottom"], "mid": ["bottom"]},
                    lower_to_upper={"mid": ["top"], "bottom": ["mid", "top"]})
    g, _ = q.top_grad_and_hessian(q.t0)
    np.testing.assert_allclose(engine.hypergradient("top"), g, rtol=1e-8, atol=1e-10)


def test_finite_difference_in_the_middle_composes():
    q = Quad(seed=0)
    engine = q.engine(FiniteDifference(1e-4), Implicit())
    report = check(engine, verbose=False)
    top = report.rows[0]
    assert top.problem == "top" and np.all(np.isfinite(top.hypergradient))
    assert top.error_vs_exact > 1e-3                       # an approximation, reported
    np.testing.assert_allclose(top.fd, top.exact, rtol=1e-6, atol=1e-8)


def test_finite_difference_has_no_forward_mode():
    q = Quad(seed=0)
    engine = q.engine(Implicit(), FiniteDifference(1e-4))
    with pytest.raises(frechet.NonDifferentiableError, match=r"^use Implicit\(\), Neumann"):
        frechet.hessian(lambda t: engine.total_loss("top", t))(q.t0)
