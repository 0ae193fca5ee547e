"""Pool losses (NCE, CMAP, pointwise/pairwise/listwise LTR): values against scipy formulas,
gradients against central differences, min/max conventions, pool refresh."""

import numpy as np
import pytest
import scipy.special

import frechet as fr
from frechet.decision import (
    Argmax,
    Oracle,
    Sense,
    ShortestPath,
    SolutionPool,
    cmap,
    listwise_ltr,
    nce,
    pairwise_ltr,
    pointwise_ltr,
)

# losses of (pred, true solution) and of (pred, true costs)
BY_SOLUTION = [nce, cmap]
BY_COST = [pointwise_ltr, pairwise_ltr, listwise_ltr]


class Argmin(Oracle):
    sense, num_cost = Sense.MIN, None

    def solve_numpy(self, costs):
        return np.eye(costs.shape[1])[np.argmin(costs, axis=1)]


def paths_pool(solve_ratio=0.0):
    """A pool holding every path of the 3x3 grid (brute force: 6 paths)."""
    oracle = ShortestPath((3, 3))
    rng = np.random.default_rng(0)
    sols = oracle.solve(rng.normal(size=(400, 12)))[0]
    return oracle, SolutionPool(oracle, solve_ratio=solve_ratio, initial=sols)


def data(seed=1, b=6):
    rng = np.random.default_rng(seed)
    true = rng.uniform(0.5, 2.0, (b, 12))
    return true + rng.normal(0, 0.5, (b, 12)), true


def test_pool_of_paths_is_complete():
    _, pool = paths_pool()
    assert pool.pool.shape == (6, 12)


def test_values_against_scipy_formulas():
    oracle, pool = paths_pool()
    pred, true = data()
    sol = oracle.solve(true)[0]
    P = pool.pool
    vp, vt = pred @ P.T, true @ P.T
    own = np.sum(pred * sol, axis=1, keepdims=True)
    np.testing.assert_allclose(nce(pred, sol, pool), np.mean(own - vp, axis=1))
    np.testing.assert_allclose(cmap(pred, sol, pool), np.max(own - vp, axis=1))
    np.testing.assert_allclose(pointwise_ltr(pred, true, pool), np.mean((vt - vp) ** 2, axis=1))
    best = vp[np.arange(6), np.argmin(vt, axis=1)]
    np.testing.assert_allclose(pairwise_ltr(pred, true, pool),
                               np.sum(np.maximum(best[:, None] - vp, 0), axis=1) / 5)
    target = np.maximum(scipy.special.softmax(-vt, axis=1), 1e-8)
    np.testing.assert_allclose(listwise_ltr(pred, true, pool),
                               -np.sum(target * scipy.special.log_softmax(-vp, axis=1), axis=1))


def test_properties_at_the_truth():
    oracle, pool = paths_pool()
    pred, true = data()
    sol = oracle.solve(true)[0]
    assert np.all(cmap(pred, sol, pool) >= 0)
    np.testing.assert_allclose(cmap(true, sol, pool), 0.0, atol=1e-12)
    np.testing.assert_allclose(pointwise_ltr(true, true, pool), 0.0, atol=1e-12)
    np.testing.assert_allclose(pairwise_ltr(true, true, pool), 0.0, atol=1e-12)
    assert np.all(listwise_ltr(true, true, pool) <= listwise_ltr(pred, true, pool) + 1e-12)
    g = fr.grad(lambda p: np.sum(listwise_ltr(p, true, pool)))(true)
    np.testing.assert_allclose(g, 0.0, atol=1e-6)         # only the 1e-8 clip is left


@pytest.mark.parametrize("loss", BY_SOLUTION + BY_COST, ids=lambda f: f.__name__)
def test_gradients_against_central_differences(loss):
    oracle, pool = paths_pool()
    pred, true = data(seed=2)
    second = oracle.solve(true)[0] if loss in BY_SOLUTION else true
    f = lambda p: np.sum(loss(p, second, pool))
    g = fr.grad(f)(pred)
    direction = np.random.default_rng(3).normal(size=pred.shape)
    h = 1e-6
    fd = (f(pred + h * direction) - f(pred - h * direction)) / (2 * h)
    np.testing.assert_allclose(np.sum(g * direction), fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("loss", BY_SOLUTION + BY_COST, ids=lambda f: f.__name__)
def test_max_is_the_negated_min_problem(loss):
    rng = np.random.default_rng(4)
    pred, true = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    pmax = SolutionPool(Argmax(), solve_ratio=0.0, initial=np.eye(4))
    pmin = SolutionPool(Argmin(), solve_ratio=0.0, initial=np.eye(4))
    if loss in BY_SOLUTION:
        sol = Argmax().solve(true)[0]
        fmax = lambda p: np.sum(loss(p, sol, pmax))
        fmin = lambda p: np.sum(loss(-p, sol, pmin))
    else:
        fmax = lambda p: np.sum(loss(p, true, pmax))
        fmin = lambda p: np.sum(loss(-p, -true, pmin))
    np.testing.assert_allclose(fmax(pred), fmin(pred), rtol=1e-12)
    np.testing.assert_allclose(fr.grad(fmax)(pred), fr.grad(fmin)(pred), atol=1e-12)


def test_losses_refresh_the_pool():
    oracle = ShortestPath((3, 3))
    pool = SolutionPool(oracle, solve_ratio=1.0, initial=np.zeros((1, 12)))
    pred, true = data(seed=5)
    nce(pred, oracle.solve(true)[0], pool)
    decided = oracle.solve(pred)[0]
    assert all(np.any(np.all(pool.pool == w, axis=1)) for w in decided)
