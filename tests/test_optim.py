import sys

import numpy as np
import pytest

import frechet
from frechet import optim

# ---- a small pytree with an array, a 0-d array and a Python float -------------------------------

P0 = {"w": np.array([0.5, -1.0]), "b": (np.array(0.3), 2.0)}


def grads_at(k):
    """A fixed sequence of gradients (independent of the parameters), one per step."""
    return {"w": np.array([1.0, -2.0]) * (k + 1) + 0.1, "b": (np.array(0.5 - k), 0.25 * k - 0.3)}


def flat(t):
    return np.concatenate([np.ravel(t["w"]), np.ravel(t["b"][0]), np.ravel(t["b"][1])])


def run(opt, steps=4):
    """The updates opt produces over `steps` steps, as flat vectors."""
    params, state, out = P0, opt.init(P0), []
    for k in range(steps):
        updates, state = opt.update(grads_at(k), state, params)
        params = optim.apply_updates(params, updates)
        out.append(flat(updates))
    assert isinstance(params["b"][1], float | np.floating)
    return np.array(out)


def reference(rule, steps=4):
    """The same run with a hand-written update rule on flat vectors: rule(g, p, k, mem)."""
    p, mem, out = flat(P0), {}, []
    for k in range(steps):
        u = rule(flat(grads_at(k)), p, k, mem)
        p = p + u
        out.append(u)
    return np.array(out)


# ---- each optimiser against its published update rule ------------------------------------------

@pytest.mark.parametrize("momentum,nesterov", [(None, False), (0.7, False), (0.7, True)])
def test_sgd(momentum, nesterov):
    def rule(g, p, k, mem):
        if momentum is None:
            return -0.1 * g
        t = g + momentum * mem.get("t", 0.0)
        mem["t"] = t
        return -0.1 * (g + momentum * t if nesterov else t)
    np.testing.assert_allclose(run(optim.sgd(0.1, momentum, nesterov)), reference(rule),
                               rtol=1e-13)


def adam_rule(lr, b1, b2, eps, wd=0.0):
    def rule(g, p, k, mem):
        m = mem["m"] = b1 * mem.get("m", 0.0) + (1 - b1) * g
        v = mem["v"] = b2 * mem.get("v", 0.0) + (1 - b2) * g ** 2
        mhat, vhat = m / (1 - b1 ** (k + 1)), v / (1 - b2 ** (k + 1))
        return -lr * (mhat / (np.sqrt(vhat) + eps) + wd * p)
    return rule


def test_adam():
    np.testing.assert_allclose(run(optim.adam(0.05, b1=0.8, b2=0.95, eps=1e-3)),
                               reference(adam_rule(0.05, 0.8, 0.95, 1e-3)), rtol=1e-12)


def test_adamw():
    np.testing.assert_allclose(run(optim.adamw(0.05, b1=0.8, b2=0.95, eps=1e-3,
                                               weight_decay=0.3)),
                               reference(adam_rule(0.05, 0.8, 0.95, 1e-3, wd=0.3)), rtol=1e-12)


def test_rmsprop_plain_centered_and_with_momentum():
    def rule(centered, momentum):
        def r(g, p, k, mem):
            nu = mem["nu"] = 0.8 * mem.get("nu", 0.2) + 0.2 * g ** 2
            denom = nu + 1e-2
            if centered:
                mu = mem["mu"] = 0.8 * mem.get("mu", 0.0) + 0.2 * g
                denom = nu - mu ** 2 + 1e-2
            d = g / np.sqrt(denom)
            if momentum:
                d = mem["t"] = d + momentum * mem.get("t", 0.0)
            return -0.1 * d
        return r
    for centered, momentum in [(False, None), (True, None), (False, 0.5)]:
        opt = optim.rmsprop(0.1, decay=0.8, eps=1e-2, initial_scale=0.2, centered=centered,
                            momentum=momentum)
        np.testing.assert_allclose(run(opt), reference(rule(centered, momentum)), rtol=1e-12)


def test_adagrad():
    def rule(g, p, k, mem):
        s = mem["s"] = mem.get("s", 0.1) + g ** 2
        return -0.3 * g / np.sqrt(s + 1e-2)
    np.testing.assert_allclose(run(optim.adagrad(0.3, 0.1, eps=1e-2)), reference(rule),
                               rtol=1e-12)


