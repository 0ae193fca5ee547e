"""The array tape against the generic path (continued from test_array_tape.py, whose helpers
these tests use): derivatives kept for later, every API, control flow, custom rules, threads,
escaped tracers, edge values and warnings, and a random program generator."""

import contextvars
import pickle
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
import pytest
from test_array_tape import (
    V,
    W,
    X,
    _copyto_fill,
    _loop_assign,
    _write_then_use_view,
    assert_bitwise,
    both,
    check,
    same_outcome,
    tape,
)
from test_scalar_tape import _cj, _cv, assert_close, central, outcome

import frechet as fr
from frechet import implicit, optim

# ---- derivatives kept for later: the caller's writes must not reach them ----------------------

def test_vjp_pullback_ignores_later_writes():
    for on in (True, False):
        x, c = X.copy(), np.linspace(1, 2, 40).reshape(4, 10)
        with tape(on):
            f = partial(lambda c, x: np.exp(x) * x + x @ W @ W.T + x * c, c)
            y, pull = fr.vjp(f, x)
            g = np.linspace(0, 1, 40).reshape(4, 10)
            before = pull(g)
            x[...] = 7.0
            y[...] = -1.0
            g[...] = 0.0
            c[...] = 0.0
            after = pull(np.linspace(0, 1, 40).reshape(4, 10))
        assert_bitwise(before, after)
        gg = np.linspace(0, 1, 40).reshape(4, 10)
        ref = gg * (np.exp(X) * X + np.exp(X) + np.linspace(1, 2, 40).reshape(4, 10)) \
            + gg @ (W @ W.T).T
        np.testing.assert_allclose(after[0], ref, rtol=1e-13)


def test_linearize_map_ignores_later_writes():
    v = np.linspace(-1, 1, 40).reshape(4, 10)
    for on in (True, False):
        x, c = X.copy(), W.copy()
        with tape(on):
            y, L = fr.linearize(partial(lambda c, x: np.sin(x) * x @ c, c), x)
            before = L(v), L.T(np.ones((4, 3)))
            x[...] = 0.0
            c[...] = 0.0
            y[...] = 0.0
            after = L(v), L.T(np.ones((4, 3)))
        assert_bitwise(before, after)
        np.testing.assert_allclose(after[0], (np.cos(X) * X + np.sin(X)) * v @ W, rtol=1e-13)


def test_pullback_results_are_independent():
    _, pull = fr.vjp(lambda x: x * 2.0 + np.sin(x), X)
    g1 = pull(np.ones((4, 10)))[0]
    g1[...] = 0.0
    g2 = pull(np.ones((4, 10)))[0]
    np.testing.assert_allclose(g2, 2.0 + np.cos(X), rtol=1e-15)


# ---- every API -------------------------------------------------------------------------------

def f_scalar(x):
    h = np.tanh(x @ W)
    return np.sum(h * h) + np.sum(np.sin(x) * x)


def f_array(x):
    return np.tanh(x @ W) * x[:, :3] + np.exp(x[:, 3:6] * 0.1)


def _linearize_all():
    y, L = fr.linearize(f_array, X)
    v = np.linspace(0, 1, 40).reshape(4, 10)
    return y, L(v), L.T(np.ones((4, 3))), fr.jit(L)(v), fr.vmap(L)(np.stack([v, 2 * v]))


def _vjp_several():
    out, pull = fr.vjp(lambda x: (x * 2.0, np.sum(np.sin(x)), x @ W), X)
    return out, pull((np.ones((4, 10)), 1.0, np.ones((4, 3)))), \
        pull((np.zeros((4, 10)), 0.0, np.ones((4, 3))))


X3 = X[:, :3].copy()
U = np.linspace(-1, 1, 12).reshape(4, 3)
VT = np.linspace(0, 1, 40).reshape(4, 10)


def _called_again(pull):
    return pull(U), pull(2 * U), pull(U)


def _linear_map_algebra(L):
    op = L.as_operator()
    return ((L.T @ L)(VT), (L + L * 2.0)(VT), (-L).T(U), L.H(U), L.to_dense(),
            op.matvec(VT.ravel()), op.rmatvec(U.ravel()))


