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


# ---- reverse mode through a while loop under jit is a loop -------------------------------------

def _damped(n):
    def f(x):
        return fr.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, np.sin(c[1]) * 0.999
                                                            + 0.001 * x), (0, x))[1]
    return f


def _damped_grad(x, n):
    c, d = x, 1.0
    for _ in range(n):
        c, d = np.sin(c) * 0.999 + 0.001 * x, np.cos(c) * 0.999 * d + 0.001
    return d


def test_jit_grad_while_loop_compiles_a_loop_not_its_unrolling():
    g = fr.jit(fr.grad(_damped(10 ** 4)))
    program = g.lower(0.5).program
    assert len(program.eqns) < 20, len(program.eqns)     # was one body per iteration
    assert {e.primitive.name for e in program.eqns} >= {"while_tape", "tape_loop"}
    for x in (0.5, 0.7):
        np.testing.assert_allclose(g(x), _damped_grad(x, 10 ** 4), rtol=1e-10)


def test_jit_grad_while_loop_trip_count_is_found_at_run_time():
    # the trip count depends on x: one trace serves every trip count (no guard, no retrace)
    def f(x, w):
        def body(c):
            i, v, s = c
            return i + 1, v * 1.5 + w * 0.1, s + np.sin(v) * w
        return fr.while_loop(lambda c: c[1] < 10.0 * np.sum(w), body, (0, x, x * w))[2]

    def eager(x, w):    # the same loop in Python
        i, v, s = 0, x, x * w
        while v < 10.0 * np.sum(w):
            i, v, s = i + 1, v * 1.5 + w * 0.1, s + np.sin(v) * w
        return s
    g = fr.jit(fr.grad(f, argnums=(0, 1)))
    for x in (0.1, 1.0, 3.0, 9.0, 12.0):
        w = np.float64(0.8)
        want = fr.grad(eager, argnums=(0, 1))(x, w)
        got = g(np.float64(x), w)
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert g.trace_count == 1


def test_jit_grad_while_loop_with_array_carry_and_fori_loop():
    w = np.linspace(0.5, 1.5, 4)

    def f(x, n):
        out = fr.fori_loop(0, n, lambda i, v: np.tanh(v * w) + x, x)
        return np.sum(out ** 2)

    x = np.linspace(-1.0, 1.0, 4)
    g = fr.jit(fr.grad(f))
    for n in (0, 1, 5, 12):
        np.testing.assert_allclose(g(x, np.int64(n)), fr.grad(f)(x, n), rtol=1e-12)
    assert g.trace_count == 1


def test_nested_derivatives_of_while_loop_under_jit():
    # jvp/vmap of grad: the inner linearization runs the loop as eager code does
    f = _damped(5)
    h = fr.jit(fr.grad(fr.grad(f)))
    eps = 1e-5
    fd = (_damped_grad(0.5 + eps, 5) - _damped_grad(0.5 - eps, 5)) / (2 * eps)
    np.testing.assert_allclose(h(0.5), fd, rtol=1e-6)
    xs = np.array([0.2, 0.5])
    v = fr.jit(fr.vmap(fr.grad(f)))(xs)
    np.testing.assert_allclose(v, [_damped_grad(x, 5) for x in xs], rtol=1e-12)


def test_transposing_a_staged_while_tape_again_says_what_to_do():
    program = fr.make_program(fr.grad(_damped(3)))(0.5)
    with pytest.raises(fr.NonDifferentiableError, match="apply the outer transformation"):
        fr.grad(lambda x: program(x)[0])(np.float64(0.5))


@pytest.mark.slow
def test_jit_grad_while_loop_memory_at_1e5_iterations():
    g = fr.jit(fr.grad(_damped(10 ** 5)))
    out, peak = _peak(g, 0.5)             # traces and runs (the unrolled trace took 2.5 GB)
    np.testing.assert_allclose(out, _damped_grad(0.5, 10 ** 5), rtol=1e-9)
    assert peak < 300e6, peak
    out, peak = _peak(g, 0.7)
    np.testing.assert_allclose(out, _damped_grad(0.7, 10 ** 5), rtol=1e-9)
    assert peak < 300e6, peak


# ---- checkpoint inside a staged loop body --------------------------------------------------------

def _layers(h, w):
    for k in range(w.shape[0]):
        h = np.tanh(h * w[k] + 0.1)
    return h


def _deep_scan(steps, checkpointed, policy=None):
    block = fr.checkpoint(_layers, policy=policy) if checkpointed else _layers

    def f(w, h0):
        h, _ = fr.scan(lambda h, _: (block(h, w), None), h0, length=steps)
        return np.sum(h ** 2)
    return f


def test_checkpoint_in_scan_body_cuts_jit_grad_memory():
    rng = np.random.default_rng(4)
    w, h0 = rng.standard_normal((8, 500)) * 0.1, rng.standard_normal(500)
    want = fr.grad(_deep_scan(40, False))(w, h0)       # eager, small
    peaks = {}
    for ck in (False, True):
        g = fr.jit(fr.grad(_deep_scan(200, ck)))
        g(w, h0)
        np.testing.assert_allclose(fr.jit(fr.grad(_deep_scan(40, ck)))(w, h0), want,
                                   rtol=1e-10, atol=1e-14)
        _, peaks[ck] = _peak(g, w, h0)
    # the residuals of 8 layers per step, against the block's input: ~1/8 (was 1: no effect)
    assert peaks[True] < 0.3 * peaks[False], peaks