def test_lion():
    def rule(g, p, k, mem):
        m = mem.get("m", 0.0)
        c = np.sign(0.8 * m + 0.2 * g)
        mem["m"] = 0.9 * m + 0.1 * g
        return -0.01 * (c + 0.5 * p)
    np.testing.assert_allclose(run(optim.lion(0.01, b1=0.8, b2=0.9, weight_decay=0.5)),
                               reference(rule), rtol=1e-12)


# ---- schedules --------------------------------------------------------------------------------

def test_schedule_values():
    assert optim.constant(0.3)(11) == 0.3
    lin = optim.linear(1.0, 0.0, 10, transition_begin=5)
    np.testing.assert_allclose([lin(t) for t in (0, 5, 10, 15, 40)], [1, 1, 0.5, 0, 0])
    cos = optim.cosine_decay(2.0, 10, alpha=0.1)
    np.testing.assert_allclose([cos(t) for t in (0, 5, 10, 20)], [2.0, 1.1, 0.2, 0.2])
    w = optim.warmup_cosine_decay(0.1, 1.0, warmup_steps=10, decay_steps=30, end_value=0.2)
    np.testing.assert_allclose([w(t) for t in (0, 5, 10, 20, 30, 50)],
                               [0.1, 0.55, 1.0, 0.6, 0.2, 0.2], rtol=1e-12)
    ex = optim.exponential_decay(1.0, 10, 0.5)
    np.testing.assert_allclose([ex(t) for t in (0, 10, 15, 20)], [1, 0.5, 0.5 ** 1.5, 0.25])
    stair = optim.exponential_decay(1.0, 10, 0.5, transition_begin=5, staircase=True,
                                    end_value=0.3)
    np.testing.assert_allclose([stair(t) for t in (3, 14, 15, 25, 100)], [1, 1, 0.5, 0.3, 0.3])


def test_learning_rate_schedule_is_evaluated_at_the_step_count():
    sched = optim.linear(0.4, 0.1, 3)
    lrs = [sched(k) for k in range(4)]
    np.testing.assert_allclose(run(optim.sgd(sched)),
                               reference(lambda g, p, k, mem: -lrs[k] * g), rtol=1e-13)


def test_schedule_errors_lead_with_the_fix():
    with pytest.raises(ValueError, match="pass a positive integer decay_steps"):
        optim.cosine_decay(1.0, 0)
    with pytest.raises(ValueError, match="pass decay_steps > warmup_steps"):
        optim.warmup_cosine_decay(0.0, 1.0, 10, 10)


def test_schedule_is_differentiable_in_its_values():
    d = frechet.grad(lambda peak: optim.warmup_cosine_decay(0.0, peak, 10, 30)(20))(2.0)
    np.testing.assert_allclose(d, 0.5)


# ---- chain, clipping, weight decay --------------------------------------------------------------

def test_clip_by_global_norm_and_chain():
    clip = optim.clip_by_global_norm(1.0)
    g = {"a": np.array([3.0]), "b": 4.0}
    out, _ = clip.update(g, clip.init(g))
    np.testing.assert_allclose([out["a"][0], out["b"]], [0.6, 0.8])
    small = {"a": np.array([0.3]), "b": 0.4}
    out, _ = clip.update(small, clip.init(small))
    np.testing.assert_allclose([out["a"][0], out["b"]], [0.3, 0.4])
    opt = optim.chain(optim.clip_by_global_norm(0.5), optim.sgd(0.1, momentum=0.5))
    def rule(g, p, k, mem):
        g = g * 0.5 / max(np.linalg.norm(g), 0.5)
        t = mem["t"] = g + 0.5 * mem.get("t", 0.0)
        return -0.1 * t
    np.testing.assert_allclose(run(opt), reference(rule), rtol=1e-13)


def test_add_decayed_weights_with_a_mask():
    tx = optim.add_decayed_weights(0.5, mask={"w": True, "b": (False, True)})
    out, _ = tx.update(grads_at(0), tx.init(P0), P0)
    g = grads_at(0)
    np.testing.assert_allclose(flat(out), flat(g) + 0.5 * flat(P0) * np.array([1, 1, 0, 1]))
    with pytest.raises(ValueError, match="pass the parameters to update"):
        tx.update(grads_at(0), tx.init(P0))


