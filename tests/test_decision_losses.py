"""SPO+, DBB, NID and the regret metrics: bounds, (sub)gradients, min/max sign conventions."""

import numpy as np
import pytest

import frechet as fr
from frechet.decision import (
    Argmax,
    Knapsack,
    LinearProgram,
    ShortestPath,
    dbb,
    nid,
    normalized_regret,
    regret,
    spo_plus,
)

RNG = np.random.default_rng(0)
KNAPSACK = Knapsack(RNG.choice(np.arange(300, 800), (2, 10)) / 100, 15.0)
ORACLES = [ShortestPath((3, 4)), KNAPSACK, Argmax()]


def argmin_simplex(d):
    """The minimisation twin of Argmax, from an independent solver (HiGHS on the simplex)."""
    return LinearProgram(d, A_eq=np.ones((1, d)), b_eq=[1.0], bounds=(0, 1))


def instance(oracle, b=30, seed=1):
    d = oracle.num_cost or 6
    rng = np.random.default_rng(seed)
    true = rng.uniform(1.0, 3.0, (b, d))
    pred = true + rng.normal(0.0, 1.5, (b, d))
    sol, obj = oracle.solve(true)
    return pred, true, sol, obj


@pytest.mark.parametrize("oracle", ORACLES, ids=repr)
def test_spo_plus_bounds_regret_bounds_zero(oracle):
    pred, true, sol, obj = instance(oracle)
    loss = spo_plus(pred, true, sol, obj, oracle)
    reg = regret(pred, true, obj, oracle)
    assert loss.shape == reg.shape == (30,)
    assert np.all(reg >= -1e-12) and np.any(reg > 0.1)
    assert np.all(loss >= reg - 1e-12)
    np.testing.assert_allclose(regret(true, true, obj, oracle), 0.0, atol=1e-12)
    np.testing.assert_allclose(spo_plus(true, true, sol, obj, oracle), 0.0, atol=1e-12)


@pytest.mark.parametrize("oracle", ORACLES, ids=repr)
def test_spo_plus_gradient(oracle):
    """grad = s 2 (w*(c) - w*(2 c_hat - c)), and equal to central differences (SPO+ is
    piecewise linear, so away from kinks they agree to rounding)."""
    pred, true, sol, obj = instance(oracle, b=8)
    g = fr.grad(lambda p: np.sum(spo_plus(p, true, sol, obj, oracle)))(pred)
    s = oracle.sense.value
    np.testing.assert_allclose(g, s * 2 * (sol - oracle.solve(2 * pred - true)[0]), atol=1e-12)
    h = 1e-6
    direction = np.random.default_rng(2).normal(size=pred.shape)
    f = lambda p: np.sum(spo_plus(p, true, sol, obj, oracle))
    fd = (f(pred + h * direction) - f(pred - h * direction)) / (2 * h)
    np.testing.assert_allclose(np.sum(g * direction), fd, rtol=1e-6)


@pytest.mark.parametrize("oracle", ORACLES, ids=repr)
def test_spo_plus_is_convex(oracle):
    pred, true, sol, obj = instance(oracle)
    other = instance(oracle, seed=3)[0]
    f = lambda p: spo_plus(p, true, sol, obj, oracle)
    for t in (0.25, 0.5, 0.8):
        assert np.all(f(t * pred + (1 - t) * other) <= t * f(pred) + (1 - t) * f(other) + 1e-9)


def test_max_conventions_are_the_negated_min_problem():
    """Argmax on costs c is argmin on -c: losses equal, gradients negated (PyEPO's signs)."""
    amax, amin = Argmax(), argmin_simplex(6)
    pred, true, sol, obj = instance(amax)
    np.testing.assert_allclose(sol, amin.solve(-true)[0], atol=1e-12)
    max_loss = lambda p: np.sum(spo_plus(p, true, sol, obj, amax))
    min_loss = lambda p: np.sum(spo_plus(p, -true, sol, -obj, amin))
    np.testing.assert_allclose(max_loss(pred), min_loss(-pred), rtol=1e-12)
    np.testing.assert_allclose(fr.grad(max_loss)(pred), -fr.grad(min_loss)(-pred), atol=1e-12)
    np.testing.assert_allclose(regret(pred, true, obj, amax), regret(-pred, -true, -obj, amin),
                               atol=1e-12)
    g = np.random.default_rng(4).normal(size=pred.shape)
    for make in (lambda o: dbb(o, lam=0.7), nid):
        lmax, lmin = make(amax), make(amin)
        gmax = fr.grad(lambda p, lmax=lmax: np.sum(lmax(p) * g))(pred)
        gmin = fr.grad(lambda p, lmin=lmin: np.sum(lmin(-p) * g))(pred)
        np.testing.assert_allclose(gmax, gmin, atol=1e-12)


