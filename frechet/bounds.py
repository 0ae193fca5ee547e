"""frechet.bounds: verified Taylor enclosures of plain NumPy code (AutoBound's algorithm).

`taylor_bound(f, x0, region, degree)` returns exact Taylor coefficients of f at x0 and an
interval remainder valid over the whole region, with outward rounding. `SafeRate` and
`minimize` take gradient steps sized by such a bound, so the loss never increases.
"""

from frechet._src.bounds.safe_rate import SafeRate, minimize
from frechet._src.bounds.taylor_bound import TaylorEnclosure, taylor_bound

__all__ = ["SafeRate", "TaylorEnclosure", "minimize", "taylor_bound"]