def test_user_written_transformation_in_a_chain():
    halve = optim.GradientTransformation(lambda p: (), lambda g, s, p=None: (
        optim.tree_map(lambda x: 0.5 * x, g), s))
    opt = optim.chain(halve, optim.sgd(0.1))
    np.testing.assert_allclose(run(opt), reference(lambda g, p, k, mem: -0.05 * g), rtol=1e-13)
    # fit passes value_fn only to updates that take extra keywords
    params, _ = optim.fit(lambda w: np.sum(w ** 2), np.ones(2), opt, 2, progress=False)
    np.testing.assert_allclose(params, 0.9 ** 2 * np.ones(2))


# ---- L-BFGS -----------------------------------------------------------------------------------

def lbfgs_run(f, x, steps, opt):
    state = opt.init(x)
    for _ in range(steps):
        u, state = opt.update(frechet.grad(f)(x), state, x, value_fn=f)
        x = optim.apply_updates(x, u)
    return x


def test_lbfgs_converges_on_a_quadratic():
    a = np.array([[4.0, 1.0, 0.0, 0.0], [1.0, 3.0, 0.5, 0.0], [0.0, 0.5, 2.0, 0.1],
                  [0.0, 0.0, 0.1, 1.0]])
    b = np.array([1.0, -2.0, 0.5, 3.0])
    f = lambda x: 0.5 * x @ a @ x - b @ x
    x = lbfgs_run(f, np.zeros(4), 20, optim.lbfgs(memory_size=3))
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-8)


def rosenbrock(p):
    x, y = p["x"], p["y"]
    return (1.0 - x) ** 2 + 100.0 * (y - x ** 2) ** 2


def test_lbfgs_converges_on_rosenbrock_with_pytree_params():
    p = lbfgs_run(rosenbrock, {"x": np.array(-1.2), "y": 1.0}, 100, optim.lbfgs(memory_size=5))
    np.testing.assert_allclose([p["x"], p["y"]], [1.0, 1.0], atol=1e-6)


def test_lbfgs_fit_and_missing_value_fn():
    _, hist = optim.fit(rosenbrock, {"x": np.array(-1.2), "y": np.array(1.0)},
                        optim.lbfgs(), 60, progress=False)
    assert hist[0] == pytest.approx(24.2) and hist[-1] < 1e-10
    assert np.all(np.diff(hist) <= 1e-12)     # the Wolfe search never increases the loss
    opt = optim.lbfgs()
    with pytest.raises(ValueError, match="pass value_fn=<the objective> to lbfgs"):
        opt.update(np.ones(2), opt.init(np.ones(2)), np.ones(2))


def test_lbfgs_with_a_fixed_learning_rate_is_differentiable():
    def final(x0):
        f = lambda x: np.sum((x - 1.0) ** 2 * np.array([1.0, 3.0]))
        return f(lbfgs_run(f, x0, 3, optim.lbfgs(learning_rate=0.1)))
    x0 = np.array([0.2, -0.4])
    g = frechet.grad(final)(x0)
    fd = [(final(x0 + e) - final(x0 - e)) / 2e-6 for e in 1e-6 * np.eye(2)]
    np.testing.assert_allclose(g, fd, rtol=1e-6)


# ---- differentiating training loops -----------------------------------------------------------

RNG = np.random.default_rng(0)
X = RNG.normal(size=(12, 3))
Y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * RNG.normal(size=12)


def mse(p):
    return np.mean((X @ p["w"] + p["b"] - Y) ** 2)


def train_python(lr, p0, n=6, make=lambda lr: optim.adam(lr)):
    opt = make(lr)
    p, state = p0, opt.init(p0)
    for _ in range(n):
        u, state = opt.update(frechet.grad(mse)(p), state, p)
        p = optim.apply_updates(p, u)
    return mse(p)


def train_fori(lr, p0, n=6):
    opt = optim.sgd(lr, momentum=0.9, nesterov=True)
    def body(i, carry):
        p, state = carry
        u, state = opt.update(frechet.grad(mse)(p), state, p)
        return optim.apply_updates(p, u), state
    p, _ = frechet.fori_loop(0, n, body, (p0, opt.init(p0)))
    return mse(p)


def train_scan(lr, p0, n=6):
    opt = optim.rmsprop(lr, momentum=0.5)
    def body(carry, _):
        p, state = carry
        u, state = opt.update(frechet.grad(mse)(p), state, p)
        return (optim.apply_updates(p, u), state), mse(p)
    (p, _), losses = frechet.scan(body, (p0, opt.init(p0)), length=n)
    return mse(p) + 0.1 * np.sum(losses)


