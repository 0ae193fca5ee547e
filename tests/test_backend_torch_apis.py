"""frechet's public libraries on float64 PyTorch CPU tensors that refuse conversion to NumPy
(NoHost): each API's values and derivatives on tensors against the same code on NumPy arrays,
results torch tensors of the input's dtype (docs/backends.md, "Libraries on other arrays")."""

import copy

import numpy as np
import pytest
from test_multilevel import Quad

import frechet as fr
from frechet import decision, optim
from frechet.multilevel import Engine, FiniteDifference, Implicit, Neumann, Problem, Unroll

torch = pytest.importorskip("torch")
from nohost import NoHost, nohost


def _torch(a):
    return nohost(a, np.float64)


def _numpy(a):
    return np.array(a, dtype=np.float64, copy=True)


def _close(got, want, tol=1e-10):
    """got: torch tensors of float64 (a pytree like want's NumPy arrays)."""
    if isinstance(want, dict):
        for k in want:
            _close(got[k], want[k], tol)
        return
    if isinstance(want, (tuple, list)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _close(g, w, tol)
        return
    assert isinstance(got, torch.Tensor), f"a {type(got).__name__} came back"
    assert got.dtype == torch.float64
    np.testing.assert_allclose(got.detach().as_subclass(torch.Tensor).numpy(), want,
                               rtol=tol, atol=tol)


def _same(fn, tol=1e-10):
    """fn(convert) on NoHost tensors against fn(convert) on NumPy arrays."""
    _close(fn(_torch), fn(_numpy), tol)


X0 = np.array([0.3, -0.7, 1.1])


def f(x):
    return np.sum(np.sin(x) * x)


# ---- loop primitives under jit(grad) ------------------------------------------------------

def _while(x):
    return fr.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, np.sin(c[1]) * 1.1),
                         (0, x))[1].sum()


def _fori(x):
    return fr.fori_loop(0, 3, lambda i, c: np.sin(c) * 1.1, x).sum()


def _scan(x):
    carry, ys = fr.scan(lambda c, a: (c * np.cos(a), np.sum(c)), x, x)
    return carry.sum() + np.sum(ys ** 2)


def _cond(x):
    return fr.cond(np.sum(x) > 0, lambda y: np.sin(y), lambda y: np.cos(y), x).sum()


def _switch(x):
    return fr.switch(1, [lambda y: np.sin(y), lambda y: np.cos(y) * y], x).sum()


LOOPS = {"while_loop": _while, "fori_loop": _fori, "scan": _scan, "cond": _cond,
         "switch": _switch}


@pytest.mark.parametrize("name", LOOPS)
def test_jit_grad_of_loop_on_torch(name):
    g = fr.jit(fr.grad(LOOPS[name]))
    want = fr.grad(LOOPS[name])(X0)
    for _ in range(2):      # the tracing call, then the generated code replayed
        _close(g(_torch(X0)), want)
    # against central differences too (an independent reference)
    e = 1e-6 * np.eye(3)
    fd = [(LOOPS[name](X0 + d) - LOOPS[name](X0 - d)) / 2e-6 for d in e]
    np.testing.assert_allclose(want, fd, rtol=1e-6, atol=1e-8)


def test_while_loop_tape_grows_on_torch():
    # 40 iterations: the tape's buffers (8 rows first) double three times, on torch
    def loop(x):
        return fr.while_loop(lambda c: c[0] < 40, lambda c: (c[0] + 1, np.sin(c[1]) + 0.5),
                             (0, x))[1].sum()
    _same(lambda t: fr.jit(fr.grad(loop))(t(X0)))


def _checkpointed_scan(x):
    # a checkpointed block in a loop body: one checkpoint_call equation, recomputed in reverse
    def body(c, a):
        c = fr.checkpoint(lambda u, a: np.sin(u) * a)(c, a)
        return c, np.sum(c)
    c, ys = fr.scan(body, x, x)
    return np.sum(c) + np.sum(ys)


@pytest.mark.parametrize("name", ["checkpoint", "remat_jit", "in_scan_jit"])
def test_checkpoint_on_torch(name):
    if name == "checkpoint":
        _same(lambda t: fr.grad(fr.checkpoint(f))(t(X0)))
    elif name == "remat_jit":
        _same(lambda t: fr.jit(fr.grad(fr.remat(f)))(t(X0)))
    else:
        g = fr.jit(fr.grad(_checkpointed_scan))
        _same(lambda t: [g(t(X0)), g(t(X0))])


