"""multilevel_reweight (issue 17): one outer step of data reweighting (Meta-Weight-Net style)
in frechet.multilevel, with the lower problem's hypergradient method as the candidate.

Lower problem: multinomial logistic regression on a long-tailed, label-noised training set,
per-example weights u_i = V(l0_i; phi) from a weighting net (tanh units, sigmoid output) of
each example's loss under the unweighted classifier. Upper problem: the cross-entropy on a
clean, balanced meta set, over phi. The timed call is the upper problem's hypergradient
(engine.hypergradient("meta")) at a fixed state (the classifier's unweighted solution), its
lower problem responding by Unroll(5), Implicit(CG, 5 iterations), Neumann(5) or
FiniteDifference: Betty's hypergradient types at 5 unroll steps / iterations. Frechet only, no
peer bar (Betty needs PyTorch's CUDA-era APIs). Each row also reports tracemalloc's peak over
one call and the relative error against the exact hypergradient (Implicit with a dense solve
at the lower problem's solution): the methods differ by design.
"""

from __future__ import annotations

import tracemalloc

import numpy as np

from frechet._src.bench.workload import Workload

N, FEATURES, CLASSES, HIDDEN = 60_000, 20, 10, 16
IMBALANCE, FLIP, REG, N_META = 50.0, 0.3, 1e-2, 20
LR = 0.5


def _losses(W, X, y):
    z = X @ W.T
    zmax = np.max(z, axis=1, keepdims=True)
    logsumexp = zmax[:, 0] + np.log(np.sum(np.exp(z - zmax), axis=1))
    return logsumexp - np.take_along_axis(z, y[:, None], axis=1)[:, 0]


def _weights(phi, l0):
    h = np.tanh(np.outer(l0, phi["a"]) + phi["c"])
    return 1.0 / (1.0 + np.exp(-(h @ phi["v"] + phi["e"])))


def _classifier(W, phi, l0, X, y):
    u = _weights(phi, l0)
    return np.sum(u * _losses(W, X, y)) / np.sum(u) + 0.5 * REG * np.sum(W * W)


def _blobs(rng, centres, counts, flip):
    y = np.repeat(np.arange(len(counts)), counts)
    X = centres[y] + rng.standard_normal((len(y), centres.shape[1]))
    noisy = rng.random(len(y)) < flip
    y = np.where(noisy, (y + rng.integers(1, len(counts), len(y))) % len(counts), y)
    return np.hstack([X, np.ones((len(y), 1))]), y


def make_data(n=N, features=FEATURES, classes=CLASSES):
    """Training set (n points, long-tailed, noised), meta set, the unweighted classifier and
    the baseline losses l0, the weighting net phi, and the exact hypergradient."""
    from frechet import linalg
    from frechet.multilevel import Implicit

    rng = np.random.default_rng(0)
    centres = 1.5 * rng.standard_normal((classes, features))
    shares = IMBALANCE ** (-np.arange(classes) / (classes - 1))
    counts = np.maximum(1, np.round(n * shares / shares.sum())).astype(int)
    d = {"train": _blobs(rng, centres, counts, FLIP),
         "meta": _blobs(rng, centres, [N_META] * classes, 0.0),
         "phi": {"a": rng.standard_normal(HIDDEN), "c": rng.standard_normal(HIDDEN),
                 "v": 0.3 * rng.standard_normal(HIDDEN), "e": np.asarray(0.0)},
         "classes": classes}
    # the baseline losses are data (any accuracy will do); the solution for phi is not
    d["W"], d["l0"] = _solve(d, np.ones(d["train"][1].size), tol=1e-6)
    # the classifier at its (weighted) solution for phi: where Implicit is exact
    d["W"], _ = _solve(d, _weights(d["phi"], d["l0"]))
    d["exact"] = _engine(d, Implicit(linalg.CG(tol=1e-12)))[1]()
    return d