API = {
    "grad": lambda: fr.grad(f_scalar)(X),
    "vjp_several_outputs": _vjp_several,
    "linearize": _linearize_all,
    "jacrev": lambda: fr.jacrev(f_array)(X),
    "jacfwd": lambda: fr.jacfwd(f_array)(X),
    "hessian": lambda: fr.hessian(lambda x: np.sum(np.tanh(x @ x.T) * x[:, :3].sum()))(X3),
    "grad_grad": lambda: fr.grad(lambda x: np.sum(fr.grad(f_scalar)(x) * x))(X),
    "jvp_grad": lambda: fr.jvp(fr.grad(f_scalar), (X,), (np.ones((4, 10)),)),
    "vmap_grad": lambda: fr.vmap(fr.grad(f_scalar))(np.stack([X, X + 0.1])),
    "jit_grad": lambda: fr.jit(fr.grad(f_scalar))(X),
    "has_aux": lambda: fr.value_and_grad(lambda x: (f_scalar(x), x * 2.0), has_aux=True)(X),
    "hvp": lambda: fr.hvp(f_scalar, (X,), (np.ones((4, 10)),)),
    "jacfwd_jacrev": lambda: fr.jacfwd(fr.jacrev(lambda x: np.sum(np.sin(x @ x.T), 0)))(X3),
    "vmap_vjp": lambda: fr.vmap(fr.vjp(f_array, X)[1])(np.ones((2, 4, 3))),
    "grad_of_linear_map": lambda: fr.grad(lambda v: np.sum(fr.linearize(f_array, X)[1](v)))(X),
    "linear_transpose": lambda: fr.linear_transpose(fr.linearize(f_array, X)[1], X)(
        np.ones((4, 3))),
    "linear_map_algebra": lambda: _linear_map_algebra(fr.linearize(f_array, X)[1]),
    "jvp_of_transpose": lambda: fr.jvp(fr.linearize(f_array, X)[1].T, (U,), (2 * U,)),
    "vmap_jit_transpose": lambda: fr.vmap(fr.jit(fr.linearize(f_array, X)[1].T))(
        np.stack([U, 2 * U])),
    "pullback_called_again": lambda: _called_again(fr.vjp(f_array, X)[1]),
    "jacrev_of_vjp": lambda: fr.jacrev(lambda x: fr.vjp(f_array, x)[1](U)[0])(X),
    "linearize_of_linearize": lambda: fr.linearize(
        lambda x: fr.linearize(f_array, x)[1](VT), X)[1](VT),
    "vmap_of_linearize": lambda: fr.vmap(lambda x: fr.linearize(f_array, x)[1](VT))(
        np.stack([X, 2 * X])),
    "vmap_linear_map_axis_2": lambda: fr.vmap(fr.linearize(f_array, X)[1], in_axes=2)(
        np.linspace(0, 1, 200).reshape(4, 10, 5)),
    "vmap_transpose_axes": lambda: fr.vmap(fr.linearize(f_array, X)[1].T, in_axes=1,
                                           out_axes=2)(np.linspace(0, 1, 60).reshape(4, 5, 3)),
    "vmap_grad_axis_2": lambda: fr.vmap(fr.grad(f_scalar), in_axes=2)(np.stack([X, 2 * X], 2)),
    "hessian_of_writes": lambda: fr.hessian(lambda x: _loop_assign(x) + _copyto_fill(x))(X),
    "jacrev_of_views": lambda: fr.jacrev(lambda x: _write_then_use_view(x) * x)(X),
    "jacrev_argnums": lambda: fr.jacrev(lambda x, c: f_array(x) * c, argnums=(0, 1))(X, U),
    "hessian_argnums": lambda: fr.hessian(lambda x, c: np.sum(np.sin(x @ c) * x), argnums=(0, 1))(
        X3, U[:3]),
}


@pytest.mark.parametrize("name", API)
def test_api(name):
    on, off = both(API[name])
    assert_close(on, off)


ARRAY_VALUED = {
    "broadcast_4x1_1x10": lambda x: np.sin(x[:, :1] * 2.0) * x[1:2, :] - x[:1] + 0.5,
    "leading_axes": lambda x: np.cos(x * np.linspace(0, 1, 8).reshape(2, 1, 4) + x[:, :1]),
    "matmuls": lambda x: np.tanh(x.T @ x) @ x.T + V[:4, :4] @ x.T,
    "constants": lambda x: (x * np.arange(4) + 1 - x * True) * np.float32(0.5) - x[0],
}
X44 = X[:, :4].copy()


@pytest.mark.parametrize("name", ARRAY_VALUED)
def test_jacobians_of_broadcasting_programs(name):
    f = ARRAY_VALUED[name]
    (r_on, f_on), (r_off, f_off) = both(lambda: (fr.jacrev(f)(X44), fr.jacfwd(f)(X44)))
    assert_close(r_on, r_off)
    assert_close(f_on, f_off)
    assert_close(r_on, f_on)
    y, L = fr.linearize(f, X44)
    assert_bitwise(y, f(X44))
    e = np.zeros_like(X44)
    e[1, 2] = 1.0
    np.testing.assert_allclose(L(e), (f(X44 + 1e-6 * e) - f(X44 - 1e-6 * e)) / 2e-6, rtol=1e-6,
                               atol=1e-8)
    np.testing.assert_allclose(fr.vmap(L.T)(np.ones((3,) + y.shape)),
                               np.broadcast_to(L.T(np.ones(y.shape)), (3,) + X44.shape),
                               rtol=1e-14)


def _vjp_outputs():
    out, pull = fr.vjp(lambda x: (np.sin(x), np.sin(x), x + 0.0, x - 0, x), X)
    return out, pull(tuple(k * np.ones((4, 10)) for k in range(1, 6)))


