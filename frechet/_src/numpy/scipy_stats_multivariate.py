"""frechet.scipy.stats: multivariate_normal and dirichlet (log-density and density),
differentiable in the point, the mean, the covariance and the concentrations."""

from __future__ import annotations

import math

import numpy as np
from frechet._src.core.trace import Tracer
from frechet._src.errors import UnsupportedFunctionError
from frechet._src.numpy import scipy_special as S
from frechet._src.numpy import ufuncs as U
from frechet._src.numpy.base import asarray, shape_of
from frechet._src.numpy.linalg import cholesky
from frechet._src.numpy.manipulation import concatenate, diagonal, reshape, squeeze, transpose
from frechet._src.numpy.misc import where
from frechet._src.numpy.reductions import all as _all
from frechet._src.numpy.reductions import prod as _prod
from frechet._src.numpy.reductions import sum as _sum
from frechet._src.numpy.scipy_linalg import solve_triangular
from frechet._src.numpy.scipy_stats import Frozen, _and, _c_log


class _MultivariateNormal:
    """The multivariate normal distribution (scipy.stats.multivariate_normal's conventions:
    x of shape (..., d), or (n,) for n points when d = 1; cov a scalar, a diagonal or a
    matrix)."""

    name = "multivariate_normal"

    @staticmethod
    def _process(x, mean, cov):
        cov = asarray(cov, float)
        if mean is not None:
            mean = asarray(mean, float)
            d = shape_of(mean)[0] if len(shape_of(mean)) else 1
        else:
            d = shape_of(cov)[0] if len(shape_of(cov)) else 1
            mean = np.zeros(d)
        mean = reshape(mean, (d,))
        if len(shape_of(cov)) == 0:
            cov = U.multiply(cov, np.eye(d))
        elif len(shape_of(cov)) == 1:
            cov = U.multiply(cov, np.eye(d))         # its diagonal
        x = asarray(x, float)
        if len(shape_of(x)) == 0:
            x = reshape(x, (1,))
        elif len(shape_of(x)) == 1:
            x = reshape(x, (-1, 1)) if d == 1 else reshape(x, (1, d))
        return x, mean, cov, d

    def logpdf(self, x, mean=None, cov=1, allow_singular=False):
        """The log-density at x (points along the last axis).

        Example:
          >>> import numpy as np, frechet
          >>> float(multivariate_normal.logpdf(np.zeros(2), np.zeros(2), np.eye(2)))
          -1.8378770664093453
        """
        if allow_singular:
            # Note: the pseudo-determinant form of singular covariances is not implemented.
            raise UnsupportedFunctionError("frechet.scipy.stats.multivariate_normal: "
                                           "allow_singular=True is not supported")
        x, mean, cov, d = self._process(x, mean, cov)
        chol = cholesky(cov)
        dev = U.subtract(x, mean)
        lead = shape_of(dev)[:-1]
        w = solve_triangular(chol, transpose(reshape(dev, (-1, d))), lower=True)
        maha = reshape(_sum(U.square(w), axis=0), lead)
        half_logdet = _sum(U.log(diagonal(chol)))
        out = U.subtract(U.multiply(-0.5, U.add(maha, d * math.log(2 * math.pi))), half_logdet)
        return squeeze(out)      # as SciPy: one point gives a scalar

    def pdf(self, x, mean=None, cov=1, allow_singular=False):
        """The density at x."""
        return U.exp(self.logpdf(x, mean, cov, allow_singular))

    def rvs(self, mean=None, cov=1, size=1, random_state=None):
        """Random variates, by scipy.stats (plain NumPy)."""
        import scipy.stats
        return scipy.stats.multivariate_normal.rvs(mean, cov, size, random_state)

    def __call__(self, mean=None, cov=1, allow_singular=False):
        return Frozen(self, (), {"mean": mean, "cov": cov, "allow_singular": allow_singular})


class _Dirichlet:
    """The Dirichlet distribution (scipy.stats.dirichlet's conventions: x's first axis holds
    the K components, or K - 1 of them with the last one implied)."""

    name = "dirichlet"

    def logpdf(self, x, alpha):
        """The log-density at x.

        Example:
          >>> import numpy as np
          >>> float(dirichlet.logpdf(np.array([0.2, 0.3, 0.5]), np.array([1.0, 2.0, 3.0])))
          1.5040773967762737
        """
        x, a, log_norm = self._process(x, alpha)
        return U.subtract(_sum(_c_log(U.subtract(a, 1.0), x), axis=0), log_norm)

    def pdf(self, x, alpha):
        """The density at x: a product of powers x_i^(a_i - 1) where every a_i >= 1 (exact,
        with every derivative, where an x_i is 0: exp of the log-density has derivative 0
        there), else exp of the log-density."""
        x, a, log_norm = self._process(x, alpha)
        c = U.subtract(a, 1.0)
        near = _and(U.less(U.negative(log_norm), 700.0), _all(U.greater_equal(c, 0)))
        product = U.exp(where(near, U.negative(log_norm), 0.0))
        product = U.multiply(product, _prod(U.power(where(near, x, 0.5), c), axis=0))
        far = U.subtract(_sum(_c_log(c, where(near, 0.5, x)), axis=0), log_norm)
        return where(near, product, U.exp(far))

    @staticmethod
    def _process(x, alpha):
        """x with its last component filled in, alpha shaped to broadcast with it, the log of
        the normalisation."""
        alpha = asarray(alpha, float)
        x = asarray(x, float)
        k = shape_of(alpha)[0]
        if shape_of(x)[0] == k - 1:
            rest = U.subtract(1.0, _sum(x, axis=0, keepdims=True))
            x = concatenate([x, rest], axis=0)
        if not isinstance(x, Tracer):
            xv = np.asarray(x)
            if np.any(xv < 0) or np.any(xv > 1) or np.any(np.abs(np.sum(xv, 0) - 1) > 1e-9):
                raise ValueError("dirichlet: each x must lie in the simplex (entries in [0, 1] "
                                 "summing to 1 along the first axis)")
        # Note: traced x is not checked against the simplex (that needs concrete values).
        a = reshape(alpha, (k,) + (1,) * (len(shape_of(x)) - 1))
        log_norm = U.subtract(_sum(S.gammaln(alpha)), S.gammaln(_sum(alpha)))
        return x, a, log_norm

    def rvs(self, alpha, size=1, random_state=None):
        """Random variates, by scipy.stats (plain NumPy)."""
        import scipy.stats
        return scipy.stats.dirichlet.rvs(alpha, size, random_state)

    def __call__(self, alpha):
        return Frozen(self, (), {"alpha": alpha})


multivariate_normal = _MultivariateNormal()
dirichlet = _Dirichlet()
