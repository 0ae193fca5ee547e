"""Ridge regression's hypergradient three ways: closed form, implicit, unrolled gradient descent.

Training objective  f(w, theta) = 1/(2n) |X w - y|^2 + (lambda/2) |w|^2,  lambda = exp(theta)
(log scale: d/dtheta = lambda d/dlambda). Validation loss  g(w) = 1/(2m) |Xv w - yv|^2.
The hypergradient is d g(w*(theta)) / d theta, computed

  1. closed form: frechet.grad through w*(theta) = (X^T X/n + lambda I)^-1 X^T y/n;
  2. implicit: frechet.implicit.custom_root on grad_w f(w, theta) = 0, around a solver that
     runs on plain values (NumPy's solve) and is never differentiated;
  3. unrolled: frechet.grad through k steps of frechet.optim.sgd from w = 0
     (frechet.optim.unroll, checkpointed), which tends to the other two as k grows.

It prints the three, their relative differences, and checks the closed form against central
finite differences. Run with --small for a quick run.
"""

from __future__ import annotations

import sys

import numpy as np
from _common import Checks, options, picture, progress

import frechet
from frechet import implicit, optim


def problem(small: bool):
    rng = np.random.default_rng(0)
    n, m, d = (60, 60, 30) if not small else (40, 40, 20)
    w_true = rng.standard_normal(d)
    X, Xv = rng.standard_normal((n, d)), rng.standard_normal((m, d))
    y = X @ w_true + 2.0 * rng.standard_normal(n)
    yv = Xv @ w_true + 2.0 * rng.standard_normal(m)
    return X, y, Xv, yv


def main() -> int:
    args = options(__doc__.splitlines()[0])
    X, y, Xv, yv = problem(args.small)
    n, d = X.shape
    theta = np.log(0.05)

    def train(w, theta):
        return 0.5 * np.mean((X @ w - y) ** 2) + 0.5 * np.exp(theta) * np.sum(w * w)

    def val(w):
        return 0.5 * np.mean((Xv @ w - yv) ** 2)

    # 1. closed form, differentiated by frechet
    def closed(theta):
        return np.linalg.solve(X.T @ X / n + np.exp(theta) * np.eye(d), X.T @ y / n)

    h_closed = frechet.grad(lambda t: val(closed(t)))(theta)

    # 2. implicit: the solver runs on plain values; the optimality condition is grad_w f = 0
    @implicit.custom_root(frechet.grad(train), solve=implicit.Dense())
    def ridge(init, theta):
        lam = float(np.exp(theta))
        return np.linalg.solve(X.T @ X / n + lam * np.eye(d), X.T @ y / n)

    h_implicit = frechet.grad(lambda t: val(ridge(np.zeros(d), t)))(theta)

    # 3. unrolled gradient descent: k steps of optim.sgd at step 1/L, from w = 0
    eig = np.linalg.eigvalsh(X.T @ X / n)
    lr = 1.0 / (eig[-1] + np.exp(theta))
    print(f"inner problem: {n} x {d}, lambda = {np.exp(theta):.3g}; gradient descent step 1/L, "
          f"contraction per step {1 - (eig[0] + np.exp(theta)) * lr:.4f}")
    opt = optim.sgd(lr)

    def step(state, theta):
        w, s = state
        updates, s = opt.update(frechet.grad(train)(w, theta), s, w)
        return optim.apply_updates(w, updates), s

    def unrolled(theta, k):
        w0 = np.zeros(d)
        w, _ = optim.unroll(step, (w0, opt.init(w0)), k, args=(theta,),
                            checkpoint_every=max(1, int(np.sqrt(k))))
        return val(w)

    steps = [10, 30, 100, 300] if args.small else [10, 30, 100, 300, 1000]
    h_unrolled = [frechet.grad(unrolled)(theta, k)
                  for k in progress(steps, len(steps), "unrolled hypergradients")]

    # a reference that shares no code with the three: central differences of the closed form
    eps = 1e-5
    h_fd = (val(closed(theta + eps)) - val(closed(theta - eps))) / (2 * eps)

    def rel(a, b):
        return abs(a - b) / abs(b)

    print(f"\nd val / d log(lambda) at lambda = {np.exp(theta):.3g}:")
    print(f"  closed form          {h_closed: .15f}")
    print(f"  implicit             {h_implicit: .15f}   rel. diff to closed form "
          f"{rel(h_implicit, h_closed):.1e}")
    for k, h in zip(steps, h_unrolled):
        print(f"  unrolled {k:5d} steps {h: .15f}   rel. diff to closed form "
              f"{rel(h, h_closed):.1e}")
    print(f"  finite differences   {h_fd: .15f}   rel. diff to closed form "
          f"{rel(h_fd, h_closed):.1e}\n")

    checks = Checks()
    checks.check("implicit vs closed form (rel.)", rel(h_implicit, h_closed), 1e-8)
    checks.check("closed form vs central differences (rel.)", rel(h_fd, h_closed), 1e-6)
    errs = [rel(h, h_closed) for h in h_unrolled]
    checks.check("unrolled error shrinks with steps (last / first)", errs[-1] / errs[0], 1e-2)
    checks.check(f"unrolled {steps[-1]} steps vs closed form (rel.)", errs[-1],
                 1e-3 if args.small else 1e-8)

    def draw(plt):
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.loglog(steps, errs, "o-", label="unrolled sgd")
        ax.axhline(rel(h_implicit, h_closed) or 1e-17, color="C1", label="implicit")
        ax.set_xlabel("unrolled steps")
        ax.set_ylabel("relative difference to the closed form")
        ax.set_title("ridge hypergradient d val / d log(lambda)")
        ax.legend()
        fig.tight_layout()
        return fig

    picture(args.png_dir, "ridge_hypergradient.png", draw)
    return checks.done()


if __name__ == "__main__":
    sys.exit(main())
