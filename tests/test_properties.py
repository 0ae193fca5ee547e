"""Hypothesis: broadcasting, dtypes and shapes through the front end and its derivatives."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import frechet as fr
from frechet._src.testing import check_grads, check_transpose

settings.register_profile("frechet", max_examples=40, deadline=None, print_blob=True)
settings.load_profile("frechet")

FLOATS = st.sampled_from([np.float64, np.float32, np.complex128])
BINARY = st.sampled_from([np.add, np.subtract, np.multiply, np.divide, np.maximum, np.hypot])


@st.composite
def broadcastable_pair(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                    max_side=3))
    a, b = shapes.input_shapes
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return rng.uniform(0.5, 2.0, a), rng.uniform(0.5, 2.0, b)


@given(broadcastable_pair(), BINARY)
def test_binary_broadcasting_grads(pair, ufunc):
    x, y = pair
    if ufunc in (np.maximum,):
        y = y + 0.01      # keep away from ties, where the derivative is not unique
    check_grads(ufunc, (x, y), order=1)
    _, L = fr.linearize(ufunc, x, y)
    check_transpose(L)
    assert L.out_specs.shape == np.broadcast_shapes(x.shape, y.shape)


@given(broadcastable_pair(), FLOATS, st.sampled_from([int, float, 2, 0.5, True, False]))
def test_dtype_promotion_matches_numpy(pair, dtype, scalar):
    x = pair[0].astype(dtype)
    s = scalar if not isinstance(scalar, type) else scalar(3)
    expected = np.multiply(x, s) + np.sin(x)
    got, _ = fr.jvp(lambda v: v * s + np.sin(v), (x,), (np.ones_like(x),))
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)


NON_UFUNC = [lambda x, s: np.where(x > 1, x, s), lambda x, s: np.where(x > 1, s, x),
             lambda x, s: np.stack([x, np.full_like(x, s)]), lambda x, s: np.clip(x, s, 5),
             lambda x, s: np.append(x.ravel(), s), lambda x, s: x * s + np.float32(1),
             lambda x, s: np.select([x > 1], [x], s)]


@pytest.mark.parametrize("fn", NON_UFUNC)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
@pytest.mark.parametrize("scalar", [2, 0.5, True])
def test_python_scalars_are_weak_outside_ufuncs_too(fn, dtype, scalar):
    x = np.linspace(0.5, 2.0, 6).astype(dtype).reshape(2, 3)
    expected = fn(x, scalar)
    got, _ = fr.jvp(lambda v: fn(v, scalar), (x,), (np.ones_like(x),))
    assert got.dtype == expected.dtype and fr.jit(fn)(x, scalar).dtype == expected.dtype


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                  elements=st.floats(-2, 2)),
       st.data())
def test_reductions_over_random_axes(x, data):
    axis = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
    keepdims = data.draw(st.booleans())
    for fn in (np.sum, np.mean, np.cumsum):
        kw = {} if fn is np.cumsum else {"keepdims": keepdims}
        got, _ = fr.jvp(lambda v, fn=fn, kw=kw: fn(v, axis=axis, **kw), (x,), (np.ones_like(x),))
        np.testing.assert_allclose(got, fn(x, axis=axis, **kw), atol=1e-12)
        _, L = fr.linearize(lambda v, fn=fn, kw=kw: fn(v, axis=axis, **kw), x)
        check_transpose(L)


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
                  elements=st.floats(-2, 2)), st.data())
def test_indexing(x, data):
    idx = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True))
    got, _ = fr.jvp(lambda v: v[idx], (x,), (np.ones_like(x),))
    np.testing.assert_array_equal(got, x[idx])
    _, L = fr.linearize(lambda v: v[idx] * 2.0, x)
    check_transpose(L)


def test_float32_stays_float32():
    x = np.ones(3, np.float32)
    g = fr.grad(lambda v: np.sum(np.sin(v) * 2.0))(x)
    assert g.dtype == np.float32
    assert fr.grad(lambda v: np.sum(v * np.float64(2.0)))(x).dtype == np.float32


def test_array_namespace():
    seen = []

    def f(x):
        xp = x.__array_namespace__()
        seen.append(xp)
        return xp.sum(xp.sin(x) * xp.exp(x))
    g = fr.grad(f)(np.array([0.1, 0.2]))
    assert seen[0] is fr.numpy
    np.testing.assert_allclose(g, np.cos([0.1, 0.2]) * np.exp([0.1, 0.2])
                               + np.sin([0.1, 0.2]) * np.exp([0.1, 0.2]))


@pytest.mark.parametrize("name", ["sum", "mean", "sin", "matmul", "concatenate", "where", "clip",
                                  "cumsum", "sort", "einsum"])
def test_namespace_on_plain_arrays_matches_numpy(name):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 3))
    args = {"concatenate": ([x, x],), "where": (x > 0, x, -x), "clip": (x, -0.5, 0.5),
            "einsum": ("ij,jk->ik", x, x), "matmul": (x, x)}.get(name, (x,))
    np.testing.assert_allclose(getattr(fr.numpy, name)(*args), getattr(np, name)(*args))
