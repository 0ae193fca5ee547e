"""frechet.scipy.sparse.diags and friends with traced diagonals: products, transposes, dense
form and solves against SciPy, derivatives in the diagonals and the vector, jit and vmap."""

import numpy as np
import pytest
import scipy.sparse as sp

import frechet as fr
from frechet.extend import check_grads
from frechet.linalg import CG, GMRES, solve
from frechet.scipy import sparse as S
from frechet.scipy.sparse.linalg import BandedDirect, spsolve

RNG = np.random.default_rng(0)
N = 6
D0, D1, DM = 4 + RNG.random(N), RNG.standard_normal(N - 1), RNG.standard_normal(N - 2)
OFFS = [0, 1, -2]
X = RNG.standard_normal(N)
XM = RNG.standard_normal((N, 2))


def dense(*ds, offsets=OFFS):
    """The reference matrix, built with NumPy (traced diagonals allowed)."""
    n = len(ds[0]) + abs(offsets[0])
    return sum(np.diag(d, k)[:n, :n] for d, k in zip(ds, offsets))


def test_values_match_scipy():
    A, R = S.diags([D0, D1, DM], OFFS), dense(D0, D1, DM)
    np.testing.assert_array_equal(A.toarray(), R)
    for got, want in ((A @ X, R @ X), (A.T @ X, R.T @ X), (A.dot(XM), R @ XM), (X @ A, X @ R),
                      (XM.T @ A, XM.T @ R), ((2.0 * A - A.T) @ X, (2 * R - R.T) @ X),
                      (A.diagonal(1), np.diag(R, 1))):
        np.testing.assert_allclose(got, want, rtol=1e-14)
    rect = S.diags([1.0, D1[:4]], [0, 1], shape=(3, 5))
    np.testing.assert_array_equal(rect.toarray(),
                                  sp.diags([1.0, D1[:4]], [0, 1], shape=(3, 5)).toarray())
    data = RNG.standard_normal((3, 5))
    np.testing.assert_array_equal(S.spdiags(data, [0, -1, 2], 5, 4).toarray(),
                                  sp.spdiags(data, [0, -1, 2], 5, 4).toarray())
    np.testing.assert_array_equal(S.eye(4, 5, k=1).toarray(), sp.eye(4, 5, k=1).toarray())
    np.testing.assert_array_equal(S.diags_array(D0, offsets=0).toarray(), np.diag(D0))


def test_products_are_differentiable_in_the_diagonals_and_the_vector():
    check_grads(lambda a, b, c, x: S.diags([a, b, c], OFFS) @ x, (D0, D1, DM, X), order=2)
    check_grads(lambda a, b, c, x: S.diags([a, b, c], OFFS).T.dot(x), (D0, D1, DM, XM),
                order=1)
    check_grads(lambda a, b, x: x @ S.diags([a, b], [0, -1]), (D0, D1, X), order=1)
    check_grads(lambda a, b, c: S.diags([a, b, c], OFFS).toarray(), (D0, D1, DM), order=1)
    check_grads(lambda data: S.spdiags(data, [0, 1], 4, 4) @ X[:4], (XM[:, :2].T[:, :4],),
                order=1)


@pytest.mark.parametrize("how", ["spsolve", "banded", "gmres", "cg"])
def test_solves_are_differentiable_in_the_diagonals_and_the_right_hand_side(how):
    if how == "cg":             # symmetric positive definite: tridiagonal, offsets +-1 equal
        def build(a, b, c):
            return S.diags([a, b, b], [0, 1, -1])

        def ref(a, b, c):
            return dense(a, b, b, offsets=[0, 1, -1])
    else:
        build, ref = (lambda a, b, c: S.diags([a, b, c], OFFS)), dense
    solvers = {"spsolve": None, "banded": BandedDirect(2), "gmres": GMRES(rtol=1e-13),
               "cg": CG(rtol=1e-13)}

    def f(a, b, c, x):
        A = build(a, b, c)
        return spsolve(A, x) if how == "spsolve" else solve(A, x, solvers[how])
    np.testing.assert_allclose(f(D0, D1, DM, X), np.linalg.solve(ref(D0, D1, DM), X),
                               rtol=1e-10)
    check_grads(f, (D0, D1, DM, X), order=1, rtol=1e-5, atol=1e-6)
    want = fr.grad(lambda a: np.sum(np.linalg.solve(ref(a, D1, DM), X) ** 2))(D0)
    np.testing.assert_allclose(fr.grad(lambda a: np.sum(f(a, D1, DM, X) ** 2))(D0), want,
                               rtol=1e-8)


def test_jit_and_vmap():
    f = fr.jit(lambda a, x: S.diags([a, D1, DM], OFFS) @ x)
    for a in (D0, 2 * D0):
        np.testing.assert_allclose(f(a, X), dense(a, D1, DM) @ X, rtol=1e-14)
    As = np.stack([D0, 2 * D0, D0 + 1])
    np.testing.assert_allclose(fr.vmap(lambda a: S.diags([a, D1, DM], OFFS) @ X)(As),
                               np.stack([dense(a, D1, DM) @ X for a in As]), rtol=1e-14)
    g = fr.jit(fr.grad(lambda a: np.sum(spsolve(S.diags([a, D1, DM], OFFS), X))))
    for a in (D0, 2 * D0):
        want = fr.grad(lambda a: np.sum(np.linalg.solve(dense(a, D1, DM), X)))(a)
        np.testing.assert_allclose(g(a), want, rtol=1e-9)


def test_errors():
    with pytest.raises(ValueError, match="Different number of diagonals and offsets"):
        S.diags([D0, D1], [0])
    with pytest.raises(ValueError, match="duplicate"):
        S.diags([D0, D0], [0, 0])
    with pytest.raises(ValueError, match="does not agree with array size"):
        S.diags([D0, D0[:2]], [0, 1])
    with pytest.raises(ValueError, match="dimension mismatch"):
        S.diags(D0) @ np.ones(3)
    with pytest.raises(NotImplementedError, match="two DiagonalMatrix"):
        S.diags(D0) @ S.diags(D0)
    with pytest.raises(NotImplementedError, match="same shape add"):
        S.diags(D0) + S.eye(3)