P_INIT = {"w": np.array([0.1, 0.2, -0.3]), "b": np.array(0.5)}


def fd_check(fun, lr, p0):
    """d fun / d lr and d fun / d p0 against central differences."""
    dlr, dp = frechet.grad(fun, argnums=(0, 1))(lr, p0)
    h = 1e-6
    np.testing.assert_allclose(dlr, (fun(lr + h, p0) - fun(lr - h, p0)) / (2 * h), rtol=1e-5)
    shift = lambda t: {"w": p0["w"] + t[:3], "b": p0["b"] + t[3]}
    fd = [(fun(lr, shift(e)) - fun(lr, shift(-e))) / (2 * h) for e in h * np.eye(4)]
    np.testing.assert_allclose(np.append(dp["w"], dp["b"]), fd, rtol=1e-5, atol=1e-9)
    assert abs(dlr) > 1e-3 and abs(dp["b"]) > 1e-6     # not vacuous


@pytest.mark.parametrize("fun", [train_python, train_fori, train_scan],
                         ids=["python_for", "fori_loop", "scan"])
def test_unrolled_hypergradient_matches_finite_differences(fun):
    fd_check(fun, 0.05, P_INIT)


@pytest.mark.parametrize("make", [
    lambda lr: optim.adamw(lr, weight_decay=0.1),
    lambda lr: optim.chain(optim.clip_by_global_norm(1.0), optim.sgd(lr, momentum=0.5)),
    lambda lr: optim.adagrad(lr),
    lambda lr: optim.sgd(optim.cosine_decay(lr, 4)),
], ids=["adamw", "clip_sgd", "adagrad", "cosine_schedule"])
def test_hypergradient_through_other_optimisers(make):
    fd_check(lambda lr, p0: train_python(lr, p0, 5, make), 0.05, P_INIT)


def test_zero_d_and_float_parameters_get_nonzero_gradients():
    def final(w0):
        opt = optim.sgd(0.1)
        w, s = w0, opt.init(w0)
        for _ in range(3):
            u, s = opt.update(frechet.grad(lambda v: (v - 2.0) ** 2)(w), s, w)
            w = optim.apply_updates(w, u)
        return w
    np.testing.assert_allclose(frechet.grad(final)(np.array(0.5)), 0.8 ** 3)
    np.testing.assert_allclose(frechet.grad(final)(0.5), 0.8 ** 3)


# ---- unroll: truncation and checkpointing -----------------------------------------------------

def sgd_step(p, lr):
    return {k: p[k] - lr * g for k, g in frechet.grad(mse)(p).items()}


def unrolled(lr, p0, n, **kw):
    return mse(optim.unroll(sgd_step, p0, n, args=(lr,), **kw))


def test_unroll_matches_a_python_loop_and_checkpointing_changes_nothing():
    p = P_INIT
    for _ in range(7):
        p = sgd_step(p, 0.05)
    assert unrolled(0.05, P_INIT, 7) == pytest.approx(mse(p), rel=1e-14)
    g = frechet.grad(unrolled, argnums=(0, 1))(0.05, P_INIT, 7)
    gc = frechet.grad(unrolled, argnums=(0, 1))(0.05, P_INIT, 7, checkpoint_every=3)
    np.testing.assert_allclose(gc[0], g[0], rtol=1e-12)
    np.testing.assert_allclose(gc[1]["w"], g[1]["w"], rtol=1e-12)
    fd_check(lambda lr, p0: unrolled(lr, p0, 7, checkpoint_every=3), 0.05, P_INIT)


@pytest.mark.parametrize("checkpoint_every", [None, 2])
def test_truncate_differentiates_only_the_steps_after_the_last_cut(checkpoint_every):
    n, k = 10, 4          # cuts before steps 4 and 8: only steps 8 and 9 are differentiated
    dlr, dp = frechet.grad(unrolled, argnums=(0, 1))(0.05, P_INIT, n, truncate=k,
                                                     checkpoint_every=checkpoint_every)
    assert np.all(dp["w"] == 0) and dp["b"] == 0
    mid = optim.unroll(sgd_step, P_INIT, 8, args=(0.05,))          # plain values
    expected = frechet.grad(lambda lr: unrolled(lr, mid, 2))(0.05)
    np.testing.assert_allclose(dlr, expected, rtol=1e-12)
    full = frechet.grad(unrolled)(0.05, P_INIT, n)
    assert abs(full - dlr) > 1e-3 * abs(full)   # truncation changed the derivative
    # with n <= truncate nothing is cut
    np.testing.assert_allclose(frechet.grad(unrolled)(0.05, P_INIT, 4, truncate=4),
                               frechet.grad(unrolled)(0.05, P_INIT, 4), rtol=1e-13)


