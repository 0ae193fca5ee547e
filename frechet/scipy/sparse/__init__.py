"""frechet.scipy.sparse: SciPy sparse matrices as constant linear maps on traced values, and
diagonal-format matrices whose diagonals may be traced (diags, diags_array, spdiags, eye,
eye_array, identity return a DiagonalMatrix; see frechet/_src/numpy/scipy_sparse.py for what it
supports)."""

from frechet._src.numpy.scipy_sparse import (  # noqa: F401
    DiagonalMatrix,
    diags,
    diags_array,
    eye,
    eye_array,
    identity,
    spdiags,
)
from frechet.scipy.sparse import linalg  # noqa: F401
