"""frechet.optimize: SciPy's optimisers on NumPy functions of pytrees, with exact derivatives."""

from frechet._src.optimize import minimize

__all__ = ["minimize"]
