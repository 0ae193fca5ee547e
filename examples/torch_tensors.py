"""The same NumPy program on NumPy arrays and on PyTorch tensors (on the GPU when torch has CUDA).

Nothing in the program below mentions torch: it is NumPy code (np.exp, @, np.linalg.solve, a
while loop) differentiated by frechet. Called with torch tensors, every primitive runs torch's
own function on the tensors' device, and results come back as tensors there (docs/backends.md).
The program tunes the log ridge penalty theta of a linear regression on a validation set:

  1. the inner solution w*(theta) by frechet.implicit.custom_root around a solver that runs on
     plain values (np.linalg.solve), its derivative by implicit differentiation;
  2. theta fitted by frechet.optim.fit (Adam) on the validation loss, its gradient jitted;
  3. a Newton iteration for sqrt(lambda) in frechet.while_loop, differentiated under jit.

It runs the program on NumPy arrays and on float64 torch tensors (CUDA if available, else the
CPU), and checks that the two agree, that the results are tensors on the device, and the
hypergradient against the closed form d/dtheta of the validation loss.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from _common import Checks, options

import frechet
from frechet import implicit, optim


def problem(small: bool):
    rng = np.random.default_rng(0)
    n, d = (80, 10) if small else (400, 50)
    w_true = rng.standard_normal(d)
    X, Xv = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    y = X @ w_true + 2.0 * rng.standard_normal(n)
    yv = Xv @ w_true + 2.0 * rng.standard_normal(n)
    return X, y, Xv, yv


def program(X, y, Xv, yv, theta0, steps):
    """The whole program, written once; X, y, Xv, yv are arrays of any one library."""
    n, d = X.shape

    def train(w, theta):
        return 0.5 * np.mean((X @ w - y) ** 2) + 0.5 * np.exp(theta) * np.sum(w * w)

    @implicit.custom_root(frechet.grad(train), solve=implicit.Dense())
    def ridge(init, theta):             # never differentiated: runs on plain values
        return np.linalg.solve(X.T @ X / n + np.exp(theta) * np.eye(d), X.T @ y / n)

    def val(theta):
        r = Xv @ ridge(0.0 * X[0], theta) - yv
        return 0.5 * np.mean(r * r)

    hyper = frechet.jit(frechet.grad(val))(theta0)
    theta, history = optim.fit(val, theta0, optim.adam(0.1), steps, progress=False)

    def newton_sqrt(theta):             # sqrt(exp(theta)) by Newton's iteration
        a = np.exp(theta)

        def body(c):
            s, k = c
            return 0.5 * (s + a / s), k + 1
        return frechet.while_loop(lambda c: c[1] < 30, body, (1.0 + 0.0 * a, 0))[0]
    dsqrt = frechet.jit(frechet.grad(newton_sqrt))(theta)
    return hyper, theta, history, dsqrt


def closed_hypergradient(X, y, Xv, yv, theta):
    """d/dtheta of the validation loss, by hand: dw/dtheta = -lambda A^-1 w, A = X^T X/n + lambda I."""
    n, d = X.shape
    lam = np.exp(theta)
    A = X.T @ X / n + lam * np.eye(d)
    w = np.linalg.solve(A, X.T @ y / n)
    dw = -lam * np.linalg.solve(A, w)
    return np.mean((Xv @ w - yv) * (Xv @ dw))


def main() -> int:
    args = options(__doc__.splitlines()[0])
    checks = Checks()
    X, y, Xv, yv = problem(args.small)
    steps = 20 if args.small else 100
    theta0 = np.float64(np.log(0.1))
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: pip install torch (the CPU build is enough)")
        return 0
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"{X.shape[0]} x {X.shape[1]} ridge regression; torch {torch.__version__} on {device}")

    t0 = time.perf_counter()
    ref = program(X, y, Xv, yv, theta0, steps)
    t1 = time.perf_counter()
    on = [torch.from_numpy(a).to(device) for a in (X, y, Xv, yv)]
    got = program(*on, torch.tensor(theta0, device=device), steps)
    t2 = time.perf_counter()
    print(f"NumPy arrays: {t1 - t0:.2f} s; torch tensors on {device}: {t2 - t1:.2f} s "
          f"(first calls include tracing)")

    hyper, theta, history, dsqrt = got
    print(f"hypergradient at theta0 {float(hyper):+.6e}; after {steps} Adam steps theta = "
          f"{float(theta):.4f}, validation loss {history[0]:.4f} -> {history[-1]:.4f}")
    names = ("hypergradient", "fitted theta", "loss history", "d sqrt(lambda) / d theta")
    for name, g, r in zip(names, got, ref):
        g = g.cpu().numpy() if isinstance(g, torch.Tensor) else np.asarray(g)
        checks.check(f"{name}: torch vs NumPy (rel.)",
                     float(np.max(np.abs(g - r)) / max(np.max(np.abs(r)), 1e-300)), 1e-10)
    checks.check("results that are tensors on the device (of 3)",
                 sum(isinstance(v, torch.Tensor) and v.device.type == device
                     for v in (hyper, theta, dsqrt)), 3, ">=")
    exact = closed_hypergradient(X, y, Xv, yv, theta0)
    checks.check("hypergradient vs the closed form (rel.)",
                 abs(float(hyper) - exact) / abs(exact), 1e-10)
    checks.check("d sqrt(lambda)/d theta vs sqrt(lambda)/2 (rel.)",
                 abs(float(dsqrt) / (0.5 * np.exp(0.5 * float(theta))) - 1.0), 1e-12)
    checks.check("validation loss decreased (after / before)", history[-1] / history[0], 1.0)
    return checks.done()


if __name__ == "__main__":
    sys.exit(main())
