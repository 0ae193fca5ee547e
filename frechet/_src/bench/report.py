"""`python -m frechet bench`: choose workloads, run them, write bench/results.md and a chart."""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import platform
import sys
from pathlib import Path

from frechet._src.bench import (
    devices,
    eager,
    elementwise,
    implicit,
    loops,
    matrices,
    multilevel,
    nets,
)
from frechet._src.bench.runner import fastest_peer, print_workload, run_workload, table_rows

WORKLOADS = (nets.MLP_GRAD, nets.MLP_HVP, elementwise.ELEMENTWISE_GRAD,
             matrices.ROSENBROCK_HESSIAN, elementwise.SMALL_GRAD_LATENCY, matrices.JACOBIAN_FWD,
             matrices.JACOBIAN_REV, matrices.LOGDET_GRAD, matrices.EIGH_GRAD,
             matrices.SVD_GRAD, elementwise.TAYLOR8,
             loops.EULER_UNROLL, elementwise.EAGER_OVERHEAD, nets.MLP_BOUND,
             eager.FANOUT_CHAIN, eager.SMALL_MATRIX_CHAIN, eager.SCALAR_PROJECTILE,
             implicit.HYPERGRAD_LOGISTIC, multilevel.MULTILEVEL_REWEIGHT)


def _eager_within(factor, other):
    """frechet eager (traced every call) within `factor` of `other`'s time."""
    def check(o):
        s, p = o.get("frechet"), o.get(other)
        if s is None or p is None or s.seconds is None or not p.seconds:
            return None
        return s.seconds <= factor * p.seconds, f"{s.seconds / p.seconds:.2f}x {other}"
    return check


def _jit_within(factor, peer=None):
    """frechet jit within `factor` of the fastest peer (or of `peer`)."""
    def check(o):
        best = fastest_peer(o) if peer is None else (
            (peer, o[peer].seconds) if peer in o and o[peer].seconds else None)
        s = o.get("frechet jit")
        if not best or s is None or s.seconds is None:
            return None
        return s.seconds <= factor * best[1], \
            f"jit {s.seconds / best[1]:.2f}x {peer or 'fastest peer'}"
    return check


def _beats(*peers):
    def check(o):
        mine = [x.seconds for k, x in o.items() if k.startswith("frechet") and x.seconds]
        theirs = {k: o[k].seconds for k in peers if k in o and o[k].seconds}
        if not mine or not theirs:
            return None
        worst = max(min(mine) / t for t in theirs.values())
        return worst < 1, f"best frechet {worst:.2f}x the slower-to-beat of {', '.join(theirs)}"
    return check


def _no_slower_than(peer):
    """The faster of frechet eager and jit takes at most `peer`'s time."""
    def check(o):
        mine = [x.seconds for k, x in o.items() if k.startswith("frechet") and x.seconds]
        theirs = o[peer].seconds if peer in o else None
        if not mine or not theirs:
            return None
        return min(mine) <= theirs, f"best frechet {min(mine) / theirs:.2f}x {peer}"
    return check


def _at_most(candidate, seconds, label):
    def check(o):
        s = o.get(candidate)
        if s is None or s.seconds is None:
            return None
        return s.seconds <= seconds, f"{candidate} {label(s.seconds)}"
    return check


# The issues' bars (3, and 2's eager overhead): (workload, bar, check(outcomes) -> (met, figure) or None when not measured)
BARS = [(n, "frechet jit within 1.5x of the fastest peer", _jit_within(1.5))
        for n in ("mlp_grad", "mlp_hvp", "elementwise_grad", "logdet_grad", "eigh_grad", "svd_grad",
                  "jacobian (fwd)",
                  "jacobian (rev)")]
BARS += [(w.name, "frechet faster than torch and autograd", _beats("torch", "autograd"))
         for w in WORKLOADS if {"torch", "autograd"} & set(w.candidates)]
BARS += [("small_grad_latency", "frechet jit at most 30 us",
          _at_most("frechet jit", 30e-6, lambda s: f"{s * 1e6:.1f} us")),
         ("euler_unroll", "frechet jit at most 20 ms",
          _at_most("frechet jit", 20e-3, lambda s: f"{s * 1e3:.2f} ms")),
         ("euler_unroll", "frechet jit (fused: numba installed) within 10x of JAX's lax.scan",
          _jit_within(10.0, "jax")),
         ("eager_overhead", "frechet jit replay at most 1.5 us per op",
          _at_most("frechet jit", 1.5e-6, lambda s: f"{s * 1e6:.2f} us")),
         # issue 2's bar on the eager (traced every call) gradient
         ("eager_overhead", "frechet eager at most 5 us per op",
          _at_most("frechet", 5e-6, lambda s: f"{s * 1e6:.2f} us"))]
# issue 12's bars on eager code of real shapes
BARS += [(n, "frechet eager at most 0.4x autograd per op", _eager_within(0.4, "autograd"))
         for n in ("fanout_chain", "small_matrix_chain")]
