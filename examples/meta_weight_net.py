"""Data reweighting in the style of Meta-Weight-Net, three levels deep in one frechet.multilevel
Engine, on a long-tailed, label-noised classification problem.

Data: three Gaussian blobs in the plane (unit variance, centres on a circle of radius 2).
Training set long-tailed, class sizes n_max * IMBALANCE^(-k/2) (imbalance ratio IMBALANCE
between the largest and smallest class), and a fraction FLIP of the labels replaced by one of
the other classes at random. The meta set, the held-out set and the test set are clean and
balanced.

Level 1 ("classifier", W): multinomial logistic regression on the weighted training loss
sum_i u_i l_i(W) / sum_i u_i + REG/2 |W|^2, with per-example weights u_i = V(l0_i; phi) from
the weighting net V (8 tanh units, sigmoid output). Its input l0_i is the example's loss under
the unweighted baseline classifier (fixed), so that level 1 stays a convex problem: with the
current loss as input (Meta-Weight-Net detaches it) the level-1 objective would not be the
function whose gradient is followed.
Level 2 ("meta", phi): the cross-entropy of W on the clean, balanced meta set (+ a small L2
term on phi), scaled by exp(s): sgd(1) on exp(s) * L is sgd with learning rate exp(s) on L
(so the progress bar's "meta" column, exp(s) * L, grows with s).
Level 3 ("lr", s): the cross-entropy of W on the held-out set. The learning rate of a problem
acts only through its steps, so level 2 must be unrolled (Unroll(k)): its optimum does not
depend on s, and an implicit hypergradient of level 3 would be zero.

Checks: on a small instance each level's hypergradient against central finite differences of
that level's loss, the problems below it recomputed by their methods (the unrolled steps);
the level-2 hypergradient with an implicit, solved level 1 against frechet.multilevel.check
(exact and finite differences with level 1 re-solved); the reweighted classifier no worse
than the unweighted baseline in accuracy on the clean balanced test set.
"""

from __future__ import annotations

import sys

import numpy as np
from _common import Checks, options, picture

import frechet
from frechet import optim
from frechet.multilevel import Engine, Implicit, Problem, Unroll, check

IMBALANCE, FLIP, CLASSES, HIDDEN, REG, META_REG, N_META = 10.0, 0.3, 3, 8, 1e-2, 1e-3, 20


def blobs(rng, counts, flip=0.0):
    """Points of the three blobs, `counts[k]` of class k, a fraction `flip` of the labels
    replaced by another class; returns (features with a ones column, labels)."""
    angles = 2 * np.pi * np.arange(CLASSES) / CLASSES
    centres = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    y = np.repeat(np.arange(CLASSES), counts)
    X = centres[y] + rng.standard_normal((len(y), 2))
    noisy = rng.random(len(y)) < flip
    y = np.where(noisy, (y + rng.integers(1, CLASSES, len(y))) % CLASSES, y)
    return np.hstack([X, np.ones((len(y), 1))]), y


def data(seed, n_max, n_meta, n_test=2000):
    rng = np.random.default_rng(seed)
    counts = [round(n_max * IMBALANCE ** (-k / (CLASSES - 1))) for k in range(CLASSES)]
    return {"train": blobs(rng, counts, FLIP), "meta": blobs(rng, [n_meta] * CLASSES),
            "held": blobs(rng, [n_meta] * CLASSES), "test": blobs(rng, [n_test] * CLASSES)}


def losses(W, X, y):
    """Per-example cross-entropy of the linear classifier W (classes x features)."""
    z = X @ W.T
    zmax = np.max(z, axis=1, keepdims=True)
    logsumexp = zmax[:, 0] + np.log(np.sum(np.exp(z - zmax), axis=1))
    return logsumexp - np.take_along_axis(z, y[:, None], axis=1)[:, 0]


def weights(phi, l0):
    """The weighting net: u = sigmoid(v . tanh(a l0 + c) + e), one weight per example."""
    h = np.tanh(np.outer(l0, phi["a"]) + phi["c"])
    return 1.0 / (1.0 + np.exp(-(h @ phi["v"] + phi["e"])))


