"""jit: every op record against eager, derivatives compiled, caching, guards, composition."""

import warnings

import numpy as np
import pytest
from op_records import RECORDS, traced_fn

import frechet as fr
from frechet._src import tree


def _leaves(x):
    return [np.asarray(v) for v in tree.flatten(x)[0]]


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_jit_matches_eager(name):
    r = RECORDS[name]
    fn = traced_fn(r)
    args = r.args(np.random.default_rng(4))
    f = fr.jit(fn)
    for _ in range(2):             # the traced call, then the compiled replay
        for g, e in zip(_leaves(f(*args)), _leaves(fn(*args))):
            np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-13)
    assert f.trace_count == 1


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_jit_of_grad_matches_eager_grad(name):
    r = RECORDS[name]
    fn = traced_fn(r)
    args = r.args(np.random.default_rng(5))

    def loss(*a):
        return sum(np.sum(np.real(v)) for v in tree.flatten(fn(*a))[0])
    g = fr.grad(loss, argnums=tuple(range(len(args))))
    jg = fr.jit(g)
    for _ in range(2):
        for a, b in zip(_leaves(jg(*args)), _leaves(g(*args))):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_cache_hits_and_misses():
    f = fr.jit(lambda x, y: np.sum(x * y))
    f(np.ones(3), 2.0)
    f(np.zeros(3), 5.0)
    assert f.trace_count == 1
    f(np.ones(4), 2.0)                     # a new shape
    f(np.ones(3, np.float32), 2.0)         # a new dtype
    assert f.trace_count == 3


def test_guards_retrace_when_a_branch_changes():
    def f(x):
        if np.sum(x) > 0:
            return x * 2.0
        return -x
    jf = fr.jit(f)
    for x in (np.ones(2), -np.ones(2), 3 * np.ones(2), -2 * np.ones(2)):
        np.testing.assert_allclose(jf(x), f(x))
    assert jf.trace_count == 2              # one trace per branch, then replays
    src = jf.lower(np.ones(2)).source
    assert "_GuardFailed" in src


def test_guard_on_an_integer_loop_bound_and_the_retrace_cap():
    def f(x, n):
        for _ in range(int(n)):
            x = np.sin(x)
        return x
    jf = fr.jit(f, max_traces=3)
    for n in (1, 2, 1, 2):
        np.testing.assert_allclose(jf(np.ones(2), np.array(n)), f(np.ones(2), n))
    assert jf.trace_count == 2
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for n in (3, 4, 5):
            np.testing.assert_allclose(jf(np.ones(2), np.array(n)), f(np.ones(2), n))
    assert any("running eagerly" in str(x.message) for x in w)


def test_static_arguments():
    f = fr.jit(lambda x, n, mode="sin": getattr(np, mode)(x) * n, static_argnums=1,
               static_argnames="mode")
    np.testing.assert_allclose(f(np.ones(2), 3), np.sin(1.0) * 3)
    np.testing.assert_allclose(f(np.ones(2), 4, mode="cos"), np.cos(1.0) * 4)
    np.testing.assert_allclose(f(np.ones(2), 3), np.sin(1.0) * 3)
    assert f.trace_count == 2


def test_simplified_program_and_source():
    f = fr.jit(lambda x: np.sin(x) * 2 + np.sin(x) * 2)
    prog = fr.make_program(f)(np.ones(3))
    assert sum(e.primitive.name == "sin" for e in prog.eqns) == 1
    low = f.lower(np.ones(3))
    assert low.source.startswith("def run(") and "sin" in low.source
    assert len(low.program.eqns) == len(prog.eqns)


def test_jit_composes_in_both_orders():
    f = lambda x: np.sum(np.tanh(x) ** 3)
    x = np.linspace(-1, 1, 4)
    np.testing.assert_allclose(fr.grad(fr.jit(f))(x), fr.grad(f)(x))
    np.testing.assert_allclose(fr.jit(fr.grad(f))(x), fr.grad(f)(x))
    np.testing.assert_allclose(fr.jit(fr.hessian(f))(x), fr.hessian(f)(x))
    np.testing.assert_allclose(fr.vmap(fr.jit(np.sin))(x), np.sin(x))
    np.testing.assert_allclose(fr.jit(fr.vmap(fr.grad(lambda v: v ** 3)))(x), 3 * x ** 2)
    np.testing.assert_allclose(fr.jit(fr.jit(f))(x), f(x))
    _y, L = fr.linearize(fr.jit(np.sin), x)
    np.testing.assert_allclose(L.to_dense(), np.diag(np.cos(x)))


def test_pytrees_through_jit():
    f = fr.jit(lambda p: {"s": p["a"] + p["b"][0], "n": np.sum(p["b"][1])})
    out = f({"a": np.ones(2), "b": (np.arange(2.0), np.ones(3))})
    np.testing.assert_allclose(out["s"], [1.0, 2.0])
    assert out["n"] == 3.0


def test_jit_unrolls_control_flow_and_guards_the_trip_count():
    def newton_sqrt(a):
        return fr.while_loop(lambda s: np.abs(s[0] ** 2 - a) > 1e-12,
                             lambda s: ((s[0] + a / s[0]) / 2,), (a,))[0]
    jf = fr.jit(fr.grad(newton_sqrt))
    for a in (2.0, 2.1, 2.0, 9.0):
        np.testing.assert_allclose(jf(np.array(a)), 0.5 / np.sqrt(a), rtol=1e-10)
    assert 1 <= jf.trace_count <= 3        # one trace per distinct trip count


def test_arithmetic_is_emitted_as_operators_with_numpy_semantics():
    def f(x, y):
        a, b = x[0], x[1]                  # NumPy scalars: operators take the scalar fast path
        return (a * y - b) / (a + 1.0) + -b, x * y / x
    x, y = np.array([2.0, 0.0]), np.float64(3.0)
    g = fr.jit(f)
    with np.errstate(invalid="ignore"):
        source = g.lower(x, y).source
        pairs = list(zip(g(x, y), f(x, y)))
    assert " * " in source and " / " in source and " - " in source and "= -" in source
    for got, want in pairs:
        np.testing.assert_array_equal(got, want)
        assert type(got) is type(want)
    # the same warnings as NumPy on replay: 0/0 in the array expression
    with pytest.warns(RuntimeWarning, match="invalid value"):
        g(x, y)
    z = np.zeros(2, np.float32)
    assert fr.jit(lambda z: z * 2.0 + z)(z).dtype == np.float32
