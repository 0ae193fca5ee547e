"""The gradient of a logistic-regression loss over more data than fits in memory, with Dask.

The data set (rows x 10 features, labels drawn from a known logistic model) is a Dask array
generated chunk by chunk from a fixed seed: it never exists whole, in memory or on disk.
`frechet.value_and_grad` of the plain NumPy loss, called with NumPy parameters on the Dask
data, returns lazy Dask arrays for the loss and its gradient; `dask.compute` runs that graph
on Dask's threaded scheduler a few chunks at a time, the sums over rows as tree reductions.
The example checks the loss and gradient against a NumPy loop over the same chunks (the closed
form X^T (sigmoid(Xw) - y) / n), measures the peak resident memory of the computation (Linux's
VmHWM, reset before it) against the size of a chunk, then runs the same code on a
dask.distributed LocalCluster with 2 worker processes on 127.0.0.1.

    python examples/dask_logistic.py                     # 2e7 rows (1.8 GB), about a minute
    python examples/dask_logistic.py --rows 1000000000   # 88 GB: several times a laptop's RAM
    python examples/dask_logistic.py --small             # 2e6 rows (176 MB), a few seconds
"""

from __future__ import annotations

import argparse
import sys
import time

import dask
import dask.array as da
import numpy as np
from _common import Checks, options
from distributed import Client, LocalCluster

import frechet

FEATURES = 10
SEED = 2026
W_TRUE = np.linspace(-1.0, 1.0, FEATURES)
MADE: list = []          # the chunks `block` made in this process, in order (list.append: atomic)


def block(index, *, rows: int, chunk: int) -> np.ndarray:
    """Chunk `index` of the data set: features in the first columns, the 0/1 label last."""
    i = int(np.asarray(index).ravel()[0])
    MADE.append(i)
    rng = np.random.default_rng([SEED, i])
    n = min(chunk, rows - i * chunk)
    X = rng.standard_normal((n, FEATURES))
    y = rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ W_TRUE)))
    return np.column_stack([X, y.astype(np.float64)])


def dataset(rows: int, chunk: int):
    """(X, y) as Dask arrays whose chunks `block` makes when the scheduler asks for them."""
    k = -(-rows // chunk)
    sizes = (chunk,) * (k - 1) + (rows - (k - 1) * chunk,)
    data = da.arange(k, chunks=1).map_blocks(
        block, rows=rows, chunk=chunk, new_axis=1, chunks=(sizes, (FEATURES + 1,)),
        dtype=np.float64, meta=np.empty((0, 0)))
    return data[:, :FEATURES], data[:, FEATURES]


def logistic(w, X, y):
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z)


def reference(w, rows: int, chunk: int):
    """The loss and its gradient by a NumPy loop over the same chunks, one at a time."""
    total, g = 0.0, np.zeros(FEATURES)
    for i in range(-(-rows // chunk)):
        b = block(i, rows=rows, chunk=chunk)
        X, y = b[:, :FEATURES], b[:, FEATURES]
        z = X @ w
        total += np.sum(np.logaddexp(0.0, z) - y * z)
        g += X.T @ (1.0 / (1.0 + np.exp(-z)) - y)
    return total / rows, g / rows


def peak_rss(run):
    """run()'s result and the peak resident memory while it ran, above the memory before it
    (bytes): Linux's high-water mark VmHWM, reset to the current size first; None elsewhere."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return run(), None
    before = _status("VmRSS")
    out = run()
    return out, _status("VmHWM") - before


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def arguments():
    """--rows and --chunk, then the options every example takes (_common.options)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--rows", type=int, default=None, help="rows of the data set")
    parser.add_argument("--chunk", type=int, default=2**20, help="rows per chunk")
    own, rest = parser.parse_known_args()
    sys.argv[1:] = rest
    args = options(__doc__.splitlines()[0] + " (also --rows N, --chunk N)")
    args.rows = own.rows or (2_000_000 if args.small else 20_000_000)
    args.chunk = min(own.chunk, 100_000) if args.small and not own.rows else own.chunk
    return args


def main() -> int:
    args = arguments()
    rows, chunk = args.rows, args.chunk
    chunk_bytes = chunk * (FEATURES + 1) * 8
    k = -(-rows // chunk)
    print(f"logistic regression over {rows:,} rows x {FEATURES} features: "
          f"{rows * (FEATURES + 1) * 8 / 2**30:.2f} GiB in {k} chunks of {chunk:,} rows "
          f"({chunk_bytes / 2**20:.0f} MiB), generated chunk by chunk")
    checks = Checks()
    w = 0.5 * W_TRUE + 0.1
    X, y = dataset(rows, chunk)
    value, grad = frechet.value_and_grad(logistic)(w, X, y)
    print(f"value_and_grad returned {type(value).__name__} and {type(grad).__name__} (lazy); "
          f"gradient graph: {len(grad.__dask_graph__()):,} tasks")
    checks.check("value and gradient are lazy Dask arrays (0 = yes)",
                 float(not (isinstance(value, da.Array) and isinstance(grad, da.Array))), 0.0)
    checks.check("chunks made before compute", len(MADE), 0)

    t0 = time.perf_counter()
    (v, g), peak = peak_rss(lambda: dask.compute(value, grad))
    seconds = time.perf_counter() - t0
    checks.check("chunks made twice or never by the compute (value and gradient)",
                 len(MADE) - len(set(MADE)) + abs(len(set(MADE)) - k), 0)
    if peak is None:
        print(f"threaded scheduler: {seconds:.1f} s (peak memory is measured on Linux only)")
    else:
        print(f"threaded scheduler: {seconds:.1f} s, peak memory {peak / 2**20:.0f} MiB above "
              f"the start ({peak / chunk_bytes:.1f} chunks)")
    t0 = time.perf_counter()
    v_ref, g_ref = reference(w, rows, chunk)
    print(f"NumPy loop over the chunks: {time.perf_counter() - t0:.1f} s; loss {v_ref:.6f}, "
          f"|gradient| {np.linalg.norm(g_ref):.4f}")
    checks.check("loss vs the NumPy loop (rel.)", abs(v - v_ref) / abs(v_ref), 1e-12)
    checks.check("gradient vs the NumPy loop (rel.)",
                 np.linalg.norm(g - g_ref) / np.linalg.norm(g_ref), 1e-12)
    if peak is not None:
        checks.check("peak memory in chunks", peak / chunk_bytes, 12.0)
        checks.check("peak memory / size of the data", peak / (rows * (FEATURES + 1) * 8), 0.5)

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0") as cluster, Client(cluster):
        t0 = time.perf_counter()
        v2, g2 = dask.compute(*frechet.value_and_grad(logistic)(w, X, y))
        print(f"LocalCluster, 2 worker processes: {time.perf_counter() - t0:.1f} s")
    checks.check("gradient on the cluster vs the NumPy loop (rel.)",
                 np.linalg.norm(g2 - g_ref) / np.linalg.norm(g_ref), 1e-12)
    checks.check("loss on the cluster vs the NumPy loop (rel.)", abs(v2 - v_ref) / abs(v_ref),
                 1e-12)
    return checks.done()


if __name__ == "__main__":
    sys.exit(main())