def weighted_loss(W, u, X, y):
    return np.sum(u * losses(W, X, y)) / np.sum(u) + 0.5 * REG * np.sum(W * W)


def accuracy(W, X, y):
    return float(np.mean(np.argmax(X @ W.T, axis=1) == y))


def newton(f, W, tol=1e-10, maxiter=100):
    """The minimiser of a smooth convex f of a small matrix (Newton's method with step
    halving: plain Newton steps overshoot on a saturated softmax)."""
    for _ in range(maxiter):
        g = frechet.grad(f)(W)
        if np.linalg.norm(g) < tol:
            return W
        H = frechet.hessian(f)(W).reshape(W.size, W.size)
        step, t, fW = np.linalg.solve(H, g.ravel()).reshape(W.shape), 1.0, f(W)
        while not f(W - t * step) <= fW + 1e-13 * abs(fW) and t > 1e-10:
            t /= 2
        W = W - t * step
    raise RuntimeError(f"Newton did not reach |grad| < {tol} in {maxiter} steps")


class Levels:
    """The three losses on one data set, in frechet.multilevel's calling convention."""

    def __init__(self, d):
        self.d = d
        X, y = d["train"]
        self.W_plain = newton(lambda W: weighted_loss(W, 1.0, X, y), np.zeros((CLASSES, 3)))
        self.l0 = losses(self.W_plain, X, y)

    def classifier(self, W, phi, batch):
        return weighted_loss(W, weights(phi, self.l0), *self.d["train"])

    def meta_loss(self, phi, W):
        size = sum(np.sum(p * p) for p in phi.values())
        return np.mean(losses(W, *self.d["meta"])) + 0.5 * META_REG * size

    def meta(self, phi, log_lr, W, batch):
        return np.exp(log_lr) * self.meta_loss(phi, W)

    def held(self, log_lr, phi, W, batch):
        return np.mean(losses(W, *self.d["held"]))

    def solve(self, phi, W):
        return newton(lambda V: self.classifier(V, phi, None), W)


def initial_phi(seed):
    rng = np.random.default_rng(seed)
    # v = 0: every weight 1/2 at the start, so the first classifier is the unweighted one
    return {"a": rng.standard_normal(HIDDEN), "c": rng.standard_normal(HIDDEN),
            "v": np.zeros(HIDDEN), "e": np.asarray(0.0)}


def make_engine(levels, phi, log_lr, classifier_method, meta_unroll, steps):
    W0 = levels.solve(phi, levels.W_plain)
    problems = [Problem("lr", levels.held, np.asarray(log_lr), optim.adam(0.05)),
                Problem("meta", levels.meta, phi, optim.sgd(1.0), method=Unroll(meta_unroll)),
                Problem("classifier", levels.classifier, W0, optim.sgd(1.0, momentum=0.5),
                        method=classifier_method, steps=steps)]
    return Engine(problems, upper_to_lower={"lr": ["meta", "classifier"],
                                            "meta": ["classifier"]},
                  lower_to_upper={"meta": ["lr"], "classifier": ["meta"]})


def ravel(tree):
    """(vector, unravel) for an array or a dict of arrays (keys in sorted order)."""
    if not isinstance(tree, dict):
        x = np.asarray(tree, dtype=float)
        return x.ravel(), lambda v: v.reshape(x.shape)
    keys = sorted(tree)
    sizes = np.cumsum([np.size(tree[k]) for k in keys])[:-1]
    return (np.concatenate([np.ravel(tree[k]) for k in keys]),
            lambda v: {k: p.reshape(np.shape(tree[k]))
                       for k, p in zip(keys, np.split(v, sizes))})


def central(f, x, h=1e-6):
    """Central differences of f at x (an array or a dict of arrays), as a vector."""
    flat, unravel = ravel(x)
    g = np.zeros_like(flat)
    for i in range(flat.size):
        e = np.zeros_like(flat)
        e[i] = h
        g[i] = (float(f(unravel(flat + e))) - float(f(unravel(flat - e)))) / (2 * h)
    return g


