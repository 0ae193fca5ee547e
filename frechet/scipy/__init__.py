"""frechet.scipy: differentiable SciPy functions."""

from frechet.scipy import linalg, signal, sparse, special  # noqa: F401
