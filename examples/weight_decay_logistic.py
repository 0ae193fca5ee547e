"""Per-feature weight decay for logistic regression, tuned by gradient descent on a validation
loss with implicit hypergradients.

Training objective (labels in {0, 1}, mean loss, log-scale decays theta):

    f(w, theta) = mean(log(1 + exp(x_i . w)) - y_i x_i . w) + 1/2 sum_j exp(theta_j) w_j^2.

The inner solver is Newton's method in plain NumPy, wrapped in frechet.implicit.custom_root on
grad_w f = 0 (CG on the training Hessian, by Hessian-vector products, for the backward pass).
The outer loop is frechet.optim.fit with optim.sgd on theta. Only a few of the features carry
signal, so the tuned decays should grow on the others.

It checks the hypergradient at the start against central finite differences (the inner
problem re-solved at theta +- eps along random directions) and prints the validation and
held-out test losses before and after. Run with --small for a quick run.
"""

from __future__ import annotations

import sys

import numpy as np
from _common import Checks, options, picture

import frechet
from frechet import implicit, optim


def problem(small: bool):
    rng = np.random.default_rng(0)
    n, n_val, d, informative = (60, 100, 20, 4) if small else (100, 300, 50, 5)
    w_true = np.zeros(d)
    w_true[:informative] = 2.0 * rng.standard_normal(informative)

    def sample(m):
        X = rng.standard_normal((m, d))
        return X, (X @ w_true + 0.5 * rng.standard_normal(m) > 0).astype(np.float64)

    return sample(n), sample(n_val), sample(2000), informative


def logistic(w, X, y):
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z)


def newton(theta, X, y, tol=1e-12, maxiter=100):
    """The minimiser of f(., theta), on plain NumPy values."""
    w, lam = np.zeros(X.shape[1]), np.exp(theta)
    for _ in range(maxiter):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        g = X.T @ (p - y) / len(y) + lam * w
        if np.linalg.norm(g) < tol:
            return w
        w = w - np.linalg.solve((X.T * (p * (1 - p))) @ X / len(y) + np.diag(lam), g)
    raise RuntimeError(f"Newton did not reach |grad| < {tol} in {maxiter} steps")


def main() -> int:
    args = options(__doc__.splitlines()[0])
    (X, y), (Xv, yv), (Xt, yt), informative = problem(args.small)
    d = X.shape[1]

    def train(w, theta):
        return logistic(w, X, y) + 0.5 * np.sum(np.exp(theta) * w * w)

    @implicit.custom_root(frechet.grad(train), solve=implicit.CG(tol=1e-12), symmetric=True)
    def solve_inner(init, theta):
        return newton(np.asarray(theta), X, y)

    def hyper_loss(theta):
        return logistic(solve_inner(np.zeros(d), theta), Xv, yv)

    theta0 = np.full(d, np.log(1e-3))
    checks = Checks()

    # the hypergradient at the start against central differences along random directions
    g0 = frechet.grad(hyper_loss)(theta0)
    rng, eps = np.random.default_rng(1), 1e-4
    worst = 0.0
    for _ in range(3):
        v = rng.standard_normal(d)
        v /= np.linalg.norm(v)
        fd = (logistic(newton(theta0 + eps * v, X, y), Xv, yv)
              - logistic(newton(theta0 - eps * v, X, y), Xv, yv)) / (2 * eps)
        print(f"directional derivative: implicit {g0 @ v: .10f}, central differences {fd: .10f}")
        worst = max(worst, abs(g0 @ v - fd) / np.linalg.norm(g0))
    checks.check("hypergradient vs central differences (|diff| / |grad|)", worst, 1e-6)

    steps = 30 if args.small else 100
    theta, history = optim.fit(hyper_loss, theta0, optim.sgd(2.0, momentum=0.9), steps)

    def test(theta):
        return logistic(newton(theta, X, y), Xt, yt)

    val0, val1 = hyper_loss(theta0), hyper_loss(theta)
    print(f"\nvalidation loss: {val0:.6f} -> {val1:.6f} after {steps} steps of sgd on theta")
    test0, test1 = test(theta0), test(theta)
    print(f"test loss (held out, {len(yt)} points): {test0:.6f} -> {test1:.6f}")
    lam = np.exp(theta)
    print(f"mean decay on the {informative} informative features: {lam[:informative].mean():.3g}; "
          f"on the others: {lam[informative:].mean():.3g}")
    checks.check("validation loss after / before", val1 / val0, 0.95 if args.small else 0.9)
    checks.check("held-out test loss after / before", test1 / test0, 1.0)

    def draw(plt):
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
        a.plot(history)
        a.set_xlabel("outer step")
        a.set_ylabel("validation loss")
        b.bar(np.arange(d), theta, color=["C1"] * informative + ["C0"] * (d - informative))
        b.set_xlabel("feature (orange: informative)")
        b.set_ylabel("tuned log weight decay")
        fig.tight_layout()
        return fig

    picture(args.png_dir, "weight_decay_logistic.png", draw)
    return checks.done()


if __name__ == "__main__":
    sys.exit(main())