@pytest.mark.parametrize("oracle", ORACLES[:2], ids=repr)
def test_dbb_gradient_is_the_interpolations(oracle):
    """For an upstream gradient g, DBB's gradient is the exact gradient of
    phi(c) = s (z*(c + s lam g) - z*(c)) / lam (Vlastelica et al.), checked by central
    differences of phi built from objective values only."""
    pred, *_ = instance(oracle, b=5)
    lam, s = 2.0, oracle.sense.value
    upstream = np.random.default_rng(5).normal(size=pred.shape)
    layer = dbb(oracle, lam=lam)
    np.testing.assert_array_equal(layer(pred), oracle.solve(pred)[0])
    g = fr.grad(lambda p: np.sum(layer(p) * upstream))(pred)

    def phi(c):
        return s * np.sum(oracle.solve(c + s * lam * upstream)[1] - oracle.solve(c)[1]) / lam
    h = 1e-6
    direction = np.random.default_rng(6).normal(size=pred.shape)
    fd = (phi(pred + h * direction) - phi(pred - h * direction)) / (2 * h)
    np.testing.assert_allclose(np.sum(g * direction), fd, rtol=1e-6, atol=1e-9)
    assert np.any(g != 0)
    with pytest.raises(ValueError, match="lam > 0"):
        dbb(oracle, lam=0.0)


def test_nid_gradient():
    oracle = ShortestPath((3, 3))
    pred, *_ = instance(oracle, b=4)
    upstream = np.random.default_rng(7).normal(size=pred.shape)
    g = fr.grad(lambda p: np.sum(nid(oracle)(p) * upstream))(pred)
    np.testing.assert_array_equal(g, -upstream)


def test_normalized_regret_is_pyepos_ratio():
    oracle = ShortestPath((3, 3))
    pred, true, _sol, obj = instance(oracle, b=50)
    # the regret of each instance recomputed by hand: true cost of the predicted decision
    decided = np.array([oracle.solve(p)[0] for p in pred])
    by_hand = np.sum(np.sum(true * decided, axis=1) - obj) / np.sum(np.abs(obj))
    np.testing.assert_allclose(normalized_regret(pred, true, obj, oracle), by_hand, rtol=1e-12)


def test_training_gradient_under_jit_and_vmap():
    """A NumPy loss of a linear model through SPO+: jit and vmap agree with plain grad."""
    oracle = ShortestPath((3, 3))
    rng = np.random.default_rng(8)
    x = rng.normal(size=(16, 4))
    _pred, true, sol, obj = instance(oracle, b=16)
    W = rng.normal(size=(4, 12))

    def loss(W, x, true, sol, obj):
        return np.mean(spo_plus(x @ W, true, sol, obj, oracle))

    g = fr.grad(loss)(W, x, true, sol, obj)
    np.testing.assert_allclose(fr.jit(fr.grad(loss))(W, x, true, sol, obj), g, atol=1e-12)
    per_example = fr.vmap(fr.grad(loss), in_axes=(None, 0, 0, 0, 0))(
        W, x[:, None], true[:, None], sol[:, None], obj[:, None])
    np.testing.assert_allclose(np.mean(per_example, axis=0), g, atol=1e-12)


@pytest.mark.parametrize("make", [lambda o: dbb(o, lam=2.0), nid], ids=["dbb", "nid"])
def test_layers_under_jit_and_vmap(make):
    oracle = ShortestPath((3, 3))
    layer = make(oracle)
    rng = np.random.default_rng(9)
    c, g = rng.uniform(size=(8, 12)), rng.normal(size=(8, 12))

    def f(c):
        return np.sum(layer(c) * g)
    eager = fr.grad(f)(c)
    jitted = fr.jit(fr.grad(f))
    np.testing.assert_array_equal(jitted(c), eager)
    np.testing.assert_array_equal(jitted(c + 0.3), fr.grad(f)(c + 0.3))
    per_row = fr.vmap(fr.grad(lambda ci, gi: np.sum(layer(ci) * gi)))(c, g)
    np.testing.assert_array_equal(per_row, eager)


def test_shapes_are_checked():
    oracle = ShortestPath((3, 3))
    pred, true, sol, obj = instance(oracle, b=4)
    with pytest.raises(fr.ShapeError, match=r"true_obj of shape \(4,\)"):
        spo_plus(pred, true, sol, obj[:, None], oracle)      # PyEPO's (B, 1) objectives
    with pytest.raises(fr.ShapeError, match="true_sol with pred_cost's shape"):
        spo_plus(pred, true, sol[:2], obj, oracle)
    with pytest.raises(fr.ShapeError, match="true_cost with pred_cost's shape"):
        regret(pred, true[:, :5], obj, oracle)
