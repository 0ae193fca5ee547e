"""The examples in examples/ run at small size, print their checks and pass them; the Makefile's
`make examples` and examples/README.md list every one of them."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def test_there_are_examples():
    assert {"ridge_hypergradient.py", "weight_decay_logistic.py", "lasso_jacobian.py",
            "unroll_memory.py"} <= set(SCRIPTS)


def test_make_examples_runs_every_example():
    text = (ROOT / "Makefile").read_text()
    block = re.search(r"^EXAMPLES :=((?:.*\\\n)*.*)$", text, re.MULTILINE)
    assert block, "the Makefile has no EXAMPLES := list"
    listed = sorted(Path(p).name for p in block.group(1).replace("\\", " ").split())
    assert listed == SCRIPTS
    assert re.search(r"^examples: \$\(VENV\)/\.installed-test$", text, re.MULTILINE)
    assert "FRECHET_EXAMPLE_SMALL=1 $(BIN)/python $$f" in text


def test_readme_describes_every_example():
    readme = (EXAMPLES / "README.md").read_text()
    for name in SCRIPTS:
        assert f"`{name}`" in readme, f"examples/README.md does not describe {name}"


@pytest.mark.parametrize("name", SCRIPTS)
def test_example_runs_at_small_size_and_passes_its_checks(name, tmp_path):
    env = dict(os.environ, FRECHET_EXAMPLE_SMALL="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    # -W error: an example that warns (a solver that did not converge) fails here
    proc = subprocess.run([sys.executable, "-W", "error", str(EXAMPLES / name),
                           "--png-dir", str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checks = [line for line in proc.stdout.splitlines() if line.startswith("check ")]
    assert checks and all(line.startswith("check ok") for line in checks), proc.stdout
    assert proc.stdout.rstrip().endswith("all checks passed")


def _common():
    spec = importlib.util.spec_from_file_location("_common", EXAMPLES / "_common.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_failed_check_makes_the_example_fail(capsys):
    checks = _common().Checks()
    checks.check("a number", 2.0, 1.0)
    checks.check("another", 2.0, 1.0, ">=")
    assert checks.done() == 1
    out = capsys.readouterr().out
    assert "check FAIL a number: 2 <= 1" in out and "check ok   another: 2 >= 1" in out
    assert out.rstrip().endswith("FAILED: a number")


def test_small_mode_from_the_environment(monkeypatch):
    common = _common()
    for value, small in (("1", True), ("0", False), ("", False)):
        monkeypatch.setenv("FRECHET_EXAMPLE_SMALL", value)
        monkeypatch.setattr(sys, "argv", ["example"])
        assert common.options("x").small is small
    monkeypatch.setattr(sys, "argv", ["example", "--small"])
    assert common.options("x").small is True