def test_checkpoint_in_staged_loop_bodies_composes():
    rng = np.random.default_rng(5)
    w, h0 = rng.standard_normal((3, 6)) * 0.5, rng.standard_normal(6)
    plain, ck = _deep_scan(5, False), _deep_scan(5, True)
    assert "checkpoint_call" in str(fr.make_program(ck)(w, h0))
    for got, want in zip(fr.jit(fr.grad(ck, argnums=(0, 1)))(w, h0),
                         fr.grad(plain, argnums=(0, 1))(w, h0)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    dots = _deep_scan(5, True, policy=fr.checkpoint_policies.dots_saveable)
    np.testing.assert_allclose(fr.jit(fr.grad(dots))(w, h0), fr.grad(plain)(w, h0), rtol=1e-12)
    v = rng.standard_normal((3, 6))
    np.testing.assert_allclose(fr.jit(lambda w: fr.jvp(ck, (w, h0), (v, h0 * 0))[1])(w),
                               fr.jvp(plain, (w, h0), (v, h0 * 0))[1], rtol=1e-12)
    ws = np.stack([w, 2 * w])
    np.testing.assert_allclose(fr.jit(fr.vmap(fr.grad(ck), in_axes=(0, None)))(ws, h0),
                               [fr.grad(plain)(x, h0) for x in ws], rtol=1e-12)
    np.testing.assert_allclose(fr.jit(fr.hessian(lambda h: ck(w, h)))(h0),
                               fr.hessian(lambda h: plain(w, h))(h0), rtol=1e-10, atol=1e-12)

    def loop(w, h0):     # a while body
        return np.sum(fr.while_loop(lambda c: c[0] < 4, lambda c: (c[0] + 1, fr.checkpoint(
            _layers)(c[1], w)), (0, h0))[1] ** 2)

    def loop_plain(w, h0):
        for _ in range(4):
            h0 = _layers(h0, w)
        return np.sum(h0 ** 2)
    np.testing.assert_allclose(fr.jit(fr.grad(loop))(w, h0), fr.grad(loop_plain)(w, h0),
                               rtol=1e-12)


def test_jit_grad_scan_does_not_stack_loop_invariant_residuals():
    # W @ h's tangent reads W every step: W is read from the loop's consts, not stacked
    rng = np.random.default_rng(6)
    w, h0 = rng.standard_normal((200, 200)) / 20, rng.standard_normal(200)

    def f(w, h0):
        h, _ = fr.scan(lambda h, _: (np.tanh(w @ h), None), h0, length=100)
        return np.sum(h)
    g = fr.jit(fr.grad(f, argnums=1))
    g(w, h0)
    out, peak = _peak(g, w, h0)
    np.testing.assert_allclose(out, fr.grad(f, argnums=1)(w, h0), rtol=1e-12)
    assert peak < 10 * w.nbytes, peak / w.nbytes     # 100 stacked copies: 100x


def test_checkpoint_policy_in_scan_body_keeps_the_contractions():
    rng = np.random.default_rng(7)
    w, h0 = rng.standard_normal((3, 6, 6)) * 0.3, rng.standard_normal(6)

    def layers(h, w):
        for k in range(3):
            h = np.tanh(w[k] @ h)
        return h

    def make(policy):
        block = fr.checkpoint(layers, policy=policy) if policy != "plain" else layers

        def f(w, h0):
            return np.sum(fr.scan(lambda h, _: (block(h, w), None), h0, length=4)[0] ** 2)
        return f
    want = fr.grad(make("plain"))(w, h0)
    matmuls = {}
    for policy in (None, fr.checkpoint_policies.dots_saveable):
        np.testing.assert_allclose(fr.jit(fr.grad(make(policy)))(w, h0), want, rtol=1e-12)
        text = str(fr.make_program(fr.grad(make(policy)))(w, h0))
        matmuls[policy] = text.count("einsum[spec='ij,j->i']")
    # the forward pass's 3 matmuls; rematerialising everything recomputes them backwards too
    assert matmuls[fr.checkpoint_policies.dots_saveable] == 3
    assert matmuls[None] == 6


def test_folded_scalings_of_mixed_dtypes_and_orders():
    # a chain whose residuals differ in dtype is left as it is; operands in either order
    x = np.random.default_rng(8).random(10 ** 4)
    x32 = x.astype(np.float32)

    def f(x):
        s = np.sin(x)
        return np.sum(x32 * (s * x)) + np.sum((x * s) * np.cos(x))
    g = fr.grad(f)(x)
    s, c = np.sin(x), np.cos(x)
    want = x32 * (c * x + s) + (s + x * c) * c - x * s * s
    np.testing.assert_allclose(g, want, rtol=1e-6)


def test_scaling_folds_skip_residuals_they_cannot_multiply():
    from frechet._src.core.primitive import REGISTRY
    from frechet._src.core.spec import ArraySpec
    from frechet._src.interpreters.ad import backward_pass
    from frechet._src.ir.program import Eqn, Program, Var

    class Sub(np.ndarray):      # not a plain ndarray: never folded
        pass
    multiply_p = REGISTRY["multiply"]
    spec = ArraySpec((10 ** 4,), np.float64)
    d, e, f, g = (Var(spec) for _ in range(4))
    ca, cb, cc = Var(spec), Var(spec), Var(spec)
    a, c = np.full(10 ** 4, 2.0), np.full(10 ** 4, 5.0)
    b = np.full(10 ** 4, 3.0).view(Sub)
    eqns = [Eqn(multiply_p, (d, ca), (e,), {}), Eqn(multiply_p, (cb, e), (f,), {}),
            Eqn(multiply_p, (f, cc), (g,), {})]
    program = Program([d], [ca, cb, cc], [a, b, c], eqns, [g], [spec])
    (ct,) = backward_pass(program, [np.ones(10 ** 4)], once=True)
    np.testing.assert_allclose(ct, 30.0)
    assert program.consts == ()
