"""frechet.scipy.sparse: SciPy sparse matrices as constant linear maps on traced values."""

from frechet.scipy.sparse import linalg  # noqa: F401
