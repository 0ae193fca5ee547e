"""Eager overhead: grad of a chain of 100 elementwise ops on a 10-element vector.

Reports microseconds per op (forward + backward, minus nothing: the whole grad call divided by
the op count) for frechet and, when installed, HIPS autograd and PyTorch, in the same run, plus
plain NumPy's forward pass for reference. Medians of repeated runs after a warm-up.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

N_OPS = 100


def chain(np_, x):
    # 100 elementwise ops: 25 rounds of (sin, *1.01, tanh, +0.1)
    for _ in range(N_OPS // 4):
        x = np_.sin(x)
        x = x * 1.01
        x = np_.tanh(x)
        x = x + 0.1
    return np_.sum(x)


def median_times(fns: dict, rounds=60, number=10) -> dict:
    """Median seconds per call of each function, timed round-robin (one block of `number`
    calls of each per round) so that drifting load on a noisy machine hits all alike."""
    for fn in fns.values():
        fn()
    times = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            times[k].append((time.perf_counter() - t0) / number)
    return {k: statistics.median(v) for k, v in times.items()}


def run():
    x = np.random.default_rng(0).standard_normal(10)
    fns = {"numpy (forward only)": lambda: chain(np, x)}

    import frechet as fr
    import frechet.numpy as fnp
    g = fr.grad(lambda v: chain(np, v))
    fns["frechet grad"] = lambda: g(x)
    g2 = fr.grad(lambda v: chain(fnp, v))
    fns["frechet grad (fr.numpy)"] = lambda: g2(x)
    gj = fr.jit(fr.grad(lambda v: chain(np, v)))
    np.testing.assert_allclose(gj(x), g(x), rtol=1e-12)
    fns["frechet jit(grad) replay"] = lambda: gj(x)
    try:
        import autograd
        import autograd.numpy as anp
        ga = autograd.grad(lambda v: chain(anp, v))
        np.testing.assert_allclose(ga(x), g(x), rtol=1e-10)
        fns["autograd grad"] = lambda: ga(x)
    except ImportError:
        pass
    try:
        import torch
        torch.set_num_threads(1)
        xt = torch.tensor(x)

        def tgrad():
            v = xt.clone().requires_grad_(True)
            chain(torch, v).backward()
            return v.grad
        np.testing.assert_allclose(tgrad().numpy(), g(x), rtol=1e-10)
        fns["torch eager grad"] = tgrad
    except ImportError:
        pass
    results = median_times(fns)
    print(f"grad of a chain of {N_OPS} elementwise ops on 10 elements (median, us per op;"
          " `np` is plain NumPy code dispatched through NEP 13, fr.numpy calls frechet directly)")
    for k, v in results.items():
        print(f"  {k:24s} {v / N_OPS * 1e6:8.2f} us/op   ({v * 1e3:.3f} ms per call)")
    base = results["frechet grad"]
    for k in ("autograd grad", "torch eager grad"):
        if k in results:
            print(f"  frechet / {k.split()[0]:10s} = {base / results[k]:.2f}")
    return results


if __name__ == "__main__":
    run()