BARS += [("scalar_projectile", "frechet eager within 20x of the NumPy primal",
          _eager_within(20.0, "numpy"))]
# issue 15's bar (evaluated only when jaxopt ran)
BARS += [("hypergrad_logistic", "frechet no slower than jaxopt in the same run",
          _no_slower_than("jaxopt"))]


def check_bars(results: dict) -> list[tuple[str, str, str, str]]:
    rows = []
    for name, bar, check in BARS:
        if name not in results:
            continue
        got = check(results[name])
        if got is None:
            rows.append((name, bar, "not measured", ""))
        else:
            rows.append((name, bar, "met" if got[0] else "MISSED", got[1]))
    return rows


def versions() -> str:
    import numpy
    parts = [f"Python {platform.python_version()}", f"NumPy {numpy.__version__}"]
    for mod in ("jax", "jaxopt", "torch", "autograd"):
        try:
            parts.append(f"{mod} {importlib.metadata.version(mod)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{mod} not installed")
    return ", ".join(parts)


def write_markdown(path: Path, results: dict, bars, quick: bool, workloads=WORKLOADS) -> None:
    by_name = {w.name: w for w in workloads}
    lines = ["# Benchmark results", "",
             (f"`python -m frechet bench{' --quick' if quick else ''}` on "
             f"{platform.machine()} ({platform.node() or 'unknown host'}), "
             f"{datetime.date.today().isoformat()}; {versions()}."),
             ("Medians of round-robin runs in one process; ratios are to the fastest peer and to "
             "the plain NumPy primal, taken in this run. Every result was checked against "
             "frechet's before it was timed. Workloads: bench/WORKLOADS.md."), ""]
    for name, outcomes in results.items():
        w = by_name[name]
        lines += [f"## {name}", "", w.what + (" (time per op)" if w.per > 1 else ""), "",
                  "| candidate | median | x fastest peer | x NumPy primal | note |",
                  "|---|---:|---:|---:|---|"]
        lines += [f"| {' | '.join(c.strip() for c in row)} |" for row in table_rows(w, outcomes)]
        lines.append("")
    lines += ["## Bars (issues 2 and 3)", "", "| workload | bar | status | figure |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(r)} |" for r in bars]
    path.write_text("\n".join(lines) + "\n")


def write_chart(path: Path, results: dict) -> bool:
    """Bars of time relative to the fastest peer (log scale); False without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = list(results)
    cands = []
    for o in results.values():
        cands += [k for k in o if k != "numpy" and k not in cands]
    fig, ax = plt.subplots(figsize=(11, 0.5 + 0.45 * len(names) * 1.0))
    height = 0.8 / max(len(cands), 1)
    for j, c in enumerate(cands):
        ys, xs = [], []
        for i, n in enumerate(names):
            best, o = fastest_peer(results[n]), results[n].get(c)
            if best and o is not None and o.seconds is not None:
                ys.append(i + j * height)
                xs.append(o.seconds / best[1])
        ax.barh(ys, xs, height=height, label=c)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(names))], names)
    ax.invert_yaxis()
    ax.set_xlabel("time / fastest peer's time (log scale; lower is better)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m frechet bench",
                                     description="Run bench/WORKLOADS.md in frechet and peers.")
    parser.add_argument("--quick", action="store_true", help="short timing budget")
    parser.add_argument("--only", default="", help="comma-separated workload names (prefixes)")
    parser.add_argument("--candidates", default="", help="comma-separated candidates to run")
    parser.add_argument("--out", default=None,
                        help="markdown report ('' for none; default bench/results.md, "
                             "bench/results-DEVICE.md with --device)")
    parser.add_argument("--device", default="",
                        help="cupy, torch:cuda or torch:cpu: mlp_grad and elementwise_grad with "
                             "frechet on that library's arrays, against torch and JAX there")
    args = parser.parse_args(argv)
    workloads = devices.workloads(args.device) if args.device else WORKLOADS
    if args.out is None:
        args.out = f"bench/results-{args.device.replace(':', '-')}.md" if args.device \
            else "bench/results.md"
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    chosen = [w for w in workloads if not only or any(w.name.startswith(s) for s in only)]
    if not chosen:
        print(f"no workload matches {args.only!r}; workloads: "
              f"{', '.join(w.name for w in workloads)}", file=sys.stderr)
        return 2
    cands = tuple(s.strip() for s in args.candidates.split(",") if s.strip())
    print(versions())
    results = {}
    for w in chosen:
        results[w.name] = run_workload(w, 0.5 if args.quick else 4.0, cands)
        print_workload(w, results[w.name])
    bars = check_bars(results)
    print("\nbars:")
    for name, bar, status, figure in bars:
        print(f"  {status:12s} {name}: {bar} ({figure})")
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_markdown(out, results, bars, args.quick, workloads)
        png = out.with_suffix(".png")
        drawn = write_chart(png, results)
        print(f"\nwrote {out}" + (f" and {png}" if drawn else " (no chart: matplotlib missing)"))
    return 0
