"""frechet.bounds: verified Taylor enclosures of plain NumPy code (AutoBound's algorithm).

`taylor_bound(f, x0, region, degree)` returns exact Taylor coefficients of f at x0 and an
interval remainder valid over the whole region, with outward rounding.
"""

from frechet._src.bounds.taylor_bound import TaylorEnclosure, taylor_bound

__all__ = ["TaylorEnclosure", "taylor_bound"]
