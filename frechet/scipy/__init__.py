"""frechet.scipy: differentiable SciPy functions."""

from frechet.scipy import linalg, special  # noqa: F401