def _solve(d, u, tol=1e-10):
    """The weighted classifier's minimiser (SciPy's L-BFGS, frechet gradients; from d["W"]
    when there is one), and its per-example losses."""
    import scipy.optimize

    import frechet

    X, y = d["train"]
    W0 = d.get("W", np.zeros((d["classes"], X.shape[1])))

    def f(w):
        W = w.reshape(W0.shape)
        return np.sum(u * _losses(W, X, y)) / np.sum(u) + 0.5 * REG * np.sum(W * W)

    res = scipy.optimize.minimize(frechet.jit(frechet.value_and_grad(f)), W0.ravel(), jac=True,
                                  method="L-BFGS-B",
                                  options={"gtol": tol, "ftol": 0.0, "maxiter": 10_000})
    if not np.max(np.abs(res.jac)) <= 100 * tol:
        raise RuntimeError(f"L-BFGS stopped at |grad| {np.max(np.abs(res.jac)):.2e}: "
                           f"{res.message}")
    W = res.x.reshape(W0.shape)
    return W, _losses(W, X, y)


def _engine(d, method):
    """A two-level Engine at the data's state; returns it and its timed call."""
    from frechet import optim
    from frechet.multilevel import Engine, Problem

    X, y = d["train"]
    Xm, ym = d["meta"]
    lower = Problem("classifier", lambda W, phi, batch: _classifier(W, phi, d["l0"], X, y),
                    d["W"], optim.sgd(LR), method=method)
    upper = Problem("meta", lambda phi, W, batch: np.mean(_losses(W, Xm, ym)), d["phi"],
                    optim.sgd(1.0))
    engine = Engine([upper, lower], upper_to_lower={"meta": ["classifier"]},
                    lower_to_upper={"classifier": ["meta"]})
    return engine, lambda: engine.hypergradient("meta")


def _flat(tree):
    return np.concatenate([np.ravel(tree[k]) for k in sorted(tree)])


def _candidate(make_method):
    def factory(d):
        return _engine(d, make_method())[1]
    return factory


def peak_and_error(d, fn, result) -> str:
    """tracemalloc's peak over one call, and the relative error vs the exact hypergradient."""
    tracemalloc.start()
    try:
        fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    if isinstance(result, dict):             # a hypergradient (phi), not the primal
        g, ref = _flat(result), _flat(d["exact"])
        err = np.max(np.abs(g - ref)) / np.max(np.abs(ref))
        return f"peak {peak / 2 ** 20:.1f} MiB; rel. error vs exact {err:.1e}"
    return f"peak {peak / 2 ** 20:.1f} MiB"


def _numpy(d):
    X, y = d["train"]
    return lambda: _classifier(d["W"], d["phi"], d["l0"], X, y)


def workload(n=N, features=FEATURES, classes=CLASSES) -> Workload:
    """The workload at a given size (the test runs it tiny)."""
    from frechet import linalg
    from frechet.multilevel import FiniteDifference, Implicit, Neumann, Unroll

    return Workload(
        "multilevel_reweight",
        f"one outer step (the meta level's hypergradient) of Meta-Weight-Net-style reweighting:"
        f" {classes}-class logistic regression on {n} long-tailed (ratio {IMBALANCE:g}), "
        f"{FLIP:.0%}-flipped points in {features} dimensions, weighting net with {HIDDEN} units; "
        f"per method of the lower problem",
        lambda: make_data(n, features, classes),
        {"numpy": _numpy,
         "frechet Unroll(5)": _candidate(lambda: Unroll(5)),
         "frechet Implicit(CG, 5 iterations)":
             _candidate(lambda: Implicit(linalg.CG(maxiter=5, truncated=True))),
         "frechet Neumann(5)": _candidate(lambda: Neumann(5, LR)),
         "frechet FiniteDifference": _candidate(lambda: FiniteDifference(0.01))},
        rtol=float("inf"),
        extra=peak_and_error,
        notes={"numpy": "the weighted training loss alone (the primal)"})


MULTILEVEL_REWEIGHT = workload()