def test_vjp_with_repeated_and_pass_through_outputs():
    on, off = both(_vjp_outputs)
    assert_bitwise(on[0], off[0])
    assert_close(on[1], off[1])
    np.testing.assert_allclose(on[1][0], 3 * np.cos(X) + 12.0, rtol=1e-14)


def _grad_of_closure(x):
    y = np.sin(x) * 2.0
    g = fr.grad(lambda z: np.sum(np.tanh(z @ y.T) @ z))(x * x)
    return np.sum(g * y) + np.sum(g @ y.T)


def _three_levels(x):
    y = x * 1.0
    inner = lambda z: fr.grad(lambda w: np.sum(np.sin(w * z) * y))(z * 2.0)
    return np.sum(fr.grad(lambda z: np.sum(inner(z) * z))(y * y))


@pytest.mark.parametrize("f", [_grad_of_closure, _three_levels])
def test_nested_levels(f):
    check(f, nested=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64, bool])
def test_tangents_and_cotangents_of_other_dtypes(dtype):
    def f(x):
        return np.sin(x * np.arange(10)) * x + np.float32(0.1) * x - (x - 3) @ np.eye(10)
    v = (np.linspace(-1, 1, 40).reshape(4, 10) * 3).astype(dtype)
    on, off = both(lambda: (fr.linearize(f, X)[1](v), fr.vjp(f, X)[1](v)[0]))
    assert_close(on, off)
    assert on[0].dtype == on[1].dtype == np.float64


def test_linear_maps_kept_work_with_the_switch_turned():
    with tape(True):
        L = fr.linearize(f_array, X)[1]
        pull = fr.vjp(f_array, X)[1]
    with tape(False):
        ref = fr.linearize(f_array, X)[1]
        on = L(VT), L.T(U), pull(U)[0], fr.jit(L)(VT)
    assert_close(on, (ref(VT), ref.T(U), ref.T(U), ref(VT)))


def test_jacobian_against_closed_form():
    J = fr.jacrev(lambda x: np.tanh(x @ W))(X)
    h = 1 - np.tanh(X @ W) ** 2
    ref = np.zeros((4, 3, 4, 10))
    for i in range(4):
        ref[i, :, i, :] = h[i][:, None] * W.T
    np.testing.assert_allclose(J, ref, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(fr.jacfwd(lambda x: np.tanh(x @ W))(X), ref, rtol=1e-13,
                               atol=1e-15)


def test_hessian_against_closed_form():
    # f(x) = sum(sin(x) * x): diagonal Hessian 2 cos(x) - x sin(x)
    x = X[0]
    H = fr.hessian(lambda x: np.sum(np.sin(x) * x))(x)
    np.testing.assert_allclose(H, np.diag(2 * np.cos(x) - x * np.sin(x)), atol=1e-14)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickled_linear_map_with_array_tape(protocol):
    with tape(True):
        L = fr.linearize(f_array, X)[1]
    assert "array_tape" in str(L.program)
    with tape(False):
        ref = fr.linearize(f_array, X)[1]
    assert "array_tape" not in str(ref.program)
    ref = pickle.loads(pickle.dumps(ref, protocol=protocol))     # tape off: it pickles
    L2 = pickle.loads(pickle.dumps(L, protocol=protocol))
    v = np.linspace(0, 1, 40).reshape(4, 10)
    assert_close(L2(v), ref(v))
    assert_close(L2.T(np.ones((4, 3))), ref.T(np.ones((4, 3))))
    assert_close(fr.jit(L2)(v), ref(v))
    assert_close(L2.to_dense(), ref.to_dense())


# ---- control flow, custom rules, threads ---------------------------------------------------

def _fori(x):
    y = x * 1.0
    return np.sum(fr.fori_loop(0, 4, lambda i, c: np.tanh(c @ np.eye(10) * 0.5 + y), y))


def _scan(x):
    def step(c, xi):
        c = np.tanh(c * xi + c @ np.eye(10) * 0.3)
        return c, c * 2.0
    c, ys = fr.scan(step, x[0] * 1.0, x)
    return np.sum(c) + np.sum(ys * ys)


def _while(x):
    y = x * 0.5
    return np.sum(fr.while_loop(lambda c: c[1] < 3, lambda c: (np.sin(c[0]) * y + c[0], c[1] + 1),
                                (y, 0))[0])


def _cond(x):
    y = np.sin(x)
    return np.sum(fr.cond(np.sum(y) > 0, lambda a: a * y, lambda a: a - y, x * 2.0))


def test_stop_gradient():
    def f(x):
        y = np.sin(x) * 2.0
        return np.sum(fr.stop_gradient(y) * y + fr.stop_gradient(y * x) @ np.eye(10) * x)
    g = check(f, fd=False)
    y = np.sin(X) * 2.0
    np.testing.assert_allclose(g, y * 2 * np.cos(X) + y * X, rtol=1e-13)


def _in_threads(fns, context=True):
    """[fn() for fn in fns], each run in a thread pool (in a copy of the caller's context, where
    the transformation in progress is visible)."""
    with ThreadPoolExecutor(3) as pool:
        if not context:
            return [f.result() for f in [pool.submit(fn) for fn in fns]]
        futures = [pool.submit(contextvars.copy_context().run, fn) for fn in fns]
        return [f.result() for f in futures]


def _threads(x, context=True):
    y = np.sin(x) * x
    rows = _in_threads([partial(lambda i: np.tanh(y[i:i + 1] @ W) * 2.0 + y[i:i + 1, :3], i)
                        for i in range(4)], context)
    return sum(np.sum(r * r) for r in rows) + np.sum(y)


def _threads_whole_array(x, context=True):
    y = x * 2.0
    a, b = _in_threads([lambda: np.exp(y * 0.1) @ W, lambda: -y * y + y], context)
    return np.sum(a) + np.sum(b * y)


def _many_small_steps(y, i):
    r = y[i:i + 1]
    for _ in range(1500):
        r = r * 0.999 + 0.001
    return r


def _race(x):
    y = x * 1.0
    rows = _in_threads([partial(_many_small_steps, y, i) for i in range(16)])
    return sum(np.sum(r * (j + 1)) for j, r in enumerate(rows))


def test_threads_recording_at_once():
    x = np.random.default_rng(1).normal(size=(16, 2))
    ref = 0.999 ** 1500 * np.arange(1.0, 17.0)[:, None] * np.ones((16, 2))
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-7)
    try:
        for _ in range(4):
            np.testing.assert_allclose(fr.grad(_race)(x), ref, rtol=1e-12)
    finally:
        sys.setswitchinterval(old)


