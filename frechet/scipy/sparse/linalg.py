"""frechet.scipy.sparse.linalg: a differentiable spsolve."""

from frechet._src.lax.linear_solve import SparseDirect, solve
from frechet._src.numpy.scipy_sparse import BandedDirect, DiagonalMatrix


def spsolve(A, b, permc_spec=None, use_umfpack=True):
    """scipy.sparse.linalg.spsolve(A, b), differentiable in b, and in the diagonals when A is a
    DiagonalMatrix (frechet.scipy.sparse.diags); a SciPy sparse A is a constant (for a matrix
    that depends on traced values otherwise, use frechet.linalg.solve)."""
    if isinstance(A, DiagonalMatrix):
        return solve(A, b, BandedDirect(A.bandwidth))
    return solve(A, b, SparseDirect())


__all__ = ["BandedDirect", "spsolve"]
