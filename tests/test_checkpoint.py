"""checkpoint (rematerialisation) and its policies."""

import tracemalloc

import numpy as np
import pytest

import frechet as fr
from frechet import checkpoint_policies as cp
from frechet._src.prims.contractions import einsum_p

POLICIES = {
    "default": None,
    "nothing": cp.nothing_saveable,
    "everything": cp.everything_saveable,
    "dots": cp.dots_saveable,
}


def block(h, params):
    pre = h @ params["w"] + params["b"]
    return {"out": np.tanh(pre) * np.cos(h[:, :1]), "aux": np.sum(pre**2)}


def loss(params, x, blk):
    h, total = x, 0.0
    for _ in range(3):
        r = blk(h, params)
        h, total = r["out"], total + r["aux"]
    return np.sum(h**2) + 0.01 * total


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    params = {"w": 0.5 * rng.standard_normal((4, 4)), "b": rng.standard_normal(4)}
    return params, rng.standard_normal((3, 4))


@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES.keys())
def test_gradients_equal_the_unchecked_ones(problem, policy):
    params, x = problem
    want = fr.grad(loss)(params, x, block)
    got = fr.grad(loss)(params, x, fr.checkpoint(block, policy=policy))
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("policy", [None, cp.dots_saveable], ids=["default", "dots"])
def test_higher_order_forward_and_batched(problem, policy):
    params, x = problem
    blk = fr.checkpoint(block, policy=policy)
    w = params["w"]

    def f(w, blk):
        return loss({"w": w, "b": params["b"]}, x, blk)
    np.testing.assert_allclose(fr.hessian(f)(w, blk), fr.hessian(f)(w, block), rtol=1e-11)
    # the linear map applied forwards (forward mode at the saved point) and transposed
    v = np.ones_like(w)
    _, lin = fr.linearize(lambda w: f(w, blk), w)
    _, lin0 = fr.linearize(lambda w: f(w, block), w)
    np.testing.assert_allclose(lin(v), lin0(v), rtol=1e-12)
    np.testing.assert_allclose(lin.T(np.float64(1.0))[0], lin0.T(np.float64(1.0))[0], rtol=1e-12)
    # jvp runs the function itself
    np.testing.assert_allclose(fr.jvp(lambda w: f(w, blk), (w,), (v,))[1],
                               fr.jvp(lambda w: f(w, block), (w,), (v,))[1], rtol=1e-12)
    # per-example gradients, and a gradient through vmap
    xs = np.stack([x, 2 * x])
    per = fr.vmap(fr.grad(lambda w, x: loss({"w": w, "b": params["b"]}, x, blk)),
                  in_axes=(None, 0))(w, xs)
    per0 = fr.vmap(fr.grad(lambda w, x: loss({"w": w, "b": params["b"]}, x, block)),
                   in_axes=(None, 0))(w, xs)
    np.testing.assert_allclose(per, per0, rtol=1e-12)
    g = fr.grad(lambda w: np.sum(fr.vmap(lambda x: f(w, blk) * np.sum(x))(xs)))(w)
    g0 = fr.grad(lambda w: np.sum(fr.vmap(lambda x: f(w, block) * np.sum(x))(xs)))(w)
    np.testing.assert_allclose(g, g0, rtol=1e-12)


def test_jit_and_scan_bodies(problem):
    params, x = problem
    blk = fr.checkpoint(block)
    g = fr.grad(loss)(params, x, block)
    got = fr.jit(fr.grad(loss), static_argnums=2)(params, x, blk)
    np.testing.assert_allclose(got["w"], g["w"], rtol=1e-12)

    def body(h, _):
        return np.tanh(h @ params["w"]) * 0.9, None

    def through_scan(h0, body):
        h, _ = fr.scan(body, h0, length=5)
        return np.sum(h**2)
    np.testing.assert_allclose(fr.grad(through_scan)(x, fr.checkpoint(body)),
                               fr.grad(through_scan)(x, body), rtol=1e-12)
    jitted = fr.jit(fr.grad(through_scan), static_argnums=1)
    jitted(x, fr.checkpoint(body))
    np.testing.assert_allclose(jitted(x, fr.checkpoint(body)),
                               fr.grad(through_scan)(x, body), rtol=1e-12)


def test_while_loop_bodies(problem):
    # reverse mode through a while loop whose trip count depends on the values, with the body
    # checkpointed: eager and jitted
    params, x = problem

    def body(s):
        h, n = s
        return np.tanh(h @ params["w"]) * 0.9, n + 1       # 5 trips for this x

    def through_while(h0, body):
        h, n = fr.while_loop(lambda s: (np.sum(s[0] ** 2) > 0.5) & (s[1] < 20), body, (h0, 0))
        return np.sum(h ** 2) + n
    want = fr.grad(through_while)(x, body)
    np.testing.assert_allclose(fr.grad(through_while)(x, fr.checkpoint(body)), want, rtol=1e-12)
    jitted = fr.jit(fr.grad(through_while), static_argnums=1)
    jitted(x, fr.checkpoint(body))
    np.testing.assert_allclose(jitted(x, fr.checkpoint(body)), want, rtol=1e-12)