def test_independent_gradients_in_threads():
    def f(x):
        r = x
        for _ in range(30):
            r = np.tanh(r * 0.9 + x * 0.1) @ np.eye(5)
        return np.sum(r)
    xs = [np.random.default_rng(i).normal(size=(3, 5)) for i in range(8)]
    with tape(False):
        ref = [fr.grad(f)(x) for x in xs]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(fr.grad(f), xs))
    assert_close(got, ref)


def test_many_segments():
    def f(x):
        y = x * 1.0
        for k in range(200):       # each generic reading (indexing) closes a stretch of tape
            y = np.sin(y) * 0.5 + x
            y = y[::-1] if k % 2 else y @ np.eye(10)
        return np.sum(y)
    check(f, fd=False)


@pytest.mark.parametrize("f", [_threads, _threads_whole_array])
def test_threads_without_context_fail_as_on_the_generic_path(f):
    res = same_outcome(lambda: fr.grad(partial(f, context=False))(X))
    assert res[0] == "error" and res[1] is fr.EscapedTracerError


def _jit_closure(x):
    y = np.sin(x) * 2.0
    return np.sum(fr.jit(lambda z: z * (y * 2.0) + np.tanh(y @ W) @ W.T)(x * x))


def _vmap_closure(x):
    y = np.sin(x) * 2.0
    return np.sum(fr.vmap(lambda r: r * (y[0] * 3.0) + y[1] - r @ np.ones((10, 10)))(y))


def _scan_closure(x):
    y = np.sin(x) * 2.0

    def body(c, r):
        c = np.tanh(c * (y[0] * 0.5) + r @ np.eye(10) - y[1])
        return c, c @ W
    c, ys = fr.scan(body, y[2] * 1.0, y)
    return np.sum(c) + np.sum(ys)


def _while_closure(x):
    y = x * 0.5
    body = lambda c: (np.tanh(c[0] @ np.eye(10) * y + y * 2.0), c[1] + 1)
    return np.sum(fr.while_loop(lambda c: c[1] < 3, body, (y * 1.0, 0))[0])


def _cond_closure(x):
    y = np.sin(x)
    return np.sum(fr.cond(np.sum(y) > 0, lambda a: a * (y * 2.0) @ np.eye(10),
                          lambda a: a - y * 3.0, x @ np.eye(10)))


def _switch(x):
    y = np.sin(x)
    return np.sum(fr.switch(1, [lambda a: a * y, lambda a: a @ np.eye(10) - y * y,
                                lambda a: -a], x * 2.0))


def _scalars_both_orders(x):
    s = x[0, 0] * 2.0
    t = np.sum(x * x)
    return np.sum(s * x - t + x * t + s - x / s + t * (x @ W).sum())


def _meta_learning(x):
    loss = lambda w: np.sum(np.tanh(w @ W) ** 2) + np.sum(w * x)
    opt = optim.adam(0.05)
    w = x * 0.5
    state = opt.init(w)
    for _ in range(4):
        u, state = opt.update(fr.grad(loss)(w), state, w)
        w = optim.apply_updates(w, u)
    return loss(w)


_root = implicit.custom_root(lambda sol, a: sol * sol - a)(lambda init, a: np.sqrt(a))


