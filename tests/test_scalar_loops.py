"""Scans over small values compiled whole (ir/scalar_loops.py): every kind of body equation the
compiler expands must give what the scan's Python loop gives, forwards, reversed and
differentiated, and bodies it cannot expand must still run."""

import numpy as np
import pytest

import frechet as fr
from frechet._src.ir import fusion, scalar_loops

if not fusion.available():
    pytest.skip(f"jit runs NumPy here: {fusion.unavailable_reason()}", allow_module_level=True)

COMPILED = "scan: one compiled loop"


def replay(f, *args):
    """The compiled program's result (a jitted function's first call returns traced values)."""
    f(*args)
    return f(*args)


def pendulum(theta, x0):
    def step(x, _):
        a, b = x[0], x[1]
        return np.stack([a + 0.01 * b, b + 0.01 * (-theta[0] * np.sin(a) - theta[1] * b)]), a
    x, trail = fr.scan(step, x0, length=300)
    return np.sum(x ** 2) + np.sum(np.cos(trail))


def matrices(m, xs, reverse=False):
    # transpose, reshape, broadcasting, reductions over some axes, concatenate, comparisons,
    # select, an integer counter and an unchanged carry
    def step(c, x):
        a, k, keep = c
        b = np.tanh(a @ np.eye(2) * 0.0 + a.T * x[:, None] + m)      # (2, 2)
        s = b.sum(axis=0)                                            # (2,)
        flat = np.concatenate([b.reshape(-1), s])                    # (6,)
        pos = np.where(flat > 0, flat, 0.1 * flat)
        return (b * 0.9 + pos[:4].reshape(2, 2) * 0.1, k + 1, keep), (pos, k, s.max())
    c, ys = fr.scan(step, (np.eye(2), np.int64(0), np.ones(3)), xs, reverse=reverse)
    return c, ys


M = np.array([[0.3, -0.2], [0.5, 0.1]])
XS = np.linspace(-1, 1, 14).reshape(7, 2)


def test_pendulum_gradient_is_compiled_loops_and_exact():
    th, x0 = np.array([1.0, 0.1]), np.array([1.0, 0.0])
    g = fr.jit(fr.grad(pendulum, argnums=(0, 1)))
    assert g.lower(th, x0).source.count(COMPILED) == 2      # the known scan and the transposed
    for got, want in zip(replay(g, th, x0), fr.grad(pendulum, argnums=(0, 1))(th, x0)):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_a_body_numba_rejects_runs_as_the_scan_loop(monkeypatch):
    def refusing(source):
        def kernel(*args):
            import numba
            raise numba.core.errors.TypingError("a body numba rejects (a test)")
        return kernel
    monkeypatch.setattr(scalar_loops, "_compile", refusing)
    th, x0 = np.array([1.0, 0.1]), np.array([1.0, 0.0])
    g = fr.jit(fr.grad(pendulum, argnums=(0, 1)))
    for got, want in zip(replay(g, th, x0), fr.grad(pendulum, argnums=(0, 1))(th, x0)):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("reverse", [False, True])
def test_every_expanded_equation_matches_the_python_loop(reverse):
    f = fr.jit(lambda m, xs: matrices(m, xs, reverse))
    source = f.lower(M, XS).source
    assert COMPILED in source, source
    got, want = replay(f, M, XS), matrices(M, XS, reverse)
    for a, b in zip(_leaves(got), _leaves(want)):
        assert np.asarray(a).dtype == np.asarray(b).dtype and np.shape(a) == np.shape(b)
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)


def _leaves(x):
    from frechet._src import tree
    return [np.asarray(v) for v in tree.flatten(x)[0]]


@pytest.mark.parametrize("reverse", [False, True])
def test_derivatives_through_compiled_loops(reverse):
    def loss(m, xs):
        (a, k, _), (pos, _ks, mx) = matrices(m, xs, reverse)
        return np.sum(a ** 2) + np.sum(np.sin(pos)) + np.sum(mx) + 0.0 * k
    for d in (fr.grad(loss, argnums=(0, 1)), fr.jacfwd(loss, argnums=(0, 1))):
        jd = fr.jit(d)
        assert COMPILED in jd.lower(M, XS).source
        for a, b in zip(_leaves(replay(jd, M, XS)), _leaves(d(M, XS))):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_fori_loop_counter_and_casts():
    # fori_loop stages as a scan whose carry holds an int64 counter, converted to float
    def f(v):
        return fr.fori_loop(0, 10, lambda i, acc: acc * 0.5 + v * i + (i > 4), v * 0.0)
    v = np.array([1.0, 2.0, 3.0])
    jf = fr.jit(f)
    assert COMPILED in jf.lower(v).source
    np.testing.assert_allclose(replay(jf, v), f(v), rtol=1e-15)
    jg = fr.jit(fr.grad(lambda v: np.sum(f(v) ** 2)))
    np.testing.assert_allclose(replay(jg, v), fr.grad(lambda v: np.sum(f(v) ** 2))(v),
                               rtol=1e-14)


def test_short_loops():
    for n in (0, 1, 2):                 # a scan of one step is inlined when staged
        f = fr.jit(lambda x, n=n: fr.scan(lambda c, _: (c * 2.0 + 1.0, c), x, length=n))
        assert (COMPILED in f.lower(np.ones(2)).source) == (n != 1)
        got, want = replay(f, np.ones(2)), fr.scan(lambda c, _: (c * 2.0 + 1.0, c),
                                                    np.ones(2), length=n)
        for a, b in zip(_leaves(got), _leaves(want)):
            assert a.shape == b.shape
            np.testing.assert_array_equal(a, b)


def test_bodies_it_cannot_expand_run_as_before():
    big = np.linspace(0, 1, scalar_loops.MAX_ELEMENTS + 1)
    f = fr.jit(lambda x: fr.scan(lambda c, _: (np.sin(c) + 0.1, None), x, length=5)[0])
    assert COMPILED not in f.lower(big).source
    np.testing.assert_allclose(replay(f, big), fr.scan(lambda c, _: (np.sin(c) + 0.1, None),
                                                       big, length=5)[0], rtol=1e-15)
    f32 = fr.jit(lambda x: fr.scan(lambda c, _: (np.sin(c) + 0.1, None), x, length=5)[0])
    x32 = np.ones(2, np.float32)
    assert COMPILED not in f32.lower(x32).source
    assert replay(f32, x32).dtype == np.float32
    no_fuse = fr.jit(lambda x: pendulum(x, x), fuse=False)
    assert COMPILED not in no_fuse.lower(np.ones(2)).source