def test_one_remat_equation_per_block_in_the_linear_program(problem):
    params, x = problem
    _, lin = fr.linearize(lambda w: loss({"w": w, "b": params["b"]}, x, fr.checkpoint(block)),
                          params["w"])
    names = [e.primitive.name for e in lin.program.eqns]
    assert names.count("remat") == 3 and "einsum" not in names and "tanh" not in names


def test_dots_saveable_does_not_recompute_contractions(problem, monkeypatch):
    params, x = problem
    # counted through einsum's impl: the array tape's products (NumPy's @) are not counted
    monkeypatch.setattr(fr.config, "array_tape", False)
    calls = []
    impl = einsum_p.impl
    monkeypatch.setattr(einsum_p, "impl", lambda *a, **k: calls.append(1) or impl(*a, **k))

    def in_backward_pass(policy):
        _, pullback = fr.vjp(lambda p: loss(p, x, fr.checkpoint(block, policy=policy)), params)
        calls.clear()
        pullback(np.float64(1.0))
        return len(calls)
    plain = in_backward_pass(cp.everything_saveable)   # transposed matmuls only
    assert in_backward_pass(None) == plain + 3         # each block's matmul recomputed
    assert in_backward_pass(cp.dots_saveable) == plain


def blk(x):
    return np.sin(x) * np.cos(x) + x * np.tanh(x)


def twelve_blocks(x, b):
    for _ in range(12):
        x = b(x)
    return np.sum(x)


def test_memory_is_saved():
    x = 0.1 * np.random.default_rng(0).standard_normal(200_000)   # 1.6 MB per array
    peaks, grads = [], []
    for b in (blk, fr.checkpoint(blk)):
        fr.grad(twelve_blocks)(x, b)
        tracemalloc.start()
        try:
            grads.append(fr.grad(twelve_blocks)(x, b))
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-13)
    # measured: about 141 MB without checkpointing, 38 MB with it
    assert peaks[1] < 0.4 * peaks[0], [p / 1e6 for p in peaks]


def test_closure_over_a_differentiated_value_warns_and_stays_correct():
    x = np.linspace(0.1, 1.0, 4)

    def f(x):
        y = np.sin(x)
        inner = fr.checkpoint(lambda z: z * y)      # y is differentiated, but not an argument
        return np.sum(inner(x))
    with pytest.warns(UserWarning, match="closure"):
        g = fr.grad(f)(x)
    np.testing.assert_allclose(g, np.sin(x) + x * np.cos(x), rtol=1e-14)


def test_policy_errors():
    x = np.linspace(0.1, 1.0, 4)
    keep_sin = fr.checkpoint(np.sin, policy=lambda prim, params: prim.name == "sin")
    with pytest.raises(NotImplementedError, match="'sin'"):
        fr.grad(lambda x: np.sum(keep_sin(x)))(x)

    def branchy(x):
        return np.sin(x) if np.sum(x) > 0 else np.cos(x)
    with pytest.raises(fr.ConcretizationError):
        fr.grad(lambda x: np.sum(fr.checkpoint(branchy, policy=cp.dots_saveable)(x)))(x)
    # the default policy runs the function as Python: branching on values is fine
    g = fr.grad(lambda x: np.sum(fr.checkpoint(branchy)(x)))(x)
    np.testing.assert_allclose(g, np.cos(x), rtol=1e-14)


def test_jit_keeps_the_recomputation():
    # Under jit the recomputed block is staged after a barrier, so CSE cannot merge it into
    # the forward pass and the residuals die early; measured by the compiled program's
    # buffers (fusion off: a fused loop keeps no residual arrays anyway).
    import math

    from frechet._src.ir import buffers

    x = 0.1 * np.random.default_rng(0).standard_normal(50_000)
    held, grads = [], []
    for b in (blk, fr.checkpoint(blk)):
        g = fr.jit(fr.grad(twelve_blocks), static_argnums=1, fuse=False)
        grads.append(g(x, b))
        program = g.lower(x, b).program
        _, specs = buffers.plan(program, program.eqns)
        held.append(sum(math.prod(s) * np.dtype(d).itemsize for s, d in specs))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-13)
    # measured: 28.8 MB of buffers without checkpointing, 6.8 MB with it (20 MB if CSE merges)
    assert held[1] < 0.4 * held[0], held
