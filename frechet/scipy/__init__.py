"""frechet.scipy: differentiable SciPy functions."""

from frechet.scipy import interpolate, linalg, signal, sparse, special  # noqa: F401
