"""Fusion (frechet[fast]): runs of elementwise equations compiled into one numba loop must
compute exactly what NumPy computes, special values included, and be used only where asked."""

import numpy as np
import pytest
from op_records import RECORDS, traced_fn

import frechet as fr
from frechet._src import tree
from frechet._src.ir import fusion

if not fusion.available():
    pytest.skip(f"jit runs NumPy here: {fusion.unavailable_reason()}", allow_module_level=True)

UNARY = ["sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
         "arccosh", "arctanh", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
         "cbrt", "negative", "positive", "square", "reciprocal", "absolute", "fabs", "sign"]
BINARY = ["add", "subtract", "multiply", "divide", "power", "maximum", "minimum", "fmax", "fmin",
          "arctan2", "hypot"]
# primitives whose float64 loops use vecmath's versions
VECMATH = {p.name for p, t in fusion.TEMPLATE.items() if t.vecmath}
COMPARE = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.5, 1e300, -1e-300,
           3.0, 80.0, -80.0]


def every_template(x, y):
    outs = [getattr(np, n)(x) * 1.0 for n in UNARY]
    outs += [getattr(np, n)(x, y) + 0.0 for n in BINARY]
    outs += [np.where(getattr(np, n)(x, y), x, y) for n in COMPARE]
    outs.append(np.where(np.logical_and(x > 0, y > 0) | np.logical_not(x < y), x, 2.0))
    return outs


def replay(f, *args):
    """The compiled program's result: a jitted function's first call returns the values its
    tracing computed (eagerly), so compiled code runs from the second call on."""
    f(*args)
    return f(*args)


@pytest.fixture
def fuse_everything(monkeypatch):
    monkeypatch.setattr(fusion, "MIN_SIZE", 1)
    monkeypatch.setattr(fusion, "MIN_SERIAL_RUN", 2)
    monkeypatch.setattr(fusion, "NUMPY_FIRST_FLOAT32", False)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_template_matches_numpy_on_special_values(fuse_everything, dtype):
    with np.errstate(over="ignore"):   # 1e300 is inf in float32
        vals = np.array(SPECIAL).astype(dtype)
    x, y = np.repeat(vals, len(vals)), np.tile(vals, len(vals))
    f = fr.jit(every_template)
    with np.errstate(all="ignore"):
        want, got = every_template(x, y), replay(f, x, y)
        source = f.lower(x, y).source
    assert source.count("fused") == 1      # one loop for the whole program
    for name, a, b in zip(UNARY + BINARY + COMPARE + ["logical"], got, want):
        assert a.dtype == b.dtype, name
        # float64 functions from vecmath: within 3 ulp of NumPy's (tests/test_vecmath.py)
        rtol = 2e-7 if dtype == np.float32 else 7e-16 if name in VECMATH else 4e-16
        np.testing.assert_allclose(a, b, rtol=rtol, atol=0, equal_nan=True, err_msg=name)


def elementwise(x):
    return np.sum(np.sin(x) * np.exp(-x**2 / 2) + np.log1p(x**2) + np.tanh(x))


def test_large_elementwise_gradient_is_one_loop():
    x = np.random.default_rng(0).standard_normal(fusion.PARALLEL_SIZE + 3)   # parallel loop
    g = fr.jit(fr.grad(elementwise))
    # eager folds chains of scalings (another association order): equal to rounding
    np.testing.assert_allclose(replay(g, x), fr.grad(elementwise)(x), rtol=1e-14, atol=1e-15)
    source = g.lower(x).source
    assert source.count("fused") == 1 and "sin" in source and "tanh" in source
    assert "fused" not in fr.jit(fr.grad(elementwise), fuse=False).lower(x).source