def _linalg(x):
    a = x[:, :4] @ x[:, :4].T + 4 * np.eye(4)
    return np.sum(np.linalg.solve(a, x)) + np.sum(np.linalg.inv(a) * a) + np.linalg.slogdet(a)[1]


CONTROL = {
    "meta_learning": _meta_learning,
    "unroll": lambda x: np.sum(optim.unroll(
        lambda w, a: w - 0.1 * (np.tanh(w @ np.eye(10)) - a), x * 0.0, 8, checkpoint_every=3,
        args=(x * 1.0,))),
    "custom_root": lambda x: np.sum(_root(np.ones((4, 10)), x * x + 1.0) * x),
    "linalg": _linalg,
    "jit_closure": _jit_closure,
    "vmap_closure": _vmap_closure,
    "scan_closure": _scan_closure,
    "while_closure": _while_closure,
    "cond_closure": _cond_closure,
    "switch": _switch,
    "remat": lambda x: np.sum(fr.remat(lambda a, y: np.tanh(a @ W) * (y * 2.0))(x * x, x[:, :3])),
    "scalars_both_orders": _scalars_both_orders,
    "custom_vjp_residuals": lambda x: np.sum(_cv(np.sin(x), np.sin(x) @ np.eye(10)) * x),
    "frechet_numpy": lambda x: fr.numpy.sum(fr.numpy.tanh(fr.numpy.sin(x) @ W))
    + fr.numpy.sum(fr.numpy.multiply(x, x)),
    "fori_loop": _fori,
    "scan": _scan,
    "while_loop": _while,
    "cond": _cond,
    "checkpoint": lambda x: np.sum(fr.checkpoint(lambda a, b: np.sin(a) * b @ W)(x * 1.0, x * x)),
    "custom_vjp": lambda x: np.sum(_cv(np.sin(x), x @ np.eye(10))),
    "custom_jvp": lambda x: np.sum(_cj(x * x) * x),
    "jit_inside": lambda x: np.sum(fr.jit(lambda y: np.tanh(y @ W) * 2.0)(x * x)),
    "vmap_inside": lambda x: np.sum(fr.vmap(lambda r: np.sin(r) * r)(x * 1.0)),
    "threads": _threads,
    "threads_whole_array": _threads_whole_array,
}


@pytest.mark.parametrize("name", CONTROL)
def test_control_flow_custom_rules_threads(name):
    check(CONTROL[name])


# ---- escaped tracers -------------------------------------------------------------------------

_ESCAPED: list = []


def _leak(x):
    y = np.sin(x) * 2.0
    _ESCAPED.append(y)
    return np.sum(y * x)


def _escaped():
    _ESCAPED.clear()
    fr.grad(_leak)(X)
    return _ESCAPED[0]


USES = {
    "mul": lambda s: s * 2.0,
    "radd": lambda s: 1 + s,
    "sin": np.sin,
    "neg": lambda s: -s,
    "matmul": lambda s: s @ W,
    "rmatmul": lambda s: V @ s,
    "with_itself": lambda s: s * s,
    "sum": np.sum,
    "in_later_grad": lambda s: fr.grad(lambda y: np.sum(y * s))(X),
    "matmul_in_later_grad": lambda s: fr.grad(lambda y: np.sum(y @ s.T))(X),
    "iadd": lambda s: s.__iadd__(1.0),
    "setitem": lambda s: s.__setitem__(0, 1.0),
}


@pytest.mark.parametrize("use", USES.values(), ids=USES.keys())
def test_escaped_array_raises(use):
    for on in (True, False):
        with tape(on):
            s = _escaped()
            with pytest.raises(fr.EscapedTracerError):
                use(s)


@pytest.mark.parametrize("use", [np.asarray, float, lambda s: s.tolist()])
def test_escaped_array_conversions_as_on_the_generic_path(use):
    res = same_outcome(lambda: use(_escaped()))
    assert res[0] == "error" and issubclass(res[1], fr.FrechetError)


# ---- edge values and warnings ----------------------------------------------------------------

Z = np.array([[0.0, -1.0, 1000.0, np.nan, np.inf, 1e308, 1.0, -np.inf]])

EDGES = {
    "log0": lambda z: np.log(z),
    "sqrt_negative": lambda z: np.sqrt(z),
    "reciprocal0": lambda z: np.reciprocal(z),
    "exp_overflow": lambda z: np.exp(z),
    "sin_inf": lambda z: np.sin(z),
    "tanh": lambda z: np.tanh(z),
    "log1p": lambda z: np.log1p(z),
    "over_zero": lambda z: z / z[:, :1],
    "inf_minus_inf": lambda z: z - z,
    "inf_times_zero": lambda z: z * z[:, :1],
    "overflow_mul": lambda z: z * 10.0,
    "overflow_add": lambda z: z + z,
    "matmul_nan": lambda z: z @ np.ones((8, 2)),
    "rmatmul_inf": lambda z: np.ones((2, 1)) @ z,
    "square_overflow": lambda z: np.square(z),
    "nan_constant": lambda z: z * np.array([np.nan] * 8),
    "inf_constant": lambda z: z + np.inf,
}


