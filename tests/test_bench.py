"""The benchmark runner: results are checked before they are timed, failures are reported,
and frechet's jit agrees with frechet eager on every workload (peers too, when installed)."""

import re

import numpy as np
import pytest

from frechet._src.bench import report, runner
from frechet._src.bench.workload import Workload


def _missing(d):
    raise ImportError("no such library")


def _broken(d):
    def run():
        raise RuntimeError("kaboom\nsecond line")
    return run


SYNTHETIC = Workload(
    "synthetic", "2x, done several ways", lambda: {"x": np.arange(4.0)},
    {"numpy": lambda d: lambda: d["x"] * 2,
     "frechet": lambda d: lambda: [d["x"] * 2],
     "frechet jit": lambda d: lambda: [d["x"] + d["x"]],
     "jax": _missing,
     "torch": lambda d: lambda: [d["x"] * 2.001],
     "torch.func": lambda d: lambda: [d["x"][:2]],
     "autograd": _broken})


def test_runner_times_correct_candidates_and_reports_the_rest():
    out = runner.run_workload(SYNTHETIC, budget=0.01, min_rounds=2)
    assert out["numpy"].seconds > 0 and out["frechet"].seconds > 0
    assert out["frechet jit"].status == "ok" and out["frechet jit"].seconds > 0
    assert out["jax"].status == "not installed" and out["jax"].seconds is None
    assert out["torch"].status.startswith("wrong (vs frechet): array 0: relative error 5.00e-04 > 1e-09")
    assert out["torch.func"].status.startswith("wrong (vs frechet): shapes [(2,)] != [(4,)]")
    assert out["autograd"].status == "failed: RuntimeError: kaboom"
    assert out["autograd"].seconds is None
    rows = {r[0]: r for r in runner.table_rows(SYNTHETIC, out)}
    assert rows["jax"][1:4] == ("-", "-", "-")   # no peer was timed: no ratio to one
    assert rows["frechet"][3] != "-"              # but a ratio to the NumPy primal


def test_ratios_are_to_the_fastest_peer():
    out = {"numpy": runner.Outcome(1.0), "frechet": runner.Outcome(3.0),
           "jax": runner.Outcome(2.0), "torch": runner.Outcome(6.0)}
    assert runner.fastest_peer(out) == ("jax", 2.0)
    rows = {r[0]: r for r in runner.table_rows(SYNTHETIC, out)}
    assert rows["frechet"][2:4] == ("1.50", "3.0")
    assert rows["torch"][2:4] == ("3.00", "6.0")


def test_mismatch_reads_nested_results_of_any_library():
    assert runner.mismatch({"a": (np.ones(2), [np.zeros(1)])}, [np.ones(2), np.zeros(1)],
                           1e-12) is None
    assert "relative error" in runner.mismatch([np.array([1.0, 1.0])], [np.ones(2) * 1.1], 1e-3)
    assert runner.mismatch([np.array([np.nan])], [np.ones(1)], 1.0) is not None


def test_bars_and_markdown(tmp_path):
    out = runner.run_workload(SYNTHETIC, budget=0.01, min_rounds=2)
    path = tmp_path / "results.md"
    bars = [("synthetic", "a bar", "met", "1.0x")]
    report.write_markdown(path, {"synthetic": out}, bars, quick=True, workloads=[SYNTHETIC])
    text = path.read_text()
    assert "## synthetic" in text and "| autograd | - | - | - | failed: RuntimeError: kaboom |" \
        in text and "| synthetic | a bar | met | 1.0x |" in text
    slow_jit = {"frechet jit": runner.Outcome(3.0), "jax": runner.Outcome(1.0)}
    assert report._jit_within(1.5)(slow_jit) == (False, "jit 3.00x fastest peer")
    assert report._beats("torch", "autograd")(slow_jit) is None   # neither peer measured


def test_cli_rejects_unknown_workloads(capsys):
    assert report.main(["--only", "no_such_workload", "--out", ""]) == 2
    assert "workloads: mlp_grad" in capsys.readouterr().err


CHEAP = ["mlp_grad", "mlp_hvp", "rosenbrock_hessian", "small_grad_latency", "jacobian (fwd)",
         "jacobian (rev)", "eager_overhead", "logdet_grad"]
WORKLOADS = {w.name: w for w in report.WORKLOADS}
UNSUPPORTED: dict = {}    # workload -> the error frechet reports while it cannot run it


