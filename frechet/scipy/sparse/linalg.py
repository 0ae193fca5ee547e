"""frechet.scipy.sparse.linalg: a differentiable spsolve."""

from frechet._src.transforms.linear_solve import SparseDirect, solve


def spsolve(A, b, permc_spec=None, use_umfpack=True):
    """scipy.sparse.linalg.spsolve(A, b), differentiable in b (A is a constant sparse matrix;
    for a matrix that depends on traced values use frechet.linalg.solve)."""
    return solve(A, b, SparseDirect())


__all__ = ["spsolve"]
