"""Bounded resources: reverse mode holds no more memory than it must (tracemalloc sees NumPy's
allocations), and loops stay loops under jit."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import frechet as fr


def _peak(f, *args):
    """f(*args) and the peak memory (bytes) allocated while it ran."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        out = f(*args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return out, peak


# ---- one-shot gradients release residuals and cotangents as they go ----------------------------

PROBES = {
    "sum": (lambda x: np.sum(x), lambda x: np.ones_like(x)),
    "sum_sq": (lambda x: np.sum(x ** 2), lambda x: 2 * x),
    "mean_tanh": (lambda x: np.mean(np.tanh(x)), lambda x: (1 - np.tanh(x) ** 2) / x.size),
    "sum_sin_x": (lambda x: np.sum(np.sin(x) * x), lambda x: np.cos(x) * x + np.sin(x)),
}


@pytest.mark.parametrize("name", list(PROBES))
def test_grad_peak_memory_is_at_most_three_inputs(name):
    f, df = PROBES[name]
    x = np.random.default_rng(0).random(10 ** 6)
    g, peak = _peak(fr.grad(f), x)
    np.testing.assert_allclose(g, df(x), rtol=1e-12, atol=1e-15)
    assert peak <= 3.0 * x.nbytes + (1 << 18), f"{name}: peak {peak / x.nbytes:.2f}x the input"


@pytest.mark.parametrize("name", list(PROBES))
def test_jit_grad_peak_memory_is_at_most_three_inputs(name):
    # (fuse=False: numba's compilation would make this slow; the fused path holds less)
    f, df = PROBES[name]
    x = np.random.default_rng(1).random(10 ** 6)
    g = fr.jit(fr.grad(f), fuse=False)
    g(x)                                    # traces
    g(x)                                    # first compiled call: makes its buffers
    y = np.random.default_rng(2).random(10 ** 6)
    out, peak = _peak(g, y)
    np.testing.assert_allclose(out, df(y), rtol=1e-12, atol=1e-15)
    assert peak <= 3.0 * y.nbytes + (1 << 18), f"{name}: peak {peak / y.nbytes:.2f}x the input"


def test_jit_buffers_reuse_an_input_read_for_the_last_time():
    # sin(x) * x's gradient, cos(x) * x + sin(x), staged: the compiled program keeps 3 buffers
    # (an elementwise ufunc writes over an input it reads last), plus the result: 4 inputs
    g = fr.jit(fr.grad(lambda x: np.sum(np.sin(x) * x)), fuse=False)
    x = np.random.default_rng(3).random(10 ** 6)
    g(x)
    out, peak = _peak(g, x)
    np.testing.assert_allclose(out, np.cos(x) * x + np.sin(x), rtol=1e-12)
    assert peak <= 4.0 * x.nbytes + (1 << 18), f"peak {peak / x.nbytes:.2f}x the input"


def test_linear_map_transpose_reused_after_backward_passes():
    # only grad's one-shot pullback releases the program's residuals: a LinearMap's transpose
    # runs again and again on the same residuals
    x = np.linspace(0.1, 1.0, 5)
    _, L = fr.linearize(lambda x: np.sin(x) * x, x)
    w = np.arange(5.0)
    want = w * (np.cos(x) * x + np.sin(x))
    for _ in range(3):
        np.testing.assert_allclose(L.T(w), want, rtol=1e-12)
        np.testing.assert_allclose(L.apply_transpose(w), want, rtol=1e-12)
        np.testing.assert_allclose(L(w), want, rtol=1e-12)


def test_folded_scalings_keep_gradients_exact():
    # chains of scalings folded into one residual: f(x) g(x) h(x) with shared tangents
    x = np.linspace(0.2, 1.3, 7)
    g = fr.grad(lambda x: np.sum(np.sin(x) * np.exp(x) * x * np.cos(x)))(x)
    s, e, c = np.sin(x), np.exp(x), np.cos(x)
    want = c * e * x * c + s * e * x * c + s * e * c - s * e * x * s
    np.testing.assert_allclose(g, want, rtol=1e-12)
