"""frechet.scipy.stats: differentiable distributions with scipy.stats' call conventions.

`logpdf`/`pdf` (`logpmf`/`pmf` for discrete ones), `cdf`, `logcdf`, `sf`, `logsf`, and for
continuous ones `ppf`/`isf` where a closed form exists; `rvs` samples with scipy.stats. Calling a
distribution with parameters freezes them: `norm(loc, scale).logpdf(x)`.
"""

from frechet._src.numpy.scipy_stats import (  # noqa: F401
    beta,
    cauchy,
    chi2,
    expon,
    gamma,
    laplace,
    logistic,
    lognorm,
    norm,
    t,
    uniform,
    vonmises,
)
from frechet._src.numpy.scipy_stats_discrete import binom, nbinom, poisson  # noqa: F401
from frechet._src.numpy.scipy_stats_multivariate import dirichlet, multivariate_normal  # noqa: F401
