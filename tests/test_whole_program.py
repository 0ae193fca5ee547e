"""Whole-program native code (ir/native.py): values against the replay and NumPy, derivatives
against closed forms and finite differences, the fallbacks, and the cache."""

import os
import warnings

import numpy as np
import pytest
from op_records import RECORDS, traced_fn

import frechet as fr
import frechet.scipy.special as fsp
from frechet._src import tree
from frechet._src.ir import fusion, native, native_rules

pytestmark = pytest.mark.skipif(fusion.unavailable_reason() is not None,
                                reason="numba cannot compile here")


@pytest.fixture
def compile_at_once(monkeypatch):
    """Compile a program at its first replayed call (normally once the replay has run for a
    tenth of the estimated compile time)."""
    monkeypatch.setattr(native, "REPLAY_FRACTION", 0.0)


def entries(jf):
    return [e for es in jf.cache.values() for e in es]


def is_native(jf) -> bool:
    (entry,) = entries(jf)
    return getattr(entry.run, "native", None) is not None


def warm(jf, *args):
    """Trace, replay once (which compiles under compile_at_once), then call natively."""
    for _ in range(2):
        jf(*args)
    return jf(*args)


def leaves(x):
    return [np.asarray(v) for v in tree.flatten(x)[0]]


def assert_close(got, want, tol=1e-14):
    for g, w in zip(leaves(got), leaves(want), strict=True):
        assert g.shape == w.shape and g.dtype == w.dtype
        scale = np.abs(w[np.isfinite(w)]).max(initial=0.0) if w.dtype != bool else 0
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol * scale)


# ---- forms: each rule's index arithmetic, against NumPy ----------------------------------

def _nd(x):
    return x.reshape(3, 4, 5)


FORMS = {
    "slices": lambda x: np.sin(x[1:]) * x[:-1] + x[::-3].sum(),
    "negative step and integer": lambda x: _nd(x)[::-1, 2, 1::2] * 2.0 + _nd(x)[-1, -2, 0],
    "new axis": lambda x: np.tanh(x[None, 2:5, None] + x[:3, None, None]),
    "transpose 3d": lambda x: np.exp(np.transpose(_nd(x), (2, 0, 1))) - 1.0,
    "general reshape": lambda x: np.cos(x.reshape(6, 10)).reshape(4, 15) * 3.0,
    "reductions": lambda x: (np.sum(_nd(x) ** 2, axis=(0, 2)), np.max(_nd(x), axis=1),
                             np.min(np.abs(_nd(x)), axis=-1)),
    "broadcast": lambda x: np.log1p(x[:4, None] ** 2) * x[None, :5] + np.expm1(x[:1]),
    "comparisons": lambda x: (x > 0.1, np.where(x < 0, -x, x ** 3), np.maximum(x, 0.2)),
    "matmul": lambda x: _nd(x)[0] @ _nd(x)[1].T + x[:4] @ _nd(x)[2] @ _nd(x)[1].T,
    "scalar out": lambda x: np.sum(np.sin(x) * x) + np.max(x),
    "constant and input outputs": lambda x: (np.sin(x) * 2.0 + x, np.ones(3, x.dtype),
                                             np.arange(3.0).astype(x.dtype), x),
    "index update": lambda x: _updated(x),
    "index add (a getitem's transpose)": lambda x: fr.grad(
        lambda y: np.sum(np.sin(y[2:40:3]) * y[-13:]) + np.sum(_nd(y)[1, :, 2] ** 2))(x),
}


def _updated(x):
    y = x.copy()
    y[2:40:3] += np.sqrt(x[:13] ** 2 + 1.0)
    y[5] = 0.5
    return y * 2.0


