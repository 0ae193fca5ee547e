"""jit's reliability rules: captured values, argument checks, closures over enclosing
transformations, threads, a bounded cache, pickling."""

import pickle
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import frechet as fr
from frechet._src.errors import RetracingWarning

X = np.arange(3.0)


# ---- 1. constants are captured by value at trace time ------------------------------------------

def test_closed_over_array_is_captured_when_traced():
    W = np.ones(3)
    jf = fr.jit(lambda x: x * W + np.sum(W))
    np.testing.assert_allclose(jf(X), X + 3)
    W[:] = 2
    for _ in range(2):      # both terms from W = 1, on every later call
        np.testing.assert_allclose(jf(X), X + 3)
        np.testing.assert_allclose(jf(X + 1), X + 4)


def test_closed_over_array_product_is_not_a_mixture():
    W = np.ones(3)
    jf = fr.jit(lambda x: np.sum(W * x) * np.sum(W))
    first = jf(X)
    W[:] = 2
    np.testing.assert_allclose(jf(X), first)


def test_jit_of_grad_captures_by_value():
    W = np.ones(3)
    f = lambda x: np.sum(np.sin(x) * W) * np.sum(W)
    jg = fr.jit(fr.grad(f))
    expected = fr.grad(f)(X)
    np.testing.assert_allclose(jg(X), expected)
    W[:] = 2
    np.testing.assert_allclose(jg(X), expected)
    np.testing.assert_allclose(jg(X), expected)


def test_arrays_in_staged_loops_and_branches_are_captured():
    W = np.ones(3)
    loop = fr.jit(lambda x: fr.while_loop(lambda c: c[0] < 5, lambda c: c + W, x))
    branch = fr.jit(lambda x, p: fr.cond(p, lambda x: x * W, lambda x: x - W, x))
    np.testing.assert_allclose(loop(X), X + 5)
    np.testing.assert_allclose(branch(X, np.array(True)), X)
    W[:] = 2
    np.testing.assert_allclose(loop(X), X + 5)
    np.testing.assert_allclose(branch(X, np.array(True)), X)
    np.testing.assert_allclose(branch(X, np.array(False)), X - 1)


# ---- 2, 3. static arguments, untraceable arguments and results ------------------------------------

def test_static_argnums_out_of_range():
    with pytest.raises(ValueError, match=r"static_argnums=3.*takes 1 \(x\)"):
        fr.jit(lambda x: x, static_argnums=3)


def test_static_argnames_naming_no_parameter():
    with pytest.raises(ValueError, match=r"static_argnames='y'.*'y' is not one"):
        fr.jit(lambda x: x, static_argnames="y")


def test_static_argument_by_either_spelling():
    f = lambda x, n: x * n
    by_name = fr.jit(f, static_argnames="n")
    np.testing.assert_allclose(by_name(X, 3), 3 * X)        # passed by position: still static
    assert by_name.static_argnums == (1,)
    by_num = fr.jit(f, static_argnums=-1)
    np.testing.assert_allclose(by_num(X, n=3), 3 * X)       # passed by keyword: still static
    assert by_num.static_argnames == ("n",)


def test_unhashable_static_argument():
    jf = fr.jit(lambda x, n: x * len(n), static_argnums=1)
    with pytest.raises(TypeError, match=r"static argument 1 as a hashable value.*it is a list"):
        jf(X, [1, 2])
    np.testing.assert_allclose(jf(X, (1, 2)), 2 * X)


def test_static_argnums_on_uninspectable_function_checked_at_call():
    jf = fr.jit(max, static_argnums=5)       # a builtin: no signature to read
    with pytest.raises(ValueError, match="called with 2 positional"):
        jf(X, X)


def test_string_result_raises():
    with pytest.raises(TypeError, match="return arrays and numbers only.*output 1 is a str"):
        fr.jit(lambda x: (x, "abc"))(X)


def test_string_argument_names_static_argnums():
    jf = fr.jit(lambda s, x: x if s.startswith("a") else -x)
    with pytest.raises(TypeError, match=r"mark argument 0 static.*static_argnums=0.*"
                                        r"static_argnames='s'.*a str \('abc'\)"):
        jf("abc", X)
    ok = fr.jit(lambda s, x: x if s.startswith("a") else -x, static_argnums=0)
    np.testing.assert_allclose(ok("abc", X), X)
    np.testing.assert_allclose(ok("b", X), -X)


def test_string_keyword_argument_names_static_argnames():
    jf = fr.jit(lambda x, mode: x)
    with pytest.raises(TypeError, match=r"argument 'mode' static.*static_argnames='mode'"):
        jf(X, mode="sin")


# ---- 4. closing over traced values of enclosing transformations ----------------------------------

def _closure(y):
    return fr.jit(lambda x: x * y + np.sin(y))(2.0)


def test_closure_over_grad_tracer():
    np.testing.assert_allclose(fr.grad(_closure)(3.0), 2.0 + np.cos(3.0))


def test_lower_shows_the_hidden_input():
    seen = []

    def f(y):
        seen.append(fr.jit(lambda x: x * y + 1).lower(2.0))
        return y
    fr.grad(f)(3.0)
    (compiled,) = seen
    assert len(compiled.hidden) == 1 and len(compiled.program.invars) == 2
    assert compiled.source.splitlines()[0].count(",") == 1     # run(x, y)


def test_closure_over_jvp_and_vmap_tracers():
    y, t = fr.jvp(_closure, (3.0,), (1.0,))
    np.testing.assert_allclose([y, t], [6.0 + np.sin(3.0), 2.0 + np.cos(3.0)])
    ys = np.arange(3.0)
    np.testing.assert_allclose(fr.vmap(_closure)(ys), 2 * ys + np.sin(ys))