def _check_prepared(name, candidates):
    _, out = runner.prepare(WORKLOADS[name], candidates)
    for k, o in out.items():
        if name in UNSUPPORTED and k.startswith("frechet"):
            assert UNSUPPORTED[name] in o.status
        else:
            assert o.status in ("ok", "not installed"), (k, o.status)


@pytest.mark.parametrize("name", CHEAP)
def test_frechet_jit_agrees_with_eager_on_workload(name):
    _check_prepared(name, ("frechet", "frechet jit"))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(WORKLOADS) - set(CHEAP)))
def test_frechet_jit_agrees_with_eager_on_slow_workload(name):
    _check_prepared(name, ("frechet", "frechet jit"))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")   # the peers' own, e.g. torch.jit
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_peers_agree_with_frechet(name):
    pytest.importorskip("jax")
    pytest.importorskip("torch")
    _check_prepared(name, ())


def test_hypergrad_logistic_bar_needs_jaxopt_and_allows_a_tie():
    bar = {(n, b): c for n, b, c in report.BARS}[
        ("hypergrad_logistic", "frechet no slower than jaxopt in the same run")]
    assert bar({"frechet": runner.Outcome(1.0), "jaxopt": runner.Outcome(status="not installed")}
               ) is None
    assert bar({"frechet": runner.Outcome(2.0), "frechet jit": runner.Outcome(1.0),
                "jaxopt": runner.Outcome(1.0)}) == (True, "best frechet 1.00x jaxopt")
    assert bar({"frechet": runner.Outcome(3.0), "jaxopt": runner.Outcome(2.0)}) == \
        (False, "best frechet 1.50x jaxopt")


def test_multilevel_reweight_reports_every_method_with_memory_and_error():
    from frechet._src.bench import multilevel
    from frechet.multilevel import Implicit, check

    w = multilevel.workload(n=300, features=3, classes=3)
    fns, out = runner.prepare(w)
    methods = [k for k in w.candidates if k != "numpy"]
    assert all(out[k].status == "ok" for k in out), {k: o.status for k, o in out.items()}
    assert runner.peers_of(out) == {}          # frechet variants, not peers: no peer bar
    data = w.data()
    exact = check(multilevel._engine(data, Implicit())[0], verbose=False).rows[0].exact
    np.testing.assert_allclose(multilevel._flat(data["exact"]), exact, rtol=1e-6, atol=1e-12)
    results = {k: multilevel._flat(fns[k]()) for k in methods}
    for k in methods:
        peak, err = re.fullmatch(r"peak ([\d.]+) MiB; rel\. error vs exact ([\d.e+-]+)",
                                 out[k].note).groups()
        assert float(peak) > 0
        want = np.max(np.abs(results[k] - exact)) / np.max(np.abs(exact))
        assert float(err) == pytest.approx(want, rel=0.06, abs=1e-7)
    # 5 unrolled sgd(LR) steps from the solution are the 5-term Neumann series with alpha=LR
    unroll, neumann = results["frechet Unroll(5)"], results["frechet Neumann(5)"]
    assert np.max(np.abs(unroll - neumann)) <= 1e-9 * np.max(np.abs(neumann))
    for o in out.values():
        o.seconds = 1.0                       # as if timed: the note goes to the table
    rows = {r[0]: r for r in runner.table_rows(w, out)}
    assert rows["frechet Unroll(5)"][2] == "-" and "peak" in rows["frechet Unroll(5)"][4]


def test_device_workloads_run_on_torch_tensors():
    """`bench --device torch:cpu`: frechet on torch tensors, checked against frechet on NumPy
    (the first candidate) before it is timed; the same code serves cupy and torch:cuda."""
    pytest.importorskip("torch")
    from frechet._src.bench import devices
    for w in devices.workloads("torch:cpu"):
        out = runner.run_workload(w, budget=0.01, min_rounds=1,
                                  only_candidates=("frechet on numpy", "frechet", "frechet jit",
                                                   "torch"))
        assert {k: o.status for k, o in out.items()} == dict.fromkeys(
            ("frechet on numpy", "frechet", "frechet jit", "torch"), "ok"), w.name


def test_device_specs_are_checked():
    from frechet._src.bench import devices
    for bad in ("cupy:1", "jax"):
        with pytest.raises(ValueError, match="--device takes"):
            devices.Device(bad)
    assert devices.Device("torch").where == "cpu" and devices.Device("cupy").where == "cuda"