@pytest.mark.parametrize("filters", ["always", "error"])
@pytest.mark.parametrize("name", EDGES)
def test_edge_values(name, filters):
    f = EDGES[name]
    res = same_outcome(lambda: fr.value_and_grad(lambda z: np.sum(f(z) * 1.0))(Z), filters,
                       bitwise=True)
    if res[0] == "ok":
        with np.errstate(all="ignore"):
            assert_bitwise(res[1][0], np.sum(f(Z) * 1.0))


@pytest.mark.parametrize("filters", ["always", "error"])
@pytest.mark.parametrize("name", EDGES)
def test_edge_values_of_linearize(name, filters):
    f = EDGES[name]
    def run():
        y, L = fr.linearize(f, Z)
        return y, L(np.ones((1, 8)))
    res = same_outcome(run, filters, bitwise=True)
    if res[0] == "ok":
        with np.errstate(all="ignore"):
            assert_bitwise(res[1][0], f(Z))


@pytest.mark.parametrize("name", EDGES)
def test_edge_values_under_errstate_raise(name):
    def run():
        with np.errstate(all="raise"):
            return fr.value_and_grad(lambda z: np.sum(EDGES[name](z) * 1.0))(Z)
    same_outcome(run, bitwise=True)


# finite values whose derivative overflows or is a denormal's reciprocal. The tape computes
# some derivatives with np.square where the generic path multiplies: the same warning class
# and count, another message ("overflow encountered in square" / "in multiply")
D = np.array([[5e-324, 1e-310, 1e-200, 1e300, -0.0, 0.0, -1e-300]])
TINY_AND_HUGE = {
    "log": np.log, "sqrt": np.sqrt, "reciprocal": np.reciprocal, "square": np.square,
    "tanh": np.tanh, "sin": np.sin, "arctan": np.arctan, "exp": np.exp, "log1p": np.log1p,
    "sinh": np.sinh, "cosh": np.cosh, "tan": np.tan, "expm1": np.expm1,
    "mul": lambda z: z * 1e10, "matmul": lambda z: z.T @ (z * 1e10),
}


def _same_linearization(f, z, filters):
    """f's value, linear map, transpose and gradient at z: the same, bit for bit, with the
    tape on and off (or the same error); the value is f's own."""
    def run():
        y, L = fr.linearize(f, z)
        return y, L(np.ones_like(z)), L.T(np.ones_like(y)), fr.grad(lambda z: np.sum(f(z)))(z)
    res = same_outcome(run, filters, bitwise=True, messages=False)
    if res[0] == "ok":
        with np.errstate(all="ignore"):
            assert_bitwise(res[1][0], f(z))


@pytest.mark.parametrize("filters", ["always", "error"])
@pytest.mark.parametrize("name", TINY_AND_HUGE)
def test_tiny_and_huge_values(name, filters):
    _same_linearization(TINY_AND_HUGE[name], D, filters)


def _warns_in_a_loop(z):
    s = 0.0
    for k in range(3):
        s = s + np.sum(np.log(z * (k + 1.0)) * 1.0) + np.sum(np.sqrt(z) * 1.0)
    return s + np.sum(np.exp(z * 1000.0) * 0.0)


@pytest.mark.parametrize("filters", ["once", "module", "default"])
def test_warnings_under_deduplicating_filters(filters):
    # "default" counts once per line, and the tape's derivatives warn from other lines than
    # the generic path's: there, only the set of warnings is the same
    z = np.array([[0.0, 1.0, -1.0]])
    if filters == "default":
        with tape(True):
            won = outcome(lambda: fr.value_and_grad(_warns_in_a_loop)(z), filters)[1]
        with tape(False):
            woff = outcome(lambda: fr.value_and_grad(_warns_in_a_loop)(z), filters)[1]
        assert set(won) == set(woff)
    else:
        same_outcome(lambda: fr.value_and_grad(_warns_in_a_loop)(z), filters, bitwise=True)


# every smooth unary ufunc, on its domain (a map into it) and at its singular points
SMOOTH = {name: (lambda x: x * 1.0) for name in [
    "sin", "cos", "tan", "arctan", "arcsinh", "sinh", "cosh", "tanh", "exp", "exp2", "expm1",
    "cbrt", "square", "fabs"]}
SMOOTH.update({name: (lambda x: np.tanh(x) * 0.9) for name in ["arcsin", "arccos", "arctanh"]})
SMOOTH.update({name: (lambda x: 1.5 + x * x) for name in [
    "arccosh", "log", "log2", "log10", "log1p", "sqrt", "reciprocal"]})
SINGULAR = np.array([[0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-310, 1e300, 2.0]])


@pytest.mark.parametrize("name", SMOOTH)
def test_smooth_unary_ufuncs(name):
    u, into = getattr(np, name), SMOOTH[name]
    check(lambda x: np.sum(u(into(x)) * x), fd=name != "fabs")