def test_closure_over_enclosing_jit():
    outer = fr.jit(_closure)
    for y in (3.0, 4.0):
        np.testing.assert_allclose(outer(np.float64(y)), 2 * y + np.sin(y))
    np.testing.assert_allclose(fr.jit(fr.grad(_closure))(3.0), 2.0 + np.cos(3.0))


def test_closure_over_an_array_and_second_order():
    def f(w):
        inner = fr.jit(lambda x: np.sum(np.tanh(x * w) ** 2))
        return inner(np.ones(3)) + inner(2 * np.ones(3))

    def plain(w):
        return np.sum(np.tanh(w) ** 2) + np.sum(np.tanh(2 * w) ** 2)
    w = np.array([0.1, -0.4, 0.7])
    np.testing.assert_allclose(fr.grad(f)(w), fr.grad(plain)(w), rtol=1e-12)
    np.testing.assert_allclose(fr.hessian(f)(w), fr.hessian(plain)(w), rtol=1e-10)


def test_shared_jitted_function_closing_over_changing_tracers():
    box = [None]
    jf = fr.jit(lambda x: x * box[0])

    def f(y):
        box[0] = y
        return jf(2.0) * y
    for y in (1.0, 3.0):        # a new hidden input each time: nothing stale is replayed
        np.testing.assert_allclose(fr.grad(f)(y), 4.0 * y)
    box[0] = np.float64(5.0)
    np.testing.assert_allclose(jf(2.0), 10.0)


def test_escaped_tracer_in_a_closure():
    leaked = []
    fr.grad(lambda y: (leaked.append(y), y * 1.0)[1])(1.0)
    with pytest.raises(fr.EscapedTracerError, match="escaped"):
        fr.jit(lambda x: x * leaked[0])(2.0)
    staged = []
    fr.jit(lambda x: (staged.append(x), x + 1)[1])(1.0)       # a tracer of jit's own trace
    with pytest.raises(fr.EscapedTracerError, match="escaped"):
        fr.jit(lambda x: x * staged[0])(2.0)


# ---- 5. threads ---------------------------------------------------------------------------------

def test_concurrent_first_calls_trace_once():
    n = 8
    barrier = threading.Barrier(n)
    def f(x):
        time.sleep(0.05)        # Python runs only while tracing: let the threads meet there
        return np.sin(x) * 2 + 1
    jf = fr.jit(f)

    def call(k):
        barrier.wait()
        return jf(X + k)
    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(call, range(n)))
    for k, r in enumerate(results):
        np.testing.assert_allclose(r, np.sin(X + k) * 2 + 1)
    assert jf.trace_count == 1


def test_recursive_and_mutual_jit_while_tracing():
    inner = fr.jit(lambda x: x + 1)

    def f(x, n):
        return x if n == 0 else outer(inner(np.ones(2)) * x, n - 1)
    outer = fr.jit(f, static_argnums=1)
    barrier = threading.Barrier(4)

    def call(k):
        barrier.wait()
        return outer(X[:2] + k, 3)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(call, range(4)))
    for k, r in enumerate(results):
        np.testing.assert_allclose(r, (X[:2] + k) * 8)


def test_a_duplicate_trace_is_not_kept():
    depth = [0]
    X1 = X + 1

    def f(x):
        if depth[0] == 0:       # while tracing, call itself on the same key (traced inside)
            depth[0] += 1
            jf(X1)          # a plain array (made outside the trace)
            depth[0] -= 1
        return x * 2
    jf = fr.jit(f)
    np.testing.assert_allclose(jf(X), 2 * X)
    assert jf.trace_count == 2
    (entries,) = jf.cache.values()
    assert len(entries) == 1        # the two traces took the same branches: one is kept


# ---- 6. bounded cache ---------------------------------------------------------------------------

@pytest.fixture
def small_cache():
    size, warn = fr.config.jit_cache_size, fr.config.jit_retrace_warning
    fr.config.jit_cache_size, fr.config.jit_retrace_warning = 4, 6
    yield
    fr.config.jit_cache_size, fr.config.jit_retrace_warning = size, warn


def test_cache_is_bounded_and_churn_warns(small_cache):
    jf = fr.jit(lambda x: x * 2)
    for n in range(1, 6):
        np.testing.assert_allclose(jf(np.ones(n)), 2 * np.ones(n))
    assert len(jf.cache) == 4
    with pytest.warns(RetracingWarning, match=r"jit\(<lambda>\).*6 different.*keep changing"):
        np.testing.assert_allclose(jf(np.ones(6)), 2 * np.ones(6))
    np.testing.assert_allclose(jf(np.ones(6)), 2 * np.ones(6))     # warned once; replayed
    assert len(jf.cache) == 4 and jf.trace_count == 6


def test_cache_keeps_the_recently_used(small_cache):
    fr.config.jit_retrace_warning = 100
    jf = fr.jit(lambda x: x + 1)
    for n in (1, 2, 3, 4, 1, 5):        # 1 was used again, so 2 is the one dropped
        jf(np.ones(n))
    assert jf.trace_count == 5
    jf(np.ones(1))
    assert jf.trace_count == 5
    jf(np.ones(2))
    assert jf.trace_count == 6


def test_config_rejects_a_bad_cache_size():
    with pytest.raises(ValueError, match="positive int"):
        fr.config.jit_cache_size = 0


# ---- 7. pickling --------------------------------------------------------------------------------

def _double_sin(x):
    return 2 * np.sin(x)


def test_pickle_after_calls():
    jf = fr.jit(_double_sin, static_argnames=())
    jf(X)
    again = pickle.loads(pickle.dumps(jf))
    assert again.trace_count == 0 and not again.cache
    np.testing.assert_allclose(again(X), 2 * np.sin(X))
    assert again.trace_count == 1 and jf.trace_count == 1