# ---- higher-order and Taylor-mode APIs -------------------------------------------------------

def test_hvp_hessian_on_torch():
    _same(lambda t: fr.hvp(f, (t(X0),), (t(X0 + 1),)))
    _same(lambda t: fr.hessian(f)(t(X0)))
    want = np.diag(2 * np.cos(X0) - X0 * np.sin(X0))      # the closed form
    np.testing.assert_allclose(fr.hessian(f)(X0), want, atol=1e-12)


def test_jet_taylor_derivatives_on_torch():
    _same(lambda t: fr.jet(np.sin, (t(X0),), ([t(X0), t(2 * X0)],)))
    _same(lambda t: fr.taylor(np.sin, t(X0), t(X0), 3))
    got = fr.derivatives(np.sin, _torch(X0), 3)
    _close(got, [np.sin(X0), np.cos(X0), -np.sin(X0), -np.cos(X0)])    # closed forms


def test_second_order_and_laplacian_on_torch():
    dirs = np.stack([X0, 2 * X0])
    _same(lambda t: fr.second_order(f, t(dirs), t(X0))(t(X0)))
    _same(lambda t: fr.laplacian(f)(t(X0)))
    _close(fr.laplacian(f)(_torch(X0)), np.sum(2 * np.cos(X0) - X0 * np.sin(X0)))


# ---- frechet.optim ------------------------------------------------------------------------

OPTIMISERS = {
    "sgd": lambda: optim.sgd(0.1, momentum=0.9),
    "adam": lambda: optim.adam(0.1),
    "adamw": lambda: optim.adamw(0.1),
    "rmsprop": lambda: optim.rmsprop(0.1, centered=True),
    "adagrad": lambda: optim.adagrad(0.1),
    "lion": lambda: optim.lion(0.1),
    "clipped": lambda: optim.chain(optim.clip_by_global_norm(0.5), optim.sgd(0.1)),
}


@pytest.mark.parametrize("name", OPTIMISERS)
def test_optimiser_loop_on_torch(name):
    def run(t):
        opt, w = OPTIMISERS[name](), t(X0)
        state = opt.init(w)
        for _ in range(4):
            u, state = opt.update(fr.grad(f)(w), state, w)
            w = optim.apply_updates(w, u)
        return w
    _same(run)


def test_lbfgs_on_torch():
    def run(t):
        opt, w = optim.lbfgs(), t(X0)
        state = opt.init(w)
        for _ in range(4):
            v, g = fr.value_and_grad(f)(w)
            u, state = opt.update(g, state, w, value=v, value_fn=f)
            w = optim.apply_updates(w, u)
        return w
    _same(run)


def test_grad_through_training_loop_on_torch():
    # d loss(w_5) / d lr through five Adam steps, differentiated on tensors
    def final_loss(lr, w):
        opt = optim.adam(lr)
        state = opt.init(w)
        for _ in range(5):
            u, state = opt.update(fr.grad(f)(w), state, w)
            w = optim.apply_updates(w, u)
        return f(w)
    _same(lambda t: fr.grad(final_loss, argnums=(0, 1))(t(0.1), t(X0)))


@pytest.mark.parametrize("kwargs", [{}, {"truncate": 3}, {"checkpoint_every": 2}], ids=repr)
def test_unroll_on_torch(kwargs):
    # the derivative of the loss after six momentum steps with respect to the learning rate
    # and the initial parameters, through optim.unroll (truncated or checkpointed)
    opt_of = (lambda lr: optim.sgd(lr, momentum=0.5))

    def final(lr, w0):
        def step(state, lr):
            w, s = state
            u, s = opt_of(lr).update(fr.grad(f)(w), s, w)
            return optim.apply_updates(w, u), s
        w, _ = optim.unroll(step, (w0, opt_of(lr).init(w0)), 6, args=(lr,), **kwargs)
        return f(w)
    _same(lambda t: fr.value_and_grad(final, argnums=(0, 1))(t(0.1), t(X0)))


def test_fit_on_torch():
    data = [np.array([1.0, 2.0, 0.5]), np.array([-1.0, 0.0, 3.0])]

    def run(t):
        loss = (lambda w, b: np.sum((w - b) ** 2) + f(w))
        w, history = optim.fit(loss, t(X0), optim.adam(0.05), 5, data=[t(b) for b in data],
                               progress=False)
        return w, history
    got, want = run(_torch), run(_numpy)
    _close(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)     # the history: NumPy floats


# ---- frechet.optimize and zero_order ------------------------------------------------------