@pytest.mark.parametrize("filters", ["always", "error"])
@pytest.mark.parametrize("name", SMOOTH)
def test_smooth_unary_ufuncs_at_singular_points(name, filters):
    _same_linearization(getattr(np, name), SINGULAR, filters)


def _zero_factors(x):
    return np.abs(x) * x[:, :1] + (x * 0.0 + x[:, 1:2]) * x + np.sin(x) @ np.zeros((3, 3))


NON_FINITE = {
    "forward": lambda L: L(np.array([[np.inf, 1.0, 1.0]])),
    "transpose": lambda L: L.T(np.array([[np.inf, 1.0, np.nan]])),
    "jit_forward": lambda L: fr.jit(L)(np.array([[np.inf, 1.0, 1.0]])),
    "vmap_transpose": lambda L: fr.vmap(L.T)(np.array([[[np.inf, 1.0, 1.0]]])),
}


@pytest.mark.parametrize("filters", ["always", "error"])
@pytest.mark.parametrize("name", NON_FINITE)
def test_non_finite_tangents_warn_as_on_the_generic_path(name, filters):
    # inf times a zero factor: nan, with NumPy's warning (the sweeps run on arrays)
    x = np.array([[0.0, -1.3, 2.0]])
    same_outcome(lambda: NON_FINITE[name](fr.linearize(_zero_factors, x)[1]), filters,
                 bitwise=True)


def test_nan_inputs_give_nan_gradients_as_on_the_generic_path():
    x = X.copy()
    x[1, 2] = np.nan
    on, off = both(lambda: fr.value_and_grad(f_scalar)(x))
    assert_bitwise(on, off)
    assert np.isnan(on[0]) and np.isnan(on[1][1]).any()


# ---- a random program generator ---------------------------------------------------------------

UNARY_OPS = [
    lambda a: -a, np.sin, np.cos, np.tanh, np.arctan, lambda a: np.exp(np.tanh(a)),
    lambda a: np.log(1.0 + a * a), lambda a: np.sqrt(1.0 + a * a), np.square,
    lambda a: np.log1p(a * a), lambda a: np.reciprocal(2.0 + np.cos(a)),
]
BINARY_OPS = [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
    lambda a, b: np.add(b, a), lambda a, b: np.multiply(a, b), lambda a, b: a / (1.0 + b * b),
]
INPLACE_OPS = ["+=", "-=", "*="]


def _constant(rng, shapes):
    kind = int(rng.integers(9))
    if kind < 4:
        value = rng.normal(size=shapes[int(rng.integers(len(shapes)))])
        dtype = (np.float64, np.float32, np.int64, bool)[kind]
        return (value > 0) if dtype is bool else (value * 3).astype(dtype)
    return (2, 0.5, np.float64(1.25), np.float32(-0.75), True)[kind - 4]


def random_program(seed, n_ops=12, side=7):
    """A seeded list of steps over a list of traced arrays of shapes (m, n), (m, 1), (1, n),
    (1, 1), with constants of those shapes or (n,): ('u', op, i) | ('b', op, i, j) | ('c', op, i, const, first) | ('@', i, j) |
    ('m', i, const, first) | ('r', axis, i) | ('w', op, i, j) (in-place, result kept) |
    ('v', i, j, rows) (a write through a view) | ('e', i) (a view read after a write)."""
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(1, side)), int(rng.integers(1, side))
    shapes = [(m, n), (m, 1), (1, n), (n,)]
    steps = []
    for k in range(n_ops):
        count = 2 + k
        i, j = int(rng.integers(count)), int(rng.integers(count))
        kind = int(rng.integers(9))
        if kind == 0:
            steps.append(("u", int(rng.integers(len(UNARY_OPS))), i))
        elif kind == 1:
            steps.append(("b", int(rng.integers(len(BINARY_OPS))), i, j))
        elif kind == 2:
            steps.append(("c", int(rng.integers(3)), i, _constant(rng, shapes),
                          bool(rng.integers(2))))
        elif kind == 3:
            steps.append(("@", i, j))
        elif kind == 4:
            steps.append(("m", i, rng.normal(size=(int(rng.integers(1, 5)),) * 2) / 2,
                          bool(rng.integers(2))))
        elif kind == 5:
            steps.append(("r", int(rng.integers(2)), i))
        elif kind == 6:
            steps.append(("w", int(rng.integers(len(INPLACE_OPS))), i, j))
        elif kind == 7:
            steps.append(("v", i, j, int(rng.integers(1, m + 1))))
        else:
            steps.append(("e", i))
    return (m, n), steps


def _as_2d(a, shape):
    """a (any of the program's shapes, or a reduction's) as a 2-d value of the full shape."""
    return a + np.zeros(shape) if np.shape(a) != shape else a


