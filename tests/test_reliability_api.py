"""Issue 13: the public transformations refuse what would be silently wrong (argnums twice,
cotangents or tangents of the wrong shape or a complex one for a real value), keep their
residuals as they were, and return arrays the caller may write to."""

import contextvars
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import frechet as fr
from frechet._src.errors import EscapedTracerError, ShapeError


def test_argnums_naming_an_argument_twice_raises():
    with pytest.raises(ValueError, match="more than once"):
        fr.grad(lambda x, y: x * y, argnums=(0, 0))(1.0, 2.0)
    with pytest.raises(ValueError, match="more than once"):
        fr.jacrev(lambda x, y: x * y, argnums=(1, -1))(1.0, 2.0)


@pytest.mark.parametrize("argnums", ["0", 0.0, (0, "1"), (), True])
def test_argnums_of_the_wrong_type_raise_naming_argnums(argnums):
    with pytest.raises(TypeError, match="argnums must be an int or a non-empty tuple"):
        fr.grad(lambda x, y: x * y, argnums=argnums)(1.0, 2.0)


def test_argnums_accepts_numpy_integers():
    assert fr.grad(lambda x, y: x * y, argnums=np.int64(1))(3.0, 2.0) == 3.0
    assert fr.grad(lambda x, y: x * y, argnums=(np.int32(0), 1))(3.0, 2.0) == (2.0, 3.0)


def test_vjp_pullback_checks_the_cotangent():
    _, pull = fr.vjp(np.sin, np.ones(3))
    for wrong in (np.ones(1), np.ones((2, 3)), 1.0):
        with pytest.raises(ShapeError, match=r"shape \(3,\)"):
            pull(wrong)
    with pytest.raises(TypeError, match="complex"):
        pull(np.ones(3) * 1j)
    with pytest.raises(ShapeError, match="structured"):
        pull((np.ones(3),))
    np.testing.assert_allclose(pull(np.ones(3, np.float32))[0], np.cos(1.0) * np.ones(3))


def test_complex_tangents_and_cotangents_of_real_values_raise():
    with pytest.raises(TypeError, match="complex"):
        fr.jvp(np.sin, (np.ones(3),), (np.ones(3) * 1j,))
    _, L = fr.linearize(np.sin, np.ones(2))
    with pytest.raises(TypeError, match="complex"):
        L(np.ones(2) * 1j)
    with pytest.raises(TypeError, match="complex"):
        L.T(np.ones(2) + 0j)


def test_vjp_keeps_its_residuals_when_the_caller_writes_in_place():
    x = np.linspace(0.1, 1.0, 4)
    _, pull = fr.vjp(lambda v: np.sin(v) * v, x)
    before = pull(np.ones(4))[0]
    x += 1.0
    np.testing.assert_array_equal(pull(np.ones(4))[0], before)

    W = np.arange(1.0, 5.0)
    _, pull = fr.vjp(lambda v: np.sum(v * W), np.ones(4))
    W[:] = 7.0
    np.testing.assert_array_equal(pull(1.0)[0], np.arange(1.0, 5.0))


def test_linearize_keeps_its_residuals_when_outputs_and_views_change():
    x = np.linspace(0.1, 1.0, 4)
    y, L = fr.linearize(np.exp, x)       # exp's output is its own derivative
    before = L(np.ones(4))
    y *= 0.0
    np.testing.assert_array_equal(L(np.ones(4)), before)
    A = np.arange(6.0).reshape(2, 3)
    _, L = fr.linearize(lambda v: A[:, :2] @ v, np.ones(2))   # a view of a captured array
    before = L.T(np.ones(2))
    A[:] = 0.0
    np.testing.assert_array_equal(L.T(np.ones(2)), before)


def test_returned_derivatives_are_writeable_and_unshared():
    g = fr.grad(np.sum)(np.ones(10_000))
    g *= 0.5                                  # a read-only broadcast view raised here
    assert np.all(g == 0.5)
    gx, gy = fr.grad(lambda x, y: np.sum(x + y), argnums=(0, 1))(np.ones(3), np.ones(3))
    gx *= 2.0
    np.testing.assert_array_equal(gy, np.ones(3))
    w = np.ones(3)
    _, pull = fr.vjp(lambda x: x, np.ones(3))
    (ct,) = pull(w)
    ct *= 3.0
    np.testing.assert_array_equal(w, np.ones(3))
    v = np.ones(3)
    _, t = fr.jvp(lambda x: x, (np.ones(3),), (v,))
    t += 1.0
    np.testing.assert_array_equal(v, np.ones(3))
    J = fr.jacrev(lambda x: x * 1.0)(np.ones(3))
    assert J.flags.writeable


def test_a_function_returning_none_is_named_in_the_error():
    with pytest.raises(TypeError, match="returned None"):
        fr.grad(lambda x: None)(1.0)


def test_traced_code_in_a_thread_pool_says_how_to_run_it():
    def f(x):
        with ThreadPoolExecutor(2) as pool:
            return sum(pool.map(np.sin, [x, 2 * x]))
    with pytest.raises(EscapedTracerError, match="copy_context"):
        fr.grad(f)(1.0)

    def g(x):      # the fix the message gives
        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(contextvars.copy_context().run, np.sin, v) for v in (x, 2 * x)]
            return sum(f.result() for f in futures)
    np.testing.assert_allclose(fr.grad(g)(1.0), np.cos(1.0) + 2 * np.cos(2.0))
