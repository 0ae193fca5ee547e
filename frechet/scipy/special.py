"""frechet.scipy.special: differentiable special functions."""

from frechet._src.numpy.scipy_special import (  # noqa: F401
    digamma,
    entr,
    erf,
    erfc,
    erfinv,
    expit,
    gammaln,
    i0,
    i1,
    log_softmax,
    logit,
    logsumexp,
    polygamma,
    psi,
    softmax,
    xlog1py,
    xlogy,
)
