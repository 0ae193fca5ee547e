"""decision.fit, and a small end-to-end training run through SPO+."""

import numpy as np
import pytest

import frechet as fr
from frechet import optim
from frechet.decision import ShortestPath, data, fit, normalized_regret, spo_plus


def test_fit_is_the_explicit_minibatch_loop():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(50, 3)), rng.normal(size=50)

    def loss(w, xb, yb):
        return np.mean((xb @ w - yb) ** 2)

    w, hist = fit(loss, np.zeros(3), (x, y), optim.adam(0.05), epochs=3, batch_size=16, seed=7,
                  progress=False)
    assert len(hist) == 3 * 4
    order_rng, opt = np.random.default_rng(7), optim.adam(0.05)
    v, state = np.zeros(3), opt.init(np.zeros(3))
    for _ in range(3):
        order = order_rng.permutation(50)
        for s in range(0, 50, 16):
            rows = order[s:s + 16]
            u, state = opt.update(fr.grad(loss)(v, x[rows], y[rows]), state, v)
            v = v + u
    np.testing.assert_allclose(w, v, rtol=1e-12)
    with pytest.raises(ValueError, match="one first-axis length"):
        fit(loss, np.zeros(3), (x, y[:10]), optim.adam(0.05), epochs=1)


def test_spo_plus_training_lowers_test_regret():
    oracle = ShortestPath((5, 5))
    x, c = data.shortest_path(600, 5, (5, 5), deg=4, noise=0.5, seed=3)
    train, test = data.split(600, 300, seed=3)
    c = c.astype(np.float64)
    sol, obj = oracle.solve(c)
    rng = np.random.default_rng(3)
    params = (rng.uniform(-0.4, 0.4, (5, 40)), rng.uniform(-0.4, 0.4, 40))

    def loss(p, xb, cb, wb, zb):
        return np.mean(spo_plus(xb @ p[0] + p[1], cb, wb, zb, oracle))

    def test_regret(p):
        return normalized_regret(x[test] @ p[0] + p[1], c[test], obj[test], oracle)

    trained, hist = fit(loss, params, (x[train], c[train], sol[train], obj[train]),
                        optim.adam(1e-2), epochs=5, seed=3, progress=False)
    assert test_regret(trained) < 0.5 * test_regret(params)
    assert np.mean(hist[-10:]) < 0.5 * np.mean(hist[:10])


def test_documentation_examples_run():
    """Every docstring example in frechet.decision, and docs/decision.md's program (which
    trains SPO+ and prints the test regret)."""
    import doctest
    import importlib
    import pathlib

    import frechet.decision as package
    names = ["_contrastive", "_fit", "_grid", "_imle", "_knapsack", "_losses", "_oracle",
             "_perturbed", "_pool", "_programs", "_sampling", "_tsp", "data"]
    for name in names:
        module = importlib.import_module(f"frechet.decision.{name}")
        assert doctest.testmod(module).failed == 0, name
    assert {p.stem for p in pathlib.Path(package.__file__).parent.glob("*.py")} == \
        set(names) | {"__init__"}
    text = (pathlib.Path(__file__).parent.parent / "docs" / "decision.md").read_text()
    code = text.split("```python\n")[1].split("```")[0]
    exec(compile(code, "docs/decision.md", "exec"), {})  # noqa: S102