@pytest.mark.parametrize("name", sorted(FORMS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_forms_against_numpy_and_replay(compile_at_once, name, dtype):
    f = FORMS[name]
    x = np.random.default_rng(0).standard_normal(60).astype(dtype)
    jf = fr.jit(f)
    replayed = jf(x)
    got = warm(jf, x)
    assert is_native(jf), native.unsupported(entries(jf)[0].program)
    tol = 1e-14 if dtype == np.float64 else 1e-6
    assert_close(got, replayed, tol)
    assert_close(got, f(x), tol)


def test_special_values_as_numpy(compile_at_once):
    def f(x):
        return (np.maximum(x, 0.0) / x, np.max(x), np.where(np.isfinite(x), x, 0.0) * 2.0,
                np.sum(-np.abs(x[:2]) * 0.0))      # a sum of negative zeros: +0.0
    x = np.array([1.0, -0.0, np.nan, np.inf, -np.inf, 0.0, 3.0])
    with np.errstate(all="ignore"):
        want = f(x)
        jf = fr.jit(f)
        got = warm(jf, x)
    assert is_native(jf)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(np.signbit(g), np.signbit(w))


def test_scalar_outputs_keep_numpy_types(compile_at_once):
    f = fr.jit(lambda x: (np.sum(x ** 2), x * 2.0))
    for dtype in (np.float64, np.float32):
        s, _ = warm(f, np.arange(4, dtype=dtype))
        assert type(s) is np.dtype(dtype).type and s == 14
    assert all(getattr(e.run, "native", None) for e in entries(f))


# ---- the benchmark's programs against closed forms ----------------------------------------

def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosenbrock_hessian(x):
    """The closed form: tridiagonal."""
    n = len(x)
    d = np.zeros(n)
    d[:-1] += 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
    d[1:] += 200
    off = -400 * x[:-1]
    return np.diag(d) + np.diag(off, 1) + np.diag(off, -1)


def test_rosenbrock_hessian(compile_at_once):
    x = np.random.default_rng(0).standard_normal(200)
    jh = fr.jit(fr.hessian(rosenbrock))
    got = warm(jh, x)
    assert is_native(jh)
    np.testing.assert_allclose(got, rosenbrock_hessian(x), rtol=1e-14, atol=1e-12)


def test_small_grad(compile_at_once):
    x = np.random.default_rng(1).standard_normal(10)
    jg = fr.jit(fr.grad(lambda x: fsp.logsumexp(x) + 0.5 * np.dot(x, x)))
    got = warm(jg, x)
    assert is_native(jg)
    softmax = np.exp(x - x.max()) / np.sum(np.exp(x - x.max()))
    np.testing.assert_allclose(got, softmax + x, rtol=1e-14)


# ---- derivatives against finite differences ------------------------------------------------

def loss(x):
    y = np.tanh(x[:-1] * x[1:]) + np.exp(-x[2:-1] ** 2).sum()
    return np.sum(y ** 2) + np.log1p(np.sum(x ** 2)) + np.max(np.sin(x))


def central(f, x, h=1e-6):
    """Central differences of f (scalar or array valued) along each coordinate of x."""
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h))
    return np.stack(cols, axis=-1)


def small_loss(x):
    return np.sum(np.tanh(x[:-1] * x[1:])) + np.log1p(np.sum(x ** 2))


