"""Run workloads round-robin, check every candidate's result, report medians and ratios."""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass

import numpy as np

from frechet._src.bench.workload import CANDIDATES, FRECHET, Workload


@dataclass
class Outcome:
    """One candidate on one workload: its median seconds per call, or why there is none."""

    seconds: float | None = None
    status: str = "ok"   # ok | not installed | failed: ... | wrong: ...
    note: str = ""       # the workload's extra(...) for this candidate


def leaves(obj) -> list[np.ndarray]:
    """The arrays of a nested result (lists, tuples, dicts) of any library, as NumPy."""
    if isinstance(obj, dict):
        return [a for k in obj for a in leaves(obj[k])]
    if isinstance(obj, (list, tuple)):
        return [a for o in obj for a in leaves(o)]
    if hasattr(obj, "detach"):   # torch
        obj = obj.detach().cpu().numpy()
    elif type(obj).__module__.startswith("cupy"):
        obj = obj.get()
    return [np.asarray(obj, dtype=np.float64)]


def mismatch(got, want, rtol) -> str | None:
    """Why `got` is not `want` (norm-wise relative error per array), or None when it is."""
    g, w = leaves(got), leaves(want)
    if [a.shape for a in g] != [a.shape for a in w]:
        return f"shapes {[a.shape for a in g]} != {[a.shape for a in w]}"
    for i, (a, b) in enumerate(zip(g, w)):
        err = np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)
        if not err <= rtol:
            return f"array {i}: relative error {err:.2e} > {rtol:.0e}"
    return None


def prepare(w: Workload, only_candidates=()) -> tuple[dict, dict]:
    """Build each candidate's callable, run it once (warm-up, compilation), check its result
    against frechet's (or the first derivative candidate's) result."""
    data = w.data()
    fns, outcomes, reference = {}, {}, None
    for name, factory in w.candidates.items():
        if only_candidates and name not in only_candidates and name != "numpy":
            continue
        try:
            fn = factory(data)
            result = fn()
        except ImportError:
            outcomes[name] = Outcome(status="not installed")
            continue
        except Exception as e:  # noqa: BLE001  (reported, never timed)
            outcomes[name] = Outcome(status=f"failed: {type(e).__name__}: {_first_line(e)}")
            continue
        if name != "numpy":
            if reference is None:
                reference = (name, result)
            elif (why := mismatch(result, reference[1], w.rtol)) is not None:
                outcomes[name] = Outcome(status=f"wrong (vs {reference[0]}): {why}")
                continue
        fns[name] = fn
        outcomes[name] = Outcome(note=w.extra(data, fn, result) if w.extra else "")
    return fns, outcomes


def _first_line(e) -> str:
    text = str(e).strip().splitlines()
    return text[0][:160] if text else ""


def time_round_robin(fns: dict, budget: float, min_rounds: int = 5) -> dict:
    """Median seconds per call of each callable. Each round runs every callable in turn, a
    block of calls each (enough to last ~20 ms), so that drifting load on a noisy machine hits
    all candidates alike. The first call of a block is not timed: it pays for the previous
    candidate (evicted caches, another library's thread pool still spinning), measured to
    slow a 3 ms NumPy call by up to 2x."""
    number = {}
    for k, fn in fns.items():
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        number[k] = max(1, min(2000, int(20e-3 / max(dt, 1e-7))))
    per_round = sum(_block(fn, number[k]) for k, fn in fns.items())
    rounds = max(min_rounds, min(100, int(budget / max(per_round, 1e-9))))
    times = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            times[k].append(_block(fn, number[k]) / number[k])
    return {k: statistics.median(v) for k, v in times.items()}


def _block(fn, n) -> float:
    fn()
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return time.perf_counter() - t0


def run_workload(w: Workload, budget: float, only_candidates=(), min_rounds=5
                 ) -> dict[str, Outcome]:
    fns, outcomes = prepare(w, only_candidates)
    for k, s in time_round_robin(fns, budget, min_rounds).items():
        outcomes[k].seconds = s / w.per
    return outcomes


def peers_of(outcomes: dict) -> dict:
    # Note: candidates named "frechet ..." (variants of frechet, e.g. one per method) are
    # frechet, not peers
    return {k: o for k, o in outcomes.items()
            if k != "numpy" and k not in FRECHET and not k.startswith("frechet ")}


def fastest_peer(outcomes: dict) -> tuple[str, float] | None:
    timed = [(o.seconds, k) for k, o in peers_of(outcomes).items() if o.seconds is not None]
    return (min(timed)[1], min(timed)[0]) if timed else None


def order(names):
    known = [c for c in CANDIDATES if c in names]
    return known + sorted(n for n in names if n not in known)


def format_figure(seconds, unit) -> str:
    return f"{seconds * (1e6 if unit == 'us' else 1e3):10.3f} {unit}"


def table_rows(w: Workload, outcomes: dict) -> list[tuple[str, str, str, str, str]]:
    """(candidate, figure, vs fastest peer, vs numpy, note) rows of one workload."""
    best = fastest_peer(outcomes)
    prim = outcomes.get("numpy")
    rows = []
    for k in order(outcomes):
        o = outcomes[k]
        if o.seconds is None:
            rows.append((k, "-", "-", "-", o.status))
            continue
        vs_peer = f"{o.seconds / best[1]:.2f}" if best else "-"
        vs_np = (f"{o.seconds * w.per / prim.seconds:.1f}"
                 if prim and prim.seconds and k != "numpy" else "-")
        note = "; ".join(n for n in (w.notes.get(k, ""), o.note) if n)
        rows.append((k, format_figure(o.seconds, w.unit), vs_peer, vs_np, note))
    return rows


def print_workload(w: Workload, outcomes: dict) -> None:
    per = " per op" if w.per > 1 else ""
    print(f"\n{w.name}: {w.what}  (median{per}; x fastest peer; x NumPy primal)")
    rows = table_rows(w, outcomes)
    width = max([20] + [len(r[0]) for r in rows])
    for k, fig, vp, vn, note in rows:
        print(f"  {k:{width}s} {fig:>14s} {vp:>7s} {vn:>8s}  {note}")


def geomean(xs) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs))
