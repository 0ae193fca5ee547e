"""The optimisers built on verified bounds: SafeRate and the universal MM optimiser never
increase the loss and reach at least gradient descent's best of five rates."""

import itertools

import numpy as np
import pytest

import frechet as fr
from frechet.bounds import SafeRate, UniversalMM, minimize

# ---- SafeRate: step sizes from verified bounds

def _problems():
    rng = np.random.default_rng(0)
    a, y = rng.standard_normal((30, 5)), rng.standard_normal(30)
    x = rng.standard_normal((50, 3))
    lab = (x @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.standard_normal(50) > 0).astype(float)
    return {
        "quartic": (lambda w: np.sum((w - 1.0) ** 4) + 0.5 * np.sum(w ** 2), np.zeros(4)),
        "least_squares": (lambda w: 0.5 * np.mean((a @ w - y) ** 2), np.zeros(5)),
        "logistic": (lambda w: np.mean(np.logaddexp(0.0, -(2 * lab - 1) * (x @ w))), np.zeros(3)),
        "tiny_mlp": (lambda p: np.mean((np.tanh(x @ p["w1"] + p["b1"]) @ p["w2"] - lab) ** 2),
                     {"w1": 0.5 * rng.standard_normal((3, 4)), "b1": np.zeros(4),
                      "w2": 0.5 * rng.standard_normal(4)}),
    }


def _best_gradient_descent(f, p0, steps=100):
    from frechet._src import tree
    g, best = fr.grad(f), np.inf
    for lr in (0.001, 0.01, 0.1, 1.0, 10.0):
        p = p0
        with np.errstate(all="ignore"):
            for _ in range(steps):
                leaves, treedef = tree.flatten(p)
                p = tree.unflatten(treedef, [v - lr * d for v, d in
                                             zip(leaves, tree.flatten(g(p))[0])])
            value = f(p)
        if np.isfinite(value):
            best = min(best, value)
    return best


@pytest.mark.parametrize("name", ["quartic", "least_squares", "logistic", "tiny_mlp"])
def test_safe_rate_never_increases_the_loss(name):
    f, p0 = _problems()[name]
    _, history = minimize(f, p0, 100)
    assert all(b <= a for a, b in itertools.pairwise(history)), name
    if name != "tiny_mlp":              # as low as gradient descent's best of five rates
        assert history[-1] <= _best_gradient_descent(f, p0) * (1 + 1e-9) + 1e-15
    assert history[-1] < 0.8 * history[0]


def test_safe_rate_on_a_quadratic_is_exact_line_search():
    d, w = np.array([1.0, 3.0, 10.0]), np.array([1.0, -1.0, 0.5])
    opt = SafeRate(lambda w: 0.5 * np.sum(d * w * w), eta_max=1.0)
    g = d * w
    new, info = opt.step(w)
    np.testing.assert_allclose(info["eta"], (g @ g) / (g @ (d * g)), rtol=1e-12)
    assert info["bound"] >= 0.5 * np.sum(d * new * new) and info["eta_max"] == 0.5


@pytest.mark.parametrize("blocks", ["leaves", "elements"])
@pytest.mark.parametrize("name", ["quartic", "least_squares", "logistic", "tiny_mlp"])
def test_universal_mm_never_increases_the_loss(name, blocks):
    f, p0 = _problems()[name]
    steps = 30 if (name, blocks) == ("tiny_mlp", "elements") else 100
    _, history = minimize(f, p0, steps, method="mm", blocks=blocks)
    assert all(b <= a for a, b in itertools.pairwise(history)), name
    if name != "tiny_mlp":
        assert history[-1] <= _best_gradient_descent(f, p0) * (1 + 1e-9) + 1e-15
    else:                                   # per-block rates beat one rate on the MLP
        _, safe = minimize(f, p0, steps)
        assert history[-1] < safe[-1]


def test_universal_mm_solves_a_separable_quadratic_in_one_step():
    # the bound is exact for a quadratic, and per-element step sizes are Newton's here
    d, w = np.array([1.0, 3.0, 10.0]), np.array([1.0, -1.0, 0.5])
    opt = UniversalMM(lambda w: 0.5 * np.sum(d * w * w), blocks="elements")
    new, info = opt.step(w)
    np.testing.assert_allclose(info["alpha"], 1.0 / d, rtol=1e-12)
    np.testing.assert_allclose(new, 0.0, atol=1e-14)
    np.testing.assert_array_equal(info["alpha_max"], [2.0, 0.5, 0.5])


def test_universal_mm_near_a_domain_edge_and_bad_arguments():
    # log(w) is unbounded below at 0: the bound there is infinite, and the step stays inside
    def f(w):
        return np.sum(w * w - np.log(w))
    p = np.array([2.0, 0.3])
    opt = UniversalMM(f, blocks="elements", alpha_max=100.0)
    values = [f(p)]
    for _ in range(20):
        p, _ = opt.step(p)
        values.append(f(p))
        assert np.all(p > 0)
    assert all(b <= a for a, b in itertools.pairwise(values))
    np.testing.assert_allclose(p, np.sqrt(0.5), rtol=1e-6)
    with pytest.raises(ValueError, match="blocks"):
        UniversalMM(f, blocks="rows")
    with pytest.raises(ValueError, match="method"):
        minimize(f, p, 1, method="adam")


def test_box_quadratic_minimiser():
    from frechet._src.bounds.mm import minimise_box_quadratic
    rng = np.random.default_rng(3)
    grid = np.stack(np.meshgrid(*[np.linspace(0.0, 1.0, 41)] * 3), -1).reshape(-1, 3)
    for trial in range(20):
        c = rng.normal(size=3)
        a = rng.normal(size=(3, 3))
        q = a @ a.T if trial % 2 else 0.5 * (a + a.T)        # convex, then indefinite
        top = np.ones(3)
        x = minimise_box_quadratic(c, q, top, 200)
        value = c @ x + x @ q @ x
        assert np.all((0 <= x) & (x <= top)) and value <= 0.0
        best = np.min(grid @ c + np.einsum("ni,ij,nj->n", grid, q, grid))
        if trial % 2:                                        # convex: the global minimum
            assert value <= best + 1e-9
    # concave along the only coordinate: the better end
    assert minimise_box_quadratic(np.array([-1.0]), np.array([[-1.0]]), np.array([2.0]), 5) == 2.0
    assert minimise_box_quadratic(np.array([1.0]), np.array([[-1.0]]), np.array([0.5]), 5) == 0.0