def test_grad_and_hessian_against_finite_differences(compile_at_once):
    x = np.random.default_rng(2).standard_normal(12)
    jg, jh = fr.jit(fr.grad(loss)), fr.jit(fr.hessian(small_loss))
    g, h = warm(jg, x), warm(jh, x)
    assert is_native(jg) and is_native(jh)
    np.testing.assert_allclose(g, central(loss, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(h, central(fr.grad(small_loss), x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(h, h.T, rtol=1e-12, atol=1e-12)


# ---- op records: every supported program, value and gradient ---------------------------------

SAMPLED = set(sorted(RECORDS)[::9])     # the rest run with `make test-slow`


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in SAMPLED else pytest.mark.slow)
                                  for n in sorted(RECORDS)])
def test_op_records_native_against_replay(name):
    r = RECORDS[name]
    fn = traced_fn(r)
    args = r.args(np.random.default_rng(5))

    def total(*a):
        return sum(np.sum(np.real(v)) for v in tree.flatten(fn(*a))[0])
    grad = fr.grad(total, argnums=tuple(range(len(args))))
    xs = leaves(args)
    for f, eager in ((fn, fn(*args)), (grad, grad(*args))):
        compiled = fr.jit(f).lower(*args)
        if native.unsupported(compiled.program, compiled.guards) is not None:
            continue
        got = native.compile_program(compiled.program).run(*xs)
        assert_close(got, compiled.run(*xs))
        assert_close(got, leaves(eager), 1e-12)


# ---- fallbacks ----------------------------------------------------------------------------------

@pytest.mark.parametrize("f, x, reason", [
    (lambda x: np.sort(x) * 2.0 + 1.0 - x, np.arange(5.0), "sort"),
    (lambda x: np.concatenate([x, x]) * 2.0 + 1.0, np.arange(5.0), "concatenate"),
    (lambda x: (x * 2 + 1) // 3, np.arange(5), "float"),
    (lambda x: (np.sin(x) * 2.0 + x, np.argmax(x)), np.arange(5.0), "another dtype"),
    (lambda x: x * 2.0 + 1.0 if np.sum(x) > 0 else -x, np.arange(5.0), "guards"),
    (lambda x: np.sin(x) * 2.0 + x, np.ones(fusion.PARALLEL_SIZE + 1), "elements"),
    (lambda x: x @ x.T + 1.0 - x, np.ones((20, 20)), "einsum"),
])
def test_unsupported_programs_stay_on_the_replay(compile_at_once, f, x, reason):
    jf = fr.jit(f)
    assert reason in native.unsupported(jf.lower(x).program, jf.lower(x).guards)
    for _ in range(3):
        for got, want in zip(leaves(jf(x)), leaves(f(x)), strict=True):
            np.testing.assert_array_equal(got, want)
    assert not is_native(jf)


def test_long_programs_stay_on_the_replay(compile_at_once):
    def chain(x):
        for _ in range(40):
            x = np.tanh(np.sin(x) * 1.01) + 0.1
        return np.sum(x)
    jg = fr.jit(fr.grad(chain))
    x = np.linspace(0, 1, 5)
    program = jg.lower(x).program
    assert native.unsupported(program) is None
    assert native.source_of(program)[0].count("\n") > native.MAX_LINES
    np.testing.assert_allclose(warm(jg, x), fr.grad(chain)(x), rtol=1e-14)
    assert not is_native(jg)


def test_without_numba_jit_replays(compile_at_once, monkeypatch):
    monkeypatch.setitem(os.environ, "FRECHET_FUSION", "0")
    x = np.linspace(-1, 1, 7)
    for jf in (fr.jit(fr.grad(loss)), fr.jit(fr.grad(loss), fuse=False)):
        np.testing.assert_allclose(warm(jf, x), fr.grad(loss)(x), rtol=1e-14)
        assert not is_native(jf)
    monkeypatch.setitem(os.environ, "FRECHET_FUSION", "1")
    jf = fr.jit(fr.grad(loss), fuse=False)
    warm(jf, x)
    assert not is_native(jf)


def test_compiles_only_after_the_replay_has_run_a_while():
    jf = fr.jit(fr.grad(loss))
    x = np.linspace(-1, 1, 7)
    for _ in range(native.REPLAYS_BEFORE_COMPILE):      # the trace, then the replays
        jf(x)
    assert not is_native(jf)
    np.testing.assert_allclose(jf(x), fr.grad(loss)(x), rtol=1e-14)
    assert is_native(jf)


def test_a_wrong_rule_is_caught_by_the_first_check(compile_at_once, monkeypatch):
    # a bug in a rule: sin written as cos
    prim = next(p for p in native_rules.table() if p.name == "sin")
    monkeypatch.setitem(native_rules.RULES, prim, native_rules.Elementwise("np.cos({0})"))
    monkeypatch.setattr(native, "_KERNELS", {})
    f = lambda x: np.sin(x) * 2.0 + x
    jf = fr.jit(f)
    x = np.linspace(0, 1, 5)
    jf(x)
    with pytest.warns(RuntimeWarning, match="disagreed with its replay"):
        got = jf(x)
    np.testing.assert_array_equal(got, f(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(jf(x), f(x))
    assert not is_native(jf)


def test_inputs_numba_refuses_run_the_replay(compile_at_once):
    jf = fr.jit(lambda x: np.sin(x) * 2.0 + x)
    x = np.linspace(0, 1, 6)
    warm(jf, x)
    run = entries(jf)[0].run
    assert run.native is not None
    swapped = x.astype(">f8")     # an array NumPy (the replay) takes and numba cannot type
    np.testing.assert_array_equal(run(swapped)[0], np.sin(x) * 2.0 + x)


# ---- cache: shapes, dtypes, constants ------------------------------------------------------

def test_new_shapes_and_dtypes_compile_their_own(compile_at_once):
    jf = fr.jit(fr.grad(loss))
    for x in (np.linspace(-1, 1, 7), np.linspace(-1, 1, 9),
              np.linspace(-1, 1, 7).astype(np.float32)):
        got = warm(jf, x)
        assert got.dtype == x.dtype
        np.testing.assert_allclose(got, fr.grad(loss)(x), rtol=1e-14 if x.dtype == float
                                   else 1e-5)
    assert jf.trace_count == 3
    assert all(getattr(e.run, "native", None) for e in entries(jf))


def test_programs_differing_only_in_constants_do_not_share_kernels(compile_at_once):
    x = np.linspace(0, 1, 5)
    results = []
    for c in (np.arange(5.0), np.arange(5.0)[::-1].copy()):
        jf = fr.jit(lambda x, c=c: np.sin(x * c) + c * x)
        results.append(warm(jf, x))
        assert is_native(jf)
        np.testing.assert_array_equal(results[-1], np.sin(x * c) + c * x)
    assert not np.array_equal(*results)


def test_strided_and_fortran_inputs(compile_at_once):
    f = lambda x: np.tanh(x.T * 2.0) + np.sum(x, axis=1)
    jf = fr.jit(f)
    x = np.random.default_rng(3).standard_normal((12, 8))
    warm(jf, x)
    assert is_native(jf)
    for y in (x[::-1], np.asfortranarray(x), x.copy()[:, :]):
        assert_close(jf(y), f(y))


def test_threads_share_a_promoting_function(compile_at_once):
    import concurrent.futures

    jf = fr.jit(fr.grad(loss))
    xs = [np.linspace(-1, 1, 7) * k for k in range(1, 9)]
    jf(xs[0])
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        got = list(pool.map(jf, xs * 5))
    for g, x in zip(got, xs * 5):
        np.testing.assert_allclose(g, fr.grad(loss)(x), rtol=1e-13, atol=1e-13)
    assert is_native(jf)
