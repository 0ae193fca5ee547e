"""frechet.scipy: differentiable SciPy functions."""

from frechet.scipy import linalg, sparse, special, stats  # noqa: F401