def check_hypergradients(checks):
    """Each level's hypergradient against finite differences on a small instance."""
    levels = Levels(data(1, 40, 5, n_test=1))
    engine = make_engine(levels, initial_phi(1), 0.0, Unroll(10), 3, 1)
    engine.run(2, progress=False)        # away from the symmetric start (v = 0)
    print("hypergradients on a small instance (40/13/4 training points) vs central "
          "differences of each level's loss, the levels below recomputed by their methods:")
    for name in ("lr", "meta", "classifier"):
        g = ravel(engine.hypergradient(name))[0]
        fd = central(lambda p, name=name: engine.total_loss(name, p), engine.params[name])
        err = np.max(np.abs(g - fd)) / max(np.max(np.abs(fd)), 1e-300)
        print(f"  {name:<10} |g|_inf {np.max(np.abs(g)):.3e}  rel. error {err:.2e}")
        checks.check(f"{name} hypergradient vs finite differences", err, 1e-6)
    # level 2 with an implicit level 1 at its solution, against check()'s exact one
    phi = engine.params["meta"]
    two = Engine([Problem("meta", lambda p, W, batch: levels.meta_loss(p, W), phi,
                          optim.sgd(1.0)),
                  Problem("classifier", levels.classifier, levels.solve(phi, levels.W_plain),
                          optim.sgd(1.0), method=Implicit())],
                 upper_to_lower={"meta": ["classifier"]},
                 lower_to_upper={"classifier": ["meta"]})
    row = check(two, verbose=False).rows[0]
    print(f"  meta with Implicit() classifier at its solution: vs exact {row.error_vs_exact:.2e},"
          f" vs finite differences {row.error_vs_fd:.2e}")
    checks.check("meta hypergradient (Implicit classifier) vs exact", row.error_vs_exact, 1e-8)
    checks.check("meta hypergradient (Implicit classifier) vs finite differences",
                 row.error_vs_fd, 1e-6)


def train(seed, small, show=True):
    """Unweighted and reweighted classifiers on one seed: their clean-test accuracies, the
    engine's history, the levels, and the tuned phi and log learning rate."""
    n_max, iterations, unroll = (100, 20, 3) if small else (400, 60, 5)
    levels = Levels(data(seed, n_max, N_META))
    engine = make_engine(levels, initial_phi(seed), np.log(3.0), Implicit(), unroll, 10)
    history = engine.run(iterations, progress=show)
    phi = engine.params["meta"]
    W = levels.solve(phi, engine.params["classifier"])
    test = levels.d["test"]
    return (accuracy(levels.W_plain, *test), accuracy(W, *test), history, levels, phi,
            float(engine.params["lr"]))


def main() -> int:
    args = options(__doc__.splitlines()[0])
    checks = Checks()
    check_hypergradients(checks)
    plain, reweighted, history, levels, phi, log_lr = train(0, args.small)
    counts = np.bincount(levels.d["train"][1], minlength=CLASSES)
    print(f"\ntraining labels per class (after flips): {counts.tolist()}; meta and held-out "
          f"sets: {N_META} clean points per class")
    print(f"held-out loss (level 3): {history['lr'][0]:.4f} -> {history['lr'][-1]:.4f}; "
          f"meta learning rate exp(s): 3 -> {np.exp(log_lr):.3g}")
    print(f"clean balanced test accuracy: unweighted {plain:.4f}, reweighted {reweighted:.4f}")
    checks.check("reweighted accuracy - unweighted accuracy", reweighted - plain, 0.0, ">=")

    def draw(plt):
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
        a.plot(history["lr"], label="held-out loss (level 3)")
        a.set_xlabel("iteration")
        a.legend()
        grid = np.linspace(0, np.max(levels.l0), 200)
        b.plot(grid, weights(phi, grid))
        b.set_xlabel("per-example loss under the unweighted classifier")
        b.set_ylabel("learned weight")
        fig.tight_layout()
        return fig

    picture(args.png_dir, "meta_weight_net.png", draw)
    return checks.done()


if __name__ == "__main__":
    sys.exit(main())
