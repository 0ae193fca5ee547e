"""Allocate-and-fill code: arrays made from traced values (np.zeros_like(x), like=x,
np.array([...]) of traced values) take later traced writes, and np.ufunc.at scatters with
repeated indices; the NumPy constructors are wrapped only while a transformation runs."""

import threading

import numpy as np
import pytest
from numpy_checks import agrees_with_numpy

import frechet as fr

X = np.array([0.5, -1.0, 2.0, 0.3, 1.5, -0.7])


def check(f, x=X):
    agrees_with_numpy(f, x, vmap=True)


@pytest.mark.parametrize("make", [np.zeros_like, np.empty_like, np.ones_like,
                                  lambda x: np.full_like(x, 2.0)])
def test_like_arrays_take_traced_writes(make):
    def f(x):
        out = make(x)
        out[0] = x[1] * x[2]
        out[2:4] = np.sin(x[:2])
        out[[1, 4, 5]] = x[[5, 1, 0]] ** 2 + 1.0      # every element written (empty_like)
        return np.sum(out * x)
    check(f)


def test_like_keyword_and_constructors_of_traced_values():
    def f(x):
        out = np.zeros(3, like=x)
        out[1] = x[0] * x[2]
        v = np.array([x[0], 2 * x[1]], like=x)
        theta, omega = x[3], x[4]
        d = np.array([omega, -np.sin(theta)])             # a pendulum's derivative
        rows = np.array([x[:2], x[2:4] ** 2])              # a list of traced rows
        nested = np.asarray([[x[0], 1.0], [2.0, x[5]]])    # traced and plain scalars mixed
        return (np.sum(out) + np.sum(v * v) + np.sum(d * d) + np.sum(rows * rows)
                + np.linalg.det(nested))
    check(f)


def test_array_copies_and_asarray_is_the_same_object():
    def f(x):
        a = np.array(x)
        a[0] = 10.0                     # a copy: x keeps its value
        b = np.asarray(x)
        b[1] = 3.0 * x[2]               # the same object: x changes, as in NumPy
        return np.sum(x * x) + np.sum(a)
    check(f)


@pytest.mark.parametrize("ufunc", [np.add, np.subtract, np.multiply, np.maximum, np.minimum])
def test_ufunc_at_repeated_indices(ufunc):
    idx = np.array([0, 2, 0, 3, 0])

    def f(x):
        y = x * 1.0
        ufunc.at(y, idx, x[1:6] ** 2)
        return np.sum(y * np.arange(1.0, 7.0))
    check(f)


def test_numpy_is_untouched_outside_transformations():
    original = np.array
    seen = []
    fr.grad(lambda x: seen.append(np.array) or np.sum(x))(X)
    assert seen[0] is not original and np.array is original
    # another thread calling NumPy while a transformation runs gets NumPy's behaviour
    started, done, out = threading.Event(), threading.Event(), []

    def other():
        started.wait()
        out.append(np.array([1.0, 2.0]))
        done.set()

    def f(x):
        started.set()
        done.wait(10)
        return np.sum(x)
    t = threading.Thread(target=other)
    t.start()
    fr.grad(f)(X)
    t.join()
    assert type(out[0]) is np.ndarray
    fr.config.patch_numpy_creation = False
    try:
        with pytest.raises(fr.TracerConversionError):
            fr.grad(lambda x: np.sum(np.array([x[0], x[1]])))(X)
    finally:
        fr.config.patch_numpy_creation = True


OUTSIDE = np.zeros(3)                   # made before any transformation: a plain ndarray


def test_writing_traced_values_into_a_numpy_array_says_how():
    def f(x):
        np.add.at(OUTSIDE, [0, 0], x[:2])
        return np.sum(OUTSIDE)
    with pytest.raises(fr.TracerConversionError, match=r"np.zeros_like\(x\)"):
        fr.grad(f)(X)


def test_constant_fills_write_in_place_without_sharing():
    # plain writes into a fresh array go to its memory (a fill loop costs what NumPy's does),
    # but never into an array that another name or the caller holds
    u = np.ones(3)

    def f(x):
        a = np.zeros(3)
        for i in range(3):
            a[i] = i + 1.0              # in place
        b = a.copy()
        a[0] = 10.0                     # b keeps 1.0
        v = a[1:]                       # a view sees the write below
        a[2] = 7.0
        np.copyto(a, u)                 # a now holds u's values; u must stay ones
        a[1] = 5.0
        c = np.zeros(2)
        c[0] = x[0]                     # traced from here on
        c[1] = 2.0
        return np.sum(b * x) + np.sum(v * x[:2]) + np.sum(a * x) + np.sum(c * x[:2])

    x = X[:3].copy()
    g = fr.grad(f)(x)
    np.testing.assert_array_equal(u, np.ones(3))
    eps = 1e-6
    fd = np.array([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fr.value_and_grad(f)(x)[0], f(x), rtol=1e-14)