def test_fusion_pays_or_stays_out():
    # float32 tanh is NumPy's (SIMD); a program with BLAS calls gets serial loops, which pay
    # only for longer runs
    def layer(w, x):
        h = np.tanh(x @ w + 1.0)
        return np.sum(h * h * 0.5 + h * 3.0 - 1.0)
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((64, 64)), rng.standard_normal((256, 64))
    source = fr.jit(layer).lower(w, x).source
    assert source.count("fused") == 1 and "prange" not in _kernels(fr.jit(layer), w, x)
    w32, x32 = w.astype(np.float32), x.astype(np.float32)
    assert "fused: add tanh" not in fr.jit(layer).lower(w32, x32).source
    big = rng.standard_normal(fusion.PARALLEL_SIZE)
    assert "prange" in _kernels(fr.jit(fr.grad(elementwise)), big)


def _kernels(f, *args):
    return "".join(item.source for item in fusion.plan(f.lower(*args).program)
                   if isinstance(item, fusion.Fused))


def test_small_arrays_and_disabled_fusion_run_numpy(monkeypatch):
    x = np.linspace(-1, 1, 100)
    assert "fused" not in fr.jit(fr.grad(elementwise)).lower(x).source
    monkeypatch.setenv("FRECHET_FUSION", "0")
    monkeypatch.setattr(fusion, "MIN_SIZE", 1)
    assert "fused" not in fr.jit(fr.grad(elementwise)).lower(x).source


def _refusing_kernel(*args):
    import numba
    raise numba.core.errors.TypingError("a kernel numba rejects (a test)")


def test_numba_that_cannot_compile_leaves_numpy(monkeypatch, fuse_everything):
    # a numba that imports but cannot compile (built for another NumPy or LLVM), and a kernel
    # numba rejects: jit runs the equations with NumPy and gives the same values
    x = np.linspace(-1, 1, 100)
    g = fr.jit(fr.grad(elementwise))
    assert "fused" in g.lower(x).source
    monkeypatch.setattr(fusion, "_compile", lambda *args: _refusing_kernel)
    g = fr.jit(fr.grad(elementwise))
    np.testing.assert_allclose(replay(g, x), fr.grad(elementwise)(x), rtol=1e-14)
    np.testing.assert_allclose(g(x), fr.grad(elementwise)(x), rtol=1e-14)
    monkeypatch.setattr(fusion, "_STATUS", ["numba cannot compile here (a test)"])
    assert not fusion.available()
    g = fr.jit(fr.grad(elementwise))
    assert "fused" not in g.lower(x).source
    np.testing.assert_allclose(replay(g, x), fr.grad(elementwise)(x), rtol=1e-14)


def test_values_read_after_the_run_guards_and_broadcasting(fuse_everything):
    def f(x, col):
        y = np.sin(x) * 2 + 1          # fused, then read by a reduction and a branch
        z = y * col                    # (3, 1) * (3, 4): not a plain elementwise run
        if y.sum() > 0:
            return np.sum(np.exp(z) - y, axis=1), y
        return np.sum(z), -y
    x = np.linspace(0.1, 1.0, 12).reshape(3, 4)
    col = np.array([[1.0], [2.0], [3.0]])
    jf = fr.jit(f)
    for sign in (1, -1):
        for a, b in zip(replay(jf, sign * x, col), f(sign * x, col)):
            np.testing.assert_allclose(a, b, rtol=1e-14)
    assert jf.trace_count == 2 and "fused" in jf.lower(x, col).source


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_jit_of_grad_with_everything_fused_matches_eager(fuse_everything, name):
    # 189 of the records' gradients contain fusible runs
    r = RECORDS[name]
    fn = traced_fn(r)
    args = r.args(np.random.default_rng(5))
    for a, b in zip(tree.flatten(replay(fr.jit(fn), *args))[0], tree.flatten(fn(*args))[0]):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)

    def loss(*a):
        return sum(np.sum(np.real(v)) for v in tree.flatten(fn(*a))[0])
    g = fr.grad(loss, argnums=tuple(range(len(args))))
    for a, b in zip(tree.flatten(replay(fr.jit(g), *args))[0], tree.flatten(g(*args))[0]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
