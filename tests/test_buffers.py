"""Buffer planning: compiled programs reuse their own buffers for large intermediates, and
nothing the caller holds (an output, or a view of one) is ever written again."""

import threading

import numpy as np

import frechet as fr

N = 1 << 14          # 128 KiB of float64: large enough for a buffer


def _x(seed=0, shape=(N,)):
    return np.random.default_rng(seed).standard_normal(shape)


def test_large_intermediates_get_buffers_and_outputs_stay_fresh():
    def f(x):
        a = np.cos(x) + 1.0           # intermediates: buffered
        b = a * a
        return b - np.sin(x), b.reshape(128, 128)    # b escapes as a view: never reused
    jf = fr.jit(f, fuse=False)
    x1, x2 = _x(1), _x(2)
    r1 = jf(x1)
    keep = [r.copy() for r in r1]
    r2 = jf(x2)
    assert "out=b" in jf.lower(x1).source
    for got, want, held in zip(r2, f(x2), r1):
        np.testing.assert_allclose(got, want, rtol=1e-15)
    for held, was in zip(r1, keep):
        np.testing.assert_array_equal(held, was)        # the first call's results untouched


def test_a_view_keeps_its_buffer_alive():
    def f(x):
        a = np.sin(x) * 2.0                             # buffered
        t = a.reshape(128, 128).T                       # a view of a's buffer
        c = np.exp(x) + 1.0                             # must not take a's buffer
        d = np.cos(x) - 3.0
        return np.sum(t @ c.reshape(128, 128)) + np.sum(d)
    jf = fr.jit(f, fuse=False)
    for seed in range(3):
        x = _x(seed)
        np.testing.assert_allclose(jf(x), f(x), rtol=1e-12)
    g = fr.jit(fr.grad(f), fuse=False)
    np.testing.assert_allclose(g(_x(4)), fr.grad(f)(_x(4)), rtol=1e-12)


def test_threads_have_their_own_buffers():
    def f(x):
        return np.sum((np.tanh(x) * 2.0 + 1.0) ** 2)
    jf = fr.jit(f, fuse=False)
    xs = [_x(s) for s in range(8)]
    jf(xs[0])
    results = {}

    def work(i):
        for _ in range(20):
            results[i] = jf(xs[i])
    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, x in enumerate(xs):
        np.testing.assert_allclose(results[i], f(x), rtol=1e-13)