def test_unroll_argument_errors():
    with pytest.raises(ValueError, match="pass a positive integer checkpoint_every"):
        optim.unroll(sgd_step, P_INIT, 3, checkpoint_every=0)
    with pytest.raises(ValueError, match="pass a positive integer n"):
        optim.unroll(sgd_step, P_INIT, 2.5)


def grad_peak_bytes(n, checkpoint_every, truncate=None):
    import tracemalloc
    opt = optim.sgd
    def step(carry, lr):
        p, state = carry
        u, state = opt(lr).update(frechet.grad(mse)(p), state, p)
        return optim.apply_updates(p, u), state
    def final(lr):
        p, _ = optim.unroll(step, (P_INIT, opt(0.0).init(P_INIT)), n, truncate=truncate,
                            checkpoint_every=checkpoint_every, args=(lr,))
        return mse(p)
    tracemalloc.start()
    try:
        g = frechet.grad(final)(0.01)
        return g, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_checkpointing_and_truncation_cut_the_peak_memory_of_a_long_unroll():
    grad_peak_bytes(20, None)                                   # warm caches first
    g0, plain = grad_peak_bytes(200, None)
    g1, ckpt = grad_peak_bytes(200, 14)
    _, trunc = grad_peak_bytes(200, None, truncate=20)
    np.testing.assert_allclose(g1, g0, rtol=1e-10)
    assert plain > 3 * ckpt, (plain, ckpt)
    assert plain > 3 * trunc, (plain, trunc)


@pytest.mark.slow
def test_memory_of_a_1000_step_unroll():
    grad_peak_bytes(20, None)
    _, plain = grad_peak_bytes(1000, None)
    _, ckpt = grad_peak_bytes(1000, 32)
    _, trunc_short = grad_peak_bytes(250, None, truncate=25)
    _, trunc = grad_peak_bytes(1000, None, truncate=25)
    assert plain > 8 * ckpt, (plain, ckpt)
    assert trunc < 1.5 * trunc_short, (trunc, trunc_short)     # flat in n


# ---- fit ------------------------------------------------------------------------------------

def test_fit_history_and_plain_progress_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)           # as if tqdm were not installed
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    params, hist = optim.fit(mse, P_INIT, optim.sgd(0.05), 5)
    p, expected = P_INIT, []
    for _ in range(5):
        expected.append(mse(p))
        p = sgd_step(p, 0.05)
    np.testing.assert_allclose(hist, expected, rtol=1e-14)
    np.testing.assert_allclose(params["w"], p["w"], rtol=1e-14)
    err = capsys.readouterr().err
    assert "fit: step 5/5" in err and f"loss {expected[-1]:.6g}" in err and err.endswith("\n")
    assert "\n" not in err[:-1]                                 # one line, rewritten in place


def test_fit_with_batches_cycles_a_list_and_stops_with_an_iterator():
    batches = [(X[:6], Y[:6]), (X[6:], Y[6:])]
    loss = lambda w, batch: np.mean((batch[0] @ w - batch[1]) ** 2)
    _, hist = optim.fit(loss, np.zeros(3), optim.sgd(0.05), 5, data=batches, progress=False)
    w, expected = np.zeros(3), []
    for k in range(5):
        b = batches[k % 2]
        expected.append(loss(w, b))
        w = w - 0.05 * frechet.grad(loss)(w, b)
    np.testing.assert_allclose(hist, expected, rtol=1e-14)
    _, hist = optim.fit(loss, np.zeros(3), optim.sgd(0.05), 5, data=iter(batches),
                        progress=False)
    assert len(hist) == 2


def test_lbfgs_with_its_line_search_is_differentiable_in_the_data():
    def final(c):
        f = lambda x: np.sum((x - c) ** 2 * np.array([1.0, 3.0])) + 0.1 * np.sum(x ** 4)
        return f(lbfgs_run(f, np.zeros(2), 4, optim.lbfgs()))
    c = np.array([0.7, -0.4])
    g = frechet.grad(final)(c)
    fd = [(final(c + e) - final(c - e)) / 2e-6 for e in 1e-6 * np.eye(2)]
    np.testing.assert_allclose(g, fd, rtol=1e-5)


