"""Derivatives as operators: sparse matrices on traced values, frechet.linalg.solve, spsolve."""

import numpy as np
import pytest
import scipy.sparse as sp

import frechet as fr
from frechet.linalg import CG, GMRES, LSQR, BiCGStab, Cholesky, Dense, SparseDirect, solve
from frechet.scipy.sparse.linalg import spsolve

RNG = np.random.default_rng(0)
A_SP = (sp.random_array((5, 5), density=0.4, random_state=1, format="csr")
        + 4 * sp.eye_array(5)).tocsr()
M = A_SP.toarray()
SPD = M @ M.T
B = RNG.standard_normal(5)


def test_sparse_matrices_are_constant_linear_maps():
    x = RNG.standard_normal(5)
    np.testing.assert_allclose(fr.grad(lambda x: np.sum(np.sin(A_SP @ x)))(x),
                               M.T @ np.cos(M @ x), rtol=1e-14)
    np.testing.assert_allclose(fr.grad(lambda x: np.sum((x @ A_SP) ** 2))(x),
                               2 * M @ (x @ M), rtol=1e-14)
    np.testing.assert_allclose(fr.jit(lambda x: A_SP @ x)(x), M @ x, rtol=1e-14)
    xs = np.stack([x, 2 * x, -x])
    np.testing.assert_allclose(fr.vmap(lambda x: A_SP @ x)(xs), xs @ M.T, rtol=1e-14)
    _, lin = fr.linearize(lambda x: A_SP @ x, x)
    w = RNG.standard_normal(5)
    np.testing.assert_allclose(np.vdot(lin(x), w), np.vdot(x, lin.T(w)), rtol=1e-13)
    X = RNG.standard_normal((5, 2))
    np.testing.assert_allclose(fr.grad(lambda X: np.sum(A_SP @ X))(X),
                               np.tile(M.sum(0)[:, None], (1, 2)), rtol=1e-14)


@pytest.mark.parametrize("solver, matrix", [
    (Dense(), M), (GMRES(rtol=1e-13), M), (BiCGStab(rtol=1e-13), M), (LSQR(), M),
    (Cholesky(), SPD), (CG(rtol=1e-13), SPD), (SparseDirect(), A_SP), (GMRES(rtol=1e-13), A_SP),
], ids=["dense", "gmres", "bicgstab", "lsqr", "cholesky", "cg", "sparse-direct", "sparse-gmres"])
def test_solve_and_its_derivatives(solver, matrix):
    dense = matrix.toarray() if sp.issparse(matrix) else matrix
    np.testing.assert_allclose(solve(matrix, B, solver), np.linalg.solve(dense, B), rtol=1e-9)

    def loss(b):
        return np.sum(np.sin(solve(matrix, b, solver)))
    want = fr.grad(lambda b: np.sum(np.sin(np.linalg.solve(dense, b))))(B)
    np.testing.assert_allclose(fr.grad(loss)(B), want, rtol=1e-8, atol=1e-10)
    if not sp.issparse(matrix):      # and in the matrix itself
        got = fr.grad(lambda a: np.sum(np.sin(solve(a, B, solver))))(dense)
        want_a = fr.grad(lambda a: np.sum(np.sin(np.linalg.solve(a, B))))(dense)
        np.testing.assert_allclose(got, want_a, rtol=1e-8, atol=1e-10)


def test_solve_with_a_function_or_linear_map_that_depends_on_traced_values():
    def loss(theta, b):
        return np.sum(np.sin(solve(lambda v: M @ v + theta * v, b, GMRES(rtol=1e-13))))

    def ref(theta, b):
        return np.sum(np.sin(np.linalg.solve(M + theta * np.eye(5), b)))
    for argnums in (0, 1):
        np.testing.assert_allclose(fr.grad(loss, argnums)(0.7, B), fr.grad(ref, argnums)(0.7, B),
                                   rtol=1e-8)
    _, lin = fr.linearize(lambda v: np.tanh(v) * 3.0, B)
    np.testing.assert_allclose(solve(lin, B), B / (3 * (1 - np.tanh(B) ** 2)), rtol=1e-10)
    # second order, under jit, batched, several right-hand sides
    np.testing.assert_allclose(fr.hessian(lambda b: np.sum(solve(M, b) ** 2))(B),
                               fr.hessian(lambda b: np.sum(np.linalg.solve(M, b) ** 2))(B),
                               rtol=1e-10)
    np.testing.assert_allclose(fr.jit(fr.grad(lambda a: np.sum(solve(a, B) ** 2)))(M),
                               fr.grad(lambda a: np.sum(np.linalg.solve(a, B) ** 2))(M),
                               rtol=1e-10)
    bs = RNG.standard_normal((3, 5))
    np.testing.assert_allclose(fr.vmap(lambda b: solve(M, b))(bs), np.linalg.solve(M, bs.T).T,
                               rtol=1e-10)
    np.testing.assert_allclose(solve(M, bs.T), np.linalg.solve(M, bs.T), rtol=1e-10)


def test_spsolve_and_as_operator():
    np.testing.assert_allclose(fr.grad(lambda b: np.sum(spsolve(A_SP, b) ** 2))(B),
                               2 * np.linalg.solve(M.T, np.linalg.solve(M, B)), rtol=1e-10)
    with pytest.raises(TypeError, match="sparse"):
        solve(M, B, SparseDirect())
    _, lin = fr.linearize(lambda x: A_SP @ np.sin(x), B)
    op = lin.as_operator()
    v = RNG.standard_normal(5)
    np.testing.assert_allclose(op @ v, M @ (np.cos(B) * v), rtol=1e-13)
    np.testing.assert_allclose(op.T @ v, np.cos(B) * (M.T @ v), rtol=1e-13)