def test_minimize_on_torch():
    def run(t):
        res = fr.optimize.minimize(lambda x: np.sum((x - 1.0) ** 2 * (1 + x ** 2)), t(X0),
                                   method="trust-ncg")
        return res.x
    _same(run, tol=1e-8)
    _close(run(_torch), np.ones(3), tol=1e-6)       # the minimiser


def test_zero_order_on_torch():
    from frechet.zero_order import zero_order_grad
    noise = np.random.default_rng(0).standard_normal((6, 3))
    _same(lambda t: zero_order_grad(f, 0.1, 6, "antithetic", noise=t(noise))(t(X0)))


# ---- frechet.multilevel: the three-level quadratic of tests/test_multilevel.py -------------

def _engine(losses, q, convert, mid, bottom):
    """The three problems with the losses of `losses` (q, or its copy on torch), starting from
    q's t0 and the lower levels' solution there, each converted by `convert`."""
    m, b = q.solution(q.t0)
    probs = [Problem("top", losses.top_loss, convert(q.t0), optim.sgd(0.1)),
             Problem("mid", losses.mid_loss, convert(m), optim.sgd(0.35), method=mid),
             Problem("bottom", losses.bottom_loss, convert(b), optim.sgd(0.35), method=bottom)]
    return Engine(probs, upper_to_lower={"top": ["mid", "bottom"], "mid": ["bottom"]},
                  lower_to_upper={"mid": ["top"], "bottom": ["mid", "top"]})


def _on_torch(q):
    qt = copy.copy(q)       # the problem's data as tensors too: the same program on torch
    for k, v in vars(q).items():
        if isinstance(v, np.ndarray):
            setattr(qt, k, _torch(v))
    return qt


@pytest.mark.parametrize("methods", [(Unroll(5), Unroll(5)), (FiniteDifference(), Unroll(3)),
                                     (Implicit(), Implicit()), (Neumann(60, alpha=0.35), Unroll(3))],
                         ids=repr)
def test_multilevel_on_torch(methods):
    q = Quad(seed=0)
    et, en = _engine(_on_torch(q), q, _torch, *methods), _engine(q, q, _numpy, *methods)
    _close(et.hypergradient("top"), en.hypergradient("top"), tol=1e-9)
    ht, hn = et.run(2, progress=False), en.run(2, progress=False)
    _close(et.params, en.params, tol=1e-9)
    for k in hn:
        np.testing.assert_allclose(ht[k], hn[k], rtol=1e-9)


# ---- frechet.decision ---------------------------------------------------------------------

COSTS = np.array([[0.3, -0.2, 0.5, 0.1], [0.1, 0.2, -0.3, 0.4]])


def test_decision_oracle_and_spo_plus_on_torch():
    oracle = decision.Argmax()

    def run(t):
        sols, objs = oracle.solve(t(COSTS))
        g = fr.grad(lambda c: decision.spo_plus(c, t(COSTS), sols, objs, oracle).sum())(
            t(0.5 * COSTS))
        return sols, objs, g
    _same(run)
    _, objs = oracle.solve(_torch(COSTS))
    _close(objs, COSTS.max(axis=1))                         # brute force: the best entry


ORACLES = {
    "shortest_path": lambda: (decision.ShortestPath((2, 3)), 7),
    "knapsack": lambda: (decision.Knapsack([[1.0, 2.0, 1.5, 1.0]], 3.0), 4),
    # scipy.optimize.linprog (HiGHS): a simplex {w >= 0, sum w = 1}
    "linear_program": lambda: (decision.LinearProgram(4, A_eq=np.ones((1, 4)), b_eq=[1.0]), 4),
}


@pytest.mark.parametrize("name", ORACLES)
def test_decision_solvers_and_layers_on_torch(name):
    # the NumPy/SciPy solvers run on an explicit host copy; the layers' gradients on torch
    oracle, d = ORACLES[name]()
    costs = np.random.default_rng(1).uniform(0.1, 1.0, (2, d))
    upstream = np.random.default_rng(2).standard_normal((2, d))

    def run(t):
        sols, objs = oracle.solve(t(costs))
        layers = [decision.dbb(oracle, lam=5.0), decision.nid(oracle)]
        gs = [fr.grad(lambda c, f=f: np.sum(f(c) * t(upstream)))(t(costs)) for f in layers]
        regret = fr.grad(lambda c: decision.regret(c, t(costs), objs, oracle).sum()
                         + decision.spo_plus(c, t(costs), sols, objs, oracle).sum())(t(costs))
        return [sols, objs, regret, *gs]
    _same(run)


