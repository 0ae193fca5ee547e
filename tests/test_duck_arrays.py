"""Other array types with their own ufunc handling (xarray, pandas) wrap frechet's traced
values instead of being converted by them: the tracer's operators return NotImplemented for
such operands, so Python asks the other type. (Dask arrays are the other way round: frechet's
tracers carry them as values, see tests/test_dask.py.)"""

import numpy as np
import pytest

import frechet as fr


class Labelled:
    """A minimal duck array: data plus a label, kept through ufuncs and operators."""

    def __init__(self, data, label):
        self.data, self.label = data, label

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        args = [a.data if isinstance(a, Labelled) else a for a in inputs]
        return Labelled(getattr(ufunc, method)(*args, **kwargs), self.label)

    def __mul__(self, other):
        return np.multiply(self, other)

    __rmul__ = __mul__

    def __add__(self, other):
        return np.add(self, other)

    __radd__ = __add__

    def __matmul__(self, other):
        return Labelled(np.matmul(self.data, other), self.label)

    def __rmatmul__(self, other):
        return Labelled(np.matmul(other, self.data), self.label)


BASE = np.array([1.0, -2.0, 0.5])


def test_a_duck_array_wraps_the_traced_value():
    def f(x):
        for d in (Labelled(BASE, "t") * x, x * Labelled(BASE, "t"), x + Labelled(BASE, "t"),
                  np.sin(Labelled(BASE, "t")) * x, x @ Labelled(np.eye(3), "t")):
            assert isinstance(d, Labelled) and d.label == "t"
        d = x * Labelled(BASE, "t") + np.exp(x)
        return np.sum(d.data ** 2)
    x = np.array([0.3, 0.1, -0.4])
    g = fr.grad(f)(x)
    want = 2 * (BASE * x + np.exp(x)) * (BASE + np.exp(x))
    np.testing.assert_allclose(g, want, rtol=1e-14)


def test_xarray_code_is_differentiable():
    xr = pytest.importorskip("xarray")
    times = np.linspace(0.0, 1.0, 4)

    def f(k):
        t = xr.DataArray(times, dims="t")
        y = k[1] * np.exp(k[0] * -t)                  # a DataArray holding a traced value
        assert isinstance(y, xr.DataArray) and y.dims == ("t",)
        return (y ** 2).sum("t").data

    k = np.array([0.7, 1.3])
    g = fr.grad(f)(k)
    e = np.exp(-2 * times * k[0])
    np.testing.assert_allclose(g, [np.sum(-2 * times * e) * k[1] ** 2, 2 * k[1] * np.sum(e)],
                               rtol=1e-13)
