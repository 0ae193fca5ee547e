"""vecmath: the vectorisable float64 functions that fused loops use (exp, expm1, log, log1p, sin,
cos, tanh) must stay
within a couple of ulp of NumPy's everywhere, special values and range boundaries included, and
fused loops must fall back to the C library where sin and cos cannot reduce exactly."""

import re

import numpy as np
import pytest

import frechet as fr
from frechet._src.ir import fusion

if not fusion.available():
    pytest.skip(f"jit runs NumPy here: {fusion.unavailable_reason()}", allow_module_level=True)
import numba

from frechet._src.ir import vecmath

# ulp bounds, measured in the binade of the larger of the two results
ULPS = {"exp": 1, "expm1": 1, "sin": 2, "cos": 2, "tanh": 3, "log": 1, "log1p": 1}
SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 1e-310, -1e-310,
                    1e-20, -1e-20, 1e-300, -1e-300])


def _elementwise(f):
    @numba.njit(error_model="numpy")
    def loop(x):
        out = np.empty_like(x)
        for i in range(x.size):
            out[i] = f(x[i])
        return out
    return loop


LOOPS = {name: _elementwise(f) for name, f in vecmath.FUNCTIONS.items()}


def ulps(a, b):
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(invalid="ignore"):
        d = np.abs(a - b) / np.spacing(np.maximum(np.abs(a), np.abs(b)))
    return float(np.max(np.where(same, 0.0, d)))


def samples(name):
    rng = np.random.default_rng(0)
    g = rng.standard_normal(200_000)
    out = [g, 30 * g, 300 * g, np.linspace(-800, 800, 400_001),
           np.concatenate([s * np.logspace(-320, 6, 100_001) for s in (1, -1)])]
    if name in ("exp", "expm1"):        # around overflow, underflow and the subnormal range
        out += [np.linspace(a - 1e-9, a + 1e-9, 20_001) for a in
                (vecmath.EXP_OVERFLOW, vecmath.EXP_UNDERFLOW, -708.4, np.log(2), -np.log(2))]
        out.append(np.linspace(-745.2, -708, 100_001))
    if name in ("sin", "cos"):
        out = [x[np.abs(x) < vecmath.SINCOS_LIMIT] for x in out]
        out += [rng.uniform(-0.99e6, 0.99e6, 200_000),
                np.concatenate([np.arange(1, 20_000) * np.pi / 2 + d for d in (0, 1e-9)])]
    if name in ("log", "log1p"):        # around 1 (0), -1, the huge and the subnormal
        out += [np.linspace(0.9, 1.1, 200_001), np.linspace(-1e-3, 1e-3, 200_001),
                -1 + np.logspace(-16, -1, 50_001), np.logspace(300, 308.2, 5001),
                np.logspace(-323.5, -307, 5001)]
    if name == "tanh":
        out.append(np.linspace(-vecmath.TANH_SATURATE - 1, vecmath.TANH_SATURATE + 1, 200_001))
    return out


@pytest.mark.parametrize("name", sorted(ULPS))
def test_within_a_few_ulp_of_numpy(name):
    ref = getattr(np, name)
    with np.errstate(all="ignore"):
        for x in samples(name):
            assert ulps(LOOPS[name](x), ref(x)) <= ULPS[name], (name, x[:3])


@pytest.mark.parametrize("name", sorted(ULPS))
def test_special_values_exactly_as_numpy(name):
    with np.errstate(all="ignore"):
        got, want = LOOPS[name](SPECIAL), getattr(np, name)(SPECIAL)
    np.testing.assert_array_equal(got, want)
    real = ~np.isnan(want)              # (a NaN's sign bit means nothing)
    assert np.array_equal(np.signbit(got[real]), np.signbit(want[real])), name   # -0.0 stays


def test_loops_with_them_vectorise():
    # the point of the module: the loop is SIMD (LLVM's vector types in the optimised IR), at
    # whatever width this CPU has (2 with SSE, 4 with AVX2, 8 with AVX-512)
    for name in ("exp", "sin", "tanh"):
        LOOPS[name](np.ones(8))
        ir = next(iter(LOOPS[name].inspect_llvm().values()))
        widths = {int(w) for w in re.findall(r"<(\d+) x double>", ir)}
        assert any(w >= 2 for w in widths), name


def sines(x):
    return np.sin(x) * np.cos(x) + np.exp(-x * x) + np.tanh(x)


@pytest.fixture
def fuse_small(monkeypatch):
    monkeypatch.setattr(fusion, "MIN_SIZE", 1)
    monkeypatch.setattr(fusion, "MIN_SERIAL_RUN", 2)


@pytest.mark.parametrize("scale", [1.0, 1e7, 1e300])
def test_fused_loop_falls_back_where_sin_cannot_reduce(fuse_small, scale):
    x = scale * np.random.default_rng(1).standard_normal(1000)
    x[::7] = 0.5                        # most arguments in range: only some are far
    f = fr.jit(sines)
    with np.errstate(over="ignore"):
        assert "fused" in f.lower(x).source
        f(x)                            # traced (eagerly); the compiled loop runs next
        got, want = f(x), sines(x)
    # sums of terms of size 1: absolute error a few ulp of 1 (without the fallback, 1e100)
    np.testing.assert_allclose(got, want, rtol=2e-15, atol=2e-15)


def test_float32_and_other_functions_keep_the_c_library(fuse_small):
    x = np.linspace(-3, 3, 100)
    f = fr.jit(lambda x: np.log1p(x * x) + np.sinh(x))
    np.testing.assert_allclose(f(x), np.log1p(x * x) + np.sinh(x), rtol=4e-16, atol=0)
    x32 = x.astype(np.float32)
    f32 = fr.jit(lambda x: np.expm1(x) * 2 + 1)
    got = f32(x32)
    assert got.dtype == np.float32
    # float32 keeps NumPy's loops or the C library's expm1f, whichever the back end picked: each
    # is within 1 ulp, so the sum is within 2 ulp of its largest term plus its own rounding
    # (near -1/2 the sum cancels, so a relative tolerance would ask for more than float32 has)
    want = np.expm1(x32) * 2 + 1
    scale = np.abs(np.expm1(x32) * 2) + 1
    assert np.all(np.abs(got - want) <= 3 * np.spacing(scale)), np.max(np.abs(got - want))
