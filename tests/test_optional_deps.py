"""frechet needs only its declared dependencies (NumPy, SciPy, optree, array-api-compat): with
the optional packages hidden (numba from `frechet[fast]`, the array libraries of other back
ends, the peers), it imports, differentiates and jits, and says why fusion is off."""

import subprocess
import sys
import textwrap

OPTIONAL = ("numba", "llvmlite", "torch", "cupy", "cupyx", "dask", "distributed", "jax",
            "autograd", "xarray", "sklearn", "tqdm", "matplotlib")

SCRIPT = textwrap.dedent(f"""
    import importlib.abc, sys

    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {OPTIONAL!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}} (hidden)")

    sys.meta_path.insert(0, Hide())
    import numpy as np
    import frechet as fr
    from frechet._src.ir import fusion

    def f(x):
        return np.sum(np.exp(np.sin(x)) * x)

    x = np.linspace(-1.0, 1.0, 5000)
    want = np.exp(np.sin(x)) * (np.cos(x) * x + 1.0)
    np.testing.assert_allclose(fr.grad(f)(x), want, rtol=1e-12)
    g = fr.jit(fr.grad(f))
    for _ in range(3):                  # traced, then replayed (fusion would compile here)
        np.testing.assert_allclose(g(x), want, rtol=1e-12)
    h = fr.hessian(lambda x: np.sum(x ** 3))(np.arange(3.0))
    np.testing.assert_allclose(h, np.diag(6.0 * np.arange(3.0)))
    assert not fusion.available() and "numba is not installed" in fusion.unavailable_reason()
    assert not any(m.split(".")[0] in {OPTIONAL!r} for m in sys.modules)
    print("ok")
""")


def test_runs_with_only_the_required_dependencies():
    out = subprocess.run([sys.executable, "-c", SCRIPT], check=False, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("ok")