def _matmul_step(vals, i, j, shape):
    a, b = _as_2d(vals[i], shape), _as_2d(vals[j], shape)
    return np.tanh(a @ b.T) @ b * 0.5              # (m, m) @ (m, n): both traced


def _constant_matmul_step(vals, i, c, first, shape):
    a = _as_2d(vals[i], shape)
    k = c.shape[0]
    if first:                                      # (m, k) @ (k, m) @ a
        return np.ones((shape[0], k)) @ c @ np.ones((k, shape[0])) @ a * 0.1
    return a @ np.ones((shape[1], k)) @ c @ np.ones((k, shape[1])) * 0.1


def _write_step(vals, op, i, j):
    a = vals[i] * 1.0
    alias = a                              # the write goes through an alias
    b = vals[j]
    if np.broadcast_shapes(np.shape(a), np.shape(b)) != np.shape(a):
        b = np.sum(b)                      # an in-place operator cannot grow a
    if op == "+=":
        alias += b
    elif op == "-=":
        alias -= b
    else:
        alias *= np.tanh(b)
    return a


def _view_write_step(vals, i, j, rows, shape):
    a = _as_2d(vals[i], shape) * 1.0
    view = a[:rows]
    view[...] = np.sin(view) + 0.1 * np.sum(vals[j])
    return a


def _view_after_write_step(vals, i, shape):
    a = _as_2d(vals[i], shape) * 1.0
    first = a[:, :1]
    a += 1.0
    a[0] *= 0.5
    return first * a


def run_program(program, x, scalar=True):
    shape, steps = program
    vals = [x, np.sin(x[:, :1]) * x[:1]]
    for step in steps:
        kind = step[0]
        if kind == "u":
            vals.append(UNARY_OPS[step[1]](vals[step[2]]))
        elif kind == "b":
            vals.append(BINARY_OPS[step[1]](vals[step[2]], vals[step[3]]))
        elif kind == "c":
            _, op, i, c, first = step
            a, b = (c, vals[i]) if first else (vals[i], c)
            vals.append((a + b, a * b, a - b)[op])
        elif kind == "@":
            vals.append(_matmul_step(vals, step[1], step[2], shape))
        elif kind == "m":
            vals.append(_constant_matmul_step(vals, *step[1:], shape))
        elif kind == "r":
            vals.append(np.sum(vals[step[2]], axis=step[1], keepdims=True) * 0.3)
        elif kind == "w":
            vals.append(_write_step(vals, INPLACE_OPS[step[1]], step[2], step[3]))
        elif kind == "v":
            vals.append(_view_write_step(vals, *step[1:], shape))
        else:
            vals.append(_view_after_write_step(vals, step[1], shape))
        if kind in "bcwe" and np.max(np.abs(vals[-1])) > 4.0:    # keep values moderate
            vals[-1] = np.tanh(vals[-1]) * 2.0
    if not scalar:
        return vals[-1] * np.tanh(vals[-2]), vals[-3]
    return np.sum(vals[-1] * np.tanh(vals[-2])) + 0.5 * np.sum(vals[-3] if len(vals) > 2 else x)


def _linear_maps(f, x, seed):
    """A program's linear map on a random tangent, its transpose on a random cotangent."""
    y, L = fr.linearize(f, x)
    rng = np.random.default_rng(seed)
    return y, L(rng.normal(size=x.shape)), L.T(tuple(rng.normal(size=np.shape(o)) for o in y))


def _fuzz(seeds, **sizes):
    """Bitwise-equal values with the tape on, off and in NumPy; gradients to 1e-12."""
    for seed in seeds:
        program = random_program(seed, **sizes)
        x = np.random.default_rng(seed + 10_000).normal(size=program[0])
        f = partial(run_program, program)
        try:
            (v_on, g_on), (v_off, g_off) = both(partial(fr.value_and_grad(f), x))
            assert_bitwise(v_on, f(x))
            assert_bitwise(v_on, v_off)
            assert_close(g_on, g_off, rtol=1e-12)
            if seed % 4 == 0:                   # the whole linear map, both ways
                fv = partial(run_program, program, scalar=False)
                on, off = both(partial(_linear_maps, fv, x, seed))
                assert_bitwise(on[0], off[0])
                assert_close(on[1:], off[1:], rtol=1e-12)
        except AssertionError as e:
            raise AssertionError(f"seed {seed}: run_program({program!r}, {x!r})") from e


def test_random_array_programs():
    _fuzz(range(60))


@pytest.mark.slow
def test_random_array_programs_long():
    _fuzz(range(60, 1500))
    _fuzz(range(200), n_ops=30)
    _fuzz(range(40), side=80)          # some values above the size limit (m n > 4096)


@pytest.mark.parametrize("seed", range(4))
def test_random_programs_gradient_against_central_differences(seed):
    program = random_program(seed)
    x = np.random.default_rng(seed + 10_000).normal(size=program[0])
    f = partial(run_program, program)
    np.testing.assert_allclose(fr.grad(f)(x), central(f, x), rtol=1e-4, atol=1e-5)
