"""frechet.bounds: verified Taylor enclosures of plain NumPy code (AutoBound's algorithm).

`taylor_bound(f, x0, region, degree)` returns exact Taylor coefficients of f at x0 and an
interval remainder valid over the whole region, with outward rounding. `SafeRate` and
`minimize` take gradient steps sized by such a bound, so the loss never increases;
`UniversalMM` sizes each block of parameters' step (per leaf or per element) from one
multivariate bound.
`global_minimum` and `integral` give certified intervals for the minimum of a function of one
variable over an interval and for its integral.
"""

from frechet._src.bounds.mm import UniversalMM
from frechet._src.bounds.safe_rate import SafeRate, minimize
from frechet._src.bounds.taylor_bound import TaylorEnclosure, taylor_bound
from frechet._src.bounds.verified import global_minimum, integral

__all__ = ["SafeRate", "TaylorEnclosure", "UniversalMM", "global_minimum", "integral",
           "minimize", "taylor_bound"]
