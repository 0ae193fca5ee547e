"""frechet.scipy: differentiable SciPy functions."""

from frechet.scipy import interpolate, linalg, signal, sparse, special, stats  # noqa: F401
