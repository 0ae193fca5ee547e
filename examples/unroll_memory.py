"""Memory of an unrolled hypergradient: 1,000 steps of SGD with and without checkpointing.

The inner problem is L2-regularised logistic regression with per-feature log weight decays
theta; the hypergradient is d val(w_T) / d theta through T steps of frechet.optim.sgd, run by
frechet.optim.unroll. Reverse mode keeps every step's intermediates (memory O(T)) unless the
steps run in checkpointed blocks (checkpoint_every=c: one state per block, one block
recomputed at a time, O(T/c + c)). It prints tracemalloc's peak for T steps plain and for
checkpoint_every = sqrt(T), checks that the two hypergradients agree and that the
checkpointed peak is several times smaller, and shows how the plain peak grows with T.
Run with --small for a quick run.
"""

from __future__ import annotations

import sys
import time
import tracemalloc

import numpy as np
from _common import Checks, options

import frechet
from frechet import optim


def problem(small: bool):
    rng = np.random.default_rng(0)
    n, d = (100, 20) if small else (500, 100)
    w_true = rng.standard_normal(d) / np.sqrt(d)
    X, Xv = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    y = (X @ w_true + 0.3 * rng.standard_normal(n) > 0).astype(np.float64)
    yv = (Xv @ w_true + 0.3 * rng.standard_normal(n) > 0).astype(np.float64)
    return X, y, Xv, yv


def logistic(w, X, y):
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z)


def main() -> int:
    args = options(__doc__.splitlines()[0])
    X, y, Xv, yv = problem(args.small)
    d = X.shape[1]
    opt = optim.sgd(0.5)

    def train(w, theta):
        return logistic(w, X, y) + 0.5 * np.sum(np.exp(theta) * w * w)

    def step(state, theta):
        w, s = state
        updates, s = opt.update(frechet.grad(train)(w, theta), s, w)
        return optim.apply_updates(w, updates), s

    def hypergrad(steps, every):
        def val(theta):
            w0 = np.zeros(d)
            w, _ = optim.unroll(step, (w0, opt.init(w0)), steps, args=(theta,),
                                checkpoint_every=every)
            return logistic(w, Xv, yv)
        return frechet.grad(val)

    def measured(steps, every):
        theta = np.full(d, np.log(1e-2))
        tracemalloc.start()
        t0 = time.perf_counter()
        g = hypergrad(steps, every)(theta)
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return g, peak / 2**20, seconds

    T = 100 if args.small else 1000
    every = round(float(np.sqrt(T)))
    print(f"logistic regression {X.shape[0]} x {d}; hypergradient w.r.t. {d} log weight decays "
          f"through {T} sgd steps\n")
    print(f"  {'steps':>6s} {'checkpoint_every':>17s} {'peak MiB':>9s} {'seconds':>8s}")
    rows = {}
    for steps, c in [(T // 4, None), (T // 2, None), (T, None), (T, every)]:
        g, mib, seconds = measured(steps, c)
        rows[steps, c] = (g, mib)
        print(f"  {steps:6d} {c or '-':>17} {mib:9.2f} {seconds:8.2f}")
    (g_plain, plain), (g_ckpt, ckpt) = rows[T, None], rows[T, every]
    print()

    checks = Checks()
    checks.check("checkpointed vs plain hypergradient (rel.)",
                 np.linalg.norm(g_ckpt - g_plain) / np.linalg.norm(g_plain), 1e-12)
    checks.check("plain peak grows with steps (T / T/4)", plain / rows[T // 4, None][1],
                 1.5 if args.small else 3.0, ">=")
    checks.check(f"checkpoint_every={every} peak / plain peak", ckpt / plain,
                 0.5 if args.small else 0.25)
    return checks.done()


if __name__ == "__main__":
    sys.exit(main())
