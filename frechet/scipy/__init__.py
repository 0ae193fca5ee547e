"""frechet.scipy: differentiable SciPy functions."""

from frechet.scipy import special  # noqa: F401
