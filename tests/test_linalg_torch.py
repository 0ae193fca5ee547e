"""Linear algebra torch lacks, as frechet computes it on tensors: np.roots, expm and its
Frechet derivative, solve_sylvester, matrix_power(a, 0), complex sorts. Against NumPy and
SciPy on the same inputs, against brute force (NumPy's sorts of every ordering of edge
values), and the BackendErrors of what torch cannot do."""

import itertools

import numpy as np
import pytest
import scipy.linalg as sla

import frechet as fr
import frechet.scipy.linalg as fsl

torch = pytest.importorskip("torch")


def _t(a):
    return torch.tensor(np.asarray(a))


@pytest.mark.parametrize("p", [
    [1.0, -6.0, 11.0, -6.0], [3.2, 2.0, 1.0, -0.5], [0.0, 0.0, 2.0, 1.0, 0.0, 0.0],
    [1 + 2j, -0.5j, 3.0, 1.0], [5.0], [0.0, 4.0, 0.0], [2.0, 0.0, 0.0, 0.0]])
def test_roots_are_numpys(p):
    got = fr.jit(np.roots)(_t(p))
    want = np.roots(p)
    assert isinstance(got, torch.Tensor) and got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-13, atol=1e-15)


def test_roots_random_polynomials_in_numpys_order():
    rng = np.random.default_rng(0)
    for k in range(200):
        p = rng.standard_normal(rng.integers(2, 9)) + (1j * rng.standard_normal() if k % 2 else 0)
        np.testing.assert_allclose(fr.jit(np.roots)(_t(p)).numpy(), np.roots(p), rtol=1e-10)


@pytest.mark.parametrize("dtype", [float, complex])
def test_expm_and_its_frechet_derivative_are_scipys(dtype):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 4, 4)).astype(dtype) * 2
    e = rng.standard_normal((2, 4, 4)).astype(dtype)
    # the two scaling-and-squaring codes differ by ~1e-13 of the largest entry (each is as far
    # from a 40-digit mpmath expm on these matrices)
    want = sla.expm(a)
    np.testing.assert_allclose(fsl.expm(_t(a)).numpy(), want, atol=1e-12 * np.abs(want).max())
    got = fsl.expm_frechet(_t(a[0]), _t(e[0]), compute_expm=False)
    want = sla.expm_frechet(a[0], e[0], compute_expm=False)
    np.testing.assert_allclose(got.numpy(), want, atol=1e-12 * np.abs(want).max())


@pytest.mark.parametrize("fn", ["logm", "sqrtm"])
def test_logm_and_sqrtm_raise_naming_the_reason(fn):
    a = _t(np.eye(3) + 0.1)
    with pytest.raises(fr.BackendError, match=rf"'matfun' has no implementation for the torch "
                                              rf"back end for {fn} \(torch has no Schur"):
        getattr(fsl, fn)(a)


@pytest.mark.parametrize("n, m, dtype", [(3, 2, float), (4, 4, complex), (1, 5, float)])
def test_sylvester_solves_the_equation(n, m, dtype):
    rng = np.random.default_rng(2)
    a = (rng.standard_normal((n, n)) + 3 * np.eye(n)).astype(dtype)
    b = (rng.standard_normal((m, m)) + 3 * np.eye(m)).astype(dtype)
    q = rng.standard_normal((n, m)).astype(dtype)
    x = fsl.solve_sylvester(_t(a), _t(b), _t(q)).numpy()
    np.testing.assert_allclose(a @ x + x @ b, q, atol=1e-13)
    np.testing.assert_allclose(x, sla.solve_sylvester(a, b, q), rtol=1e-11)


def test_large_sylvester_raises():
    a = _t(np.eye(65))
    with pytest.raises(fr.BackendError, match=r"'sylvester' has no implementation for the "
                                              r"torch back end at this size \(65 x 65"):
        fsl.solve_sylvester(a, a, a)


def test_matrix_power_zero_is_an_identity_of_as_library():
    a = np.random.default_rng(3).standard_normal((2, 3, 3)).astype(np.float32)
    got = fr.jit(lambda a: np.linalg.matrix_power(a, 0))(_t(a))
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    np.testing.assert_array_equal(got.numpy(), np.linalg.matrix_power(a, 0))
    g = fr.grad(lambda a: np.sum(np.linalg.matrix_power(a, 0) * a))(_t(a.astype(float)))
    np.testing.assert_array_equal(g.numpy(), np.broadcast_to(np.eye(3), (2, 3, 3)))
    # NumPy's path: the same array as NumPy's, bitwise, NaN and inf entries of a ignored
    b = np.array([[np.nan, np.inf], [1.0, -0.0]])
    out = fr.jit(lambda a: np.linalg.matrix_power(a, 0))(b)
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, np.linalg.matrix_power(b, 0))


EDGES = [complex(a, b) for a, b in itertools.product(
    [-1.0, 0.0, -0.0, 2.0, np.inf, -np.inf, np.nan], repeat=2)]


def test_sort_complex_is_numpys_with_nans_and_infinities():
    rng = np.random.default_rng(4)
    sort = fr.jit(np.sort_complex)
    for _ in range(100):
        x = rng.permutation(EDGES)[:rng.integers(1, len(EDGES))]
        np.testing.assert_array_equal(sort(_t(x)).numpy(), np.sort_complex(x))


@pytest.mark.parametrize("axis", [0, 1])
def test_complex_argsort_is_numpys_stable_one(axis):
    rng = np.random.default_rng(5)
    a = rng.integers(-1, 2, (6, 7)) + 1j * rng.integers(-1, 2, (6, 7))     # many ties
    a[rng.random(a.shape) < 0.2] = complex(np.nan, 1.0)
    a[rng.random(a.shape) < 0.2] = complex(1.0, np.nan)
    got = fr.jit(lambda a: np.argsort(a, axis=axis, kind="stable"))(_t(a))
    np.testing.assert_array_equal(got.numpy(), np.argsort(a, axis=axis, kind="stable"))