@pytest.mark.parametrize("fun", [train_python, train_fori, train_scan],
                         ids=["python_for", "fori_loop", "scan"])
def test_hypergradient_under_jit_and_vmap(fun):
    g = frechet.grad(fun)
    lrs = np.array([0.05, 0.1])
    expected = [g(lr, P_INIT) for lr in lrs]
    np.testing.assert_allclose(frechet.jit(g)(0.05, P_INIT), expected[0], rtol=1e-10)
    np.testing.assert_allclose(frechet.jit(g)(0.1, P_INIT), expected[1], rtol=1e-10)
    np.testing.assert_allclose(frechet.vmap(g, in_axes=(0, None))(lrs, P_INIT), expected,
                               rtol=1e-10)


@pytest.mark.parametrize("make", [
    optim.adam,
    lambda lr: optim.adagrad(lr, initial_accumulator_value=0.0, eps=0.0),
    lambda lr: optim.chain(optim.clip_by_global_norm(1.0), optim.sgd(lr)),
], ids=["adam", "adagrad", "clip"])
def test_exactly_zero_gradients_give_finite_derivatives(make):
    # w[1] never gets a gradient: Adam's sqrt(v) and the norms sit at their kink at 0.
    def train(lr, w0):
        opt = make(lr)
        w, s = w0, opt.init(w0)
        loss = lambda w: (w[0] - 2.0) ** 2 + 0.0 * w[1]
        for _ in range(3):
            u, s = opt.update(frechet.grad(loss)(w), s, w)
            w = optim.apply_updates(w, u)
        return loss(w) + np.sum(w)
    w0 = np.array([1.0, 0.0])
    dlr, dw = frechet.grad(train, argnums=(0, 1))(0.1, w0)
    h = 1e-6
    np.testing.assert_allclose(dlr, (train(0.1 + h, w0) - train(0.1 - h, w0)) / (2 * h),
                               rtol=1e-5)
    np.testing.assert_allclose(dw[1], 1.0)
    assert np.isfinite(dw[0])


def test_clip_of_an_all_zero_gradient_is_differentiable():
    clip = optim.clip_by_global_norm(1.0)
    d = frechet.grad(lambda x: np.sum(clip.update({"a": 0.0 * x}, ())[0]["a"]))(np.ones(2))
    np.testing.assert_array_equal(d, [0.0, 0.0])
    np.testing.assert_array_equal(frechet.grad(optim.global_norm)(np.zeros(3)), np.zeros(3))


def test_lbfgs_update_is_a_pure_function_of_its_state():
    opt, x = optim.lbfgs(memory_size=2), {"x": np.array(-1.2), "y": 1.0}
    state = opt.init(x)
    for _ in range(3):
        u, state = opt.update(frechet.grad(rosenbrock)(x), state, x, value_fn=rosenbrock)
        x = optim.apply_updates(x, u)
    g = frechet.grad(rosenbrock)(x)
    u1, s1 = opt.update(g, state, x, value_fn=rosenbrock)
    u2, s2 = opt.update(g, state, x, value_fn=rosenbrock)
    assert u1 == u2 and np.array_equal(s1.rho, s2.rho)
    assert np.count_nonzero(s1.rho) == 2 and not np.array_equal(s1.rho, state.rho)


def test_fit_uses_tqdm_when_installed(monkeypatch):
    import types
    events = []

    class FakeBar:
        def __init__(self, total, desc):
            events.append(("init", total, desc))
        def set_postfix(self, **kw):
            events.append(("postfix", kw["loss"]))
        def update(self, n):
            events.append(("update", n))
        def close(self):
            events.append(("close",))

    auto = types.ModuleType("tqdm.auto")
    auto.tqdm = FakeBar
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    _, hist = optim.fit(lambda w: np.sum(w ** 2), np.ones(2), optim.sgd(0.25), 2)
    assert events == [("init", 2, "fit"), ("postfix", "2"), ("update", 1),
                      ("postfix", f"{hist[1]:.6g}"), ("update", 1), ("close",)]


def test_sgd_nesterov_without_momentum_is_an_error():
    with pytest.raises(ValueError, match="pass momentum=... to sgd to use nesterov=True"):
        optim.sgd(0.1, nesterov=True)
