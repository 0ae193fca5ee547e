"""frechet.numpy.linalg beyond the op records: degenerate cases and NumPy's conventions."""

import numpy as np
import pytest

import frechet as fr


def test_singular_matrix_raises_numpys_error_in_the_derivative():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    sign, logdet = np.linalg.slogdet(a)
    assert sign == 0 and logdet == -np.inf
    with pytest.raises(np.linalg.LinAlgError, match="Singular"):
        fr.grad(lambda a: np.linalg.slogdet(a)[1])(a)
    with pytest.raises(np.linalg.LinAlgError, match="Singular"):
        fr.grad(lambda a: np.sum(np.linalg.inv(a)))(a)


def test_shapes_like_numpy():
    with pytest.raises(np.linalg.LinAlgError, match="square"):
        fr.grad(lambda a: np.sum(np.linalg.inv(a)))(np.ones((2, 3)))
    a, b = 3 * np.eye(3), np.arange(6.0).reshape(2, 3)
    with pytest.raises(ValueError):            # NumPy 2: a 2-D b is a matrix, not a stack
        np.linalg.solve(a, b)
    with pytest.raises(ValueError):
        fr.grad(lambda b: np.sum(np.linalg.solve(a, b)))(b)
    r = fr.jvp(np.linalg.slogdet, (a,), (np.eye(3),))
    assert type(r[0]).__name__ == "SlogdetResult"
    np.testing.assert_allclose(r[1][1], 1.0)       # d log det (3I)[I] = tr(I/3) = 1


def test_integer_matrices_compute_in_float64():
    a = np.array([[2, 1], [1, 3]])
    np.testing.assert_allclose(fr.jit(lambda a: np.linalg.det(a))(a), np.linalg.det(a))
    np.testing.assert_allclose(fr.numpy.linalg.solve(a, np.array([1, 2])),
                               np.linalg.solve(a, np.array([1, 2])))
