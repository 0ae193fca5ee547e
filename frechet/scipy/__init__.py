"""frechet.scipy: differentiable SciPy functions."""

from frechet.scipy import linalg, sparse, special  # noqa: F401