POOL_LOSSES = {
    "nce": lambda c, t, sol, pool: decision.nce(c, sol, pool),
    "cmap": lambda c, t, sol, pool: decision.cmap(c, sol, pool),
    "pointwise_ltr": lambda c, t, sol, pool: decision.pointwise_ltr(c, t, pool),
    "pairwise_ltr": lambda c, t, sol, pool: decision.pairwise_ltr(c, t, pool),
    "listwise_ltr": lambda c, t, sol, pool: decision.listwise_ltr(c, t, pool),
}


@pytest.mark.parametrize("name", POOL_LOSSES)
def test_decision_pool_losses_on_torch(name):
    # the pool lives on the host (the solver's arrays); the losses and gradients on torch
    oracle = decision.Knapsack([[1.0, 2.0, 1.5, 1.0]], 3.0)
    costs = np.random.default_rng(3).uniform(0.1, 1.0, (3, 4))

    def run(t):
        pool = decision.SolutionPool(oracle, solve_ratio=1.0)
        sols, _ = oracle.solve(t(costs))
        loss = POOL_LOSSES[name]
        value = loss(t(0.7 * costs), t(costs), sols, pool)
        grad = fr.grad(lambda c: loss(c, t(costs), sols, pool).sum())(t(0.7 * costs))
        return value, grad
    _same(run)


def test_decision_normalized_regret_on_torch():
    oracle = decision.Argmax()
    _, objs = oracle.solve(COSTS)
    _same(lambda t: decision.normalized_regret(t(-COSTS), t(COSTS), t(objs), oracle))


def test_decision_fit_on_torch():
    # PyEPO's loop: a linear cost model trained with SPO+ in shuffled minibatches
    rng = np.random.default_rng(4)
    oracle = decision.ShortestPath((2, 3))
    feats, W = rng.standard_normal((12, 3)), rng.standard_normal((3, 7))
    costs = np.abs(feats @ W) + 0.1
    sols, objs = oracle.solve(costs)

    def loss(w, x, c, s, z):
        return np.mean(decision.spo_plus(x @ w, c, s, z, oracle))

    def run(t):
        return decision.fit(loss, t(np.zeros((3, 7))), tuple(t(a) for a in (feats, costs, sols,
                            objs)), optim.adam(0.05), epochs=2, batch_size=5, seed=0,
                            progress=False)
    got, want = run(_torch), run(_numpy)
    _close(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10, atol=1e-12)


def test_decision_perturbed_raises_backend_error():
    # the noise is drawn by NumPy's generator: a BackendError naming the primitive
    layer = decision.perturbed(decision.Argmax(), num_samples=3, seed=0)
    sols, _ = decision.Argmax().solve(COSTS)
    with pytest.raises(fr.BackendError, match="decision.draw"):
        fr.grad(lambda c: layer(c).sum())(_torch(COSTS))
    with pytest.raises(fr.BackendError, match="decision.draw"):
        fr.grad(lambda c: decision.fenchel_young(c, _torch(sols), layer).sum())(_torch(COSTS))
    imle = decision.imle(decision.Argmax(), num_samples=3, seed=0)
    with pytest.raises(fr.BackendError, match="decision.draw"):
        fr.grad(lambda c: imle(c).sum())(_torch(COSTS))


def test_jit_returns_a_tensor_it_closes_over():
    """An output that does not depend on the inputs is a concrete tensor: jit returns it as a
    tensor (checked by its dtype, not by a copy to NumPy), traced and replayed."""
    def run(convert):
        w = convert([2.0, 3.0, -1.0])
        g = fr.jit(fr.grad(lambda x: np.sum(w * x)))
        return [g(convert(X0)), g(convert(2.0 * X0))]
    _same(run)


def test_apply_updates_keeps_a_tensors_dtype():
    """A float32 parameter stays float32 after a float64 update, as a NumPy one does; a
    float64 one is the sum itself."""
    p32, p64 = nohost(X0, np.float32), _torch(X0)
    out32 = optim.apply_updates(p32, _torch(X0))
    assert type(out32) is NoHost and out32.dtype == torch.float32
    np.testing.assert_array_equal(out32.as_subclass(torch.Tensor).numpy(),
                                  optim.apply_updates(X0.astype(np.float32), X0))
    _close(optim.apply_updates(p64, _torch(2.0 * X0)), 3.0 * X0, tol=0)
