"""frechet.scipy.stats: discrete distributions (poisson, binom, nbinom), differentiable in their
parameters (their mass functions extend smoothly in them; in the count the derivative is 0).

As in scipy.stats, a discrete distribution has `loc` but no `scale`; the mass is 0 (log-mass
-inf) off the integers of the support, the cdf steps at them.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import numpy as np
from frechet._src.numpy import scipy_special as S
from frechet._src.numpy import ufuncs as U
from frechet._src.numpy.base import asarray
from frechet._src.numpy.misc import where
from frechet._src.numpy.scipy_stats import (
    PowerDensity,
    _and,
    _Distribution,
    _log0,
    no_closed_form_in,
)

_TAILS = ("cdf", "logcdf", "sf", "logsf")


class Discrete(_Distribution):
    """A discrete distribution on the integers lo..hi(shapes): its log-mass and cdf."""

    has_scale = False
    inside: ClassVar[float] = 0.0       # a point of the support (the safe substitute)

    @abc.abstractmethod
    def _logpmf(self, k, *shapes): ...

    @abc.abstractmethod
    def _cdf(self, k, *shapes): ...

    def _sf(self, k, *shapes):
        return U.subtract(1.0, self._cdf(k, *shapes))

    def _upper(self, *shapes):
        """The last point of the support (None: unbounded)."""

    def _prepare(self, k, args, kwds, method):
        shapes, loc, _ = self._parse(args, kwds, method)
        valid, shapes, _ = self._safe(shapes, np.ones(()))
        k = U.subtract(asarray(k, float), loc)
        hi = self._upper(*shapes)
        return k, valid, shapes, hi

    @staticmethod
    def _inside(k, hi):
        """k on the integers of the support."""
        inside = _and(U.greater_equal(k, 0), U.equal(U.floor(k), k))
        return inside if hi is None else _and(inside, U.less_equal(k, hi))

    @staticmethod
    def _finish(out, k, valid):
        return where(_and(valid, U.logical_not(U.isnan(k))), out, np.nan)

    def logpmf(self, k, *args, **kwds):
        """The log of the probability mass at k."""
        def run():
            k_, valid, shapes, hi = self._prepare(k, args, kwds, "logpmf")
            inside = self._inside(k_, hi)
            out = where(inside, self._logpmf(where(inside, k_, self.inside), *shapes), -np.inf)
            return self._finish(out, k_, valid)
        return self._guard("logpmf", run)

    def pmf(self, k, *args, **kwds):
        """The probability mass at k."""
        if not isinstance(self, PowerDensity):
            return U.exp(self.logpmf(k, *args, **kwds))

        def run():
            k_, valid, shapes, hi = self._prepare(k, args, kwds, "pmf")
            inside = self._inside(k_, hi)
            out = where(inside, self._pdf(where(inside, k_, self.inside), *shapes), 0.0)
            return self._finish(out, k_, valid)
        return self._guard("pmf", run)

    def _tail(self, method, k, args, kwds, fn, below, above):
        def run():
            k_, valid, shapes, hi = self._prepare(k, args, kwds, method)
            k_ = U.floor(k_)
            inside = U.greater_equal(k_, 0)
            if hi is not None:
                inside = _and(inside, U.less(k_, hi))
            out = fn(where(inside, k_, self.inside), *shapes)
            out = where(inside, out, where(U.less(k_, 0), below, above))
            return self._finish(out, k_, valid)
        return self._guard(method, run)

    def cdf(self, k, *args, **kwds):
        """The cumulative distribution function at k."""
        return self._tail("cdf", k, args, kwds, self._cdf, 0.0, 1.0)

    def logcdf(self, k, *args, **kwds):
        """The log of the cumulative distribution function at k."""
        return self._tail("logcdf", k, args, kwds, lambda *a: _log0(self._cdf(*a)), -np.inf, 0.0)

    def sf(self, k, *args, **kwds):
        """The survival function 1 - cdf at k."""
        return self._tail("sf", k, args, kwds, self._sf, 1.0, 0.0)

    def logsf(self, k, *args, **kwds):
        """The log of the survival function at k."""
        return self._tail("logsf", k, args, kwds, lambda *a: _log0(self._sf(*a)), 0.0, -np.inf)


class _Poisson(PowerDensity, Discrete):
    name = "poisson"
    shapes = ("mu",)

    def _valid_shapes(self, mu):
        return U.greater_equal(mu, 0)

    def _parts(self, k, mu):
        return [(k, mu, False)], U.subtract(U.negative(S.gammaln(U.add(k, 1.0))), mu)

    def _cdf(self, k, mu):
        return S.gammaincc(U.add(k, 1.0), mu)

    def _sf(self, k, mu):
        return S.gammainc(U.add(k, 1.0), mu)


class _Binom(PowerDensity, Discrete):
    name = "binom"
    shapes = ("n", "p")
    no_closed_form = no_closed_form_in("its number of trials 'n'", _TAILS)

    def _valid_shapes(self, n, p):
        return _and(_and(U.greater_equal(n, 0), U.equal(U.floor(n), n)),
                    _and(U.greater_equal(p, 0), U.less_equal(p, 1)))

    def _safe_shape(self, i):
        return 0.5

    def _upper(self, n, p):
        return n

    def _parts(self, k, n, p):
        comb = U.subtract(S.gammaln(U.add(n, 1.0)),
                          U.add(S.gammaln(U.add(k, 1.0)), S.gammaln(U.add(U.subtract(n, k), 1.0))))
        return [(k, p, False), (U.subtract(n, k), p, True)], comb

    def _cdf(self, k, n, p):
        return S.betainc(U.subtract(n, k), U.add(k, 1.0), U.subtract(1.0, p))

    def _sf(self, k, n, p):
        return S.betainc(U.add(k, 1.0), U.subtract(n, k), p)


class _Nbinom(PowerDensity, Discrete):
    name = "nbinom"
    shapes = ("n", "p")
    no_closed_form = no_closed_form_in("its number of successes 'n'", _TAILS)

    def _valid_shapes(self, n, p):
        return _and(U.greater(n, 0), _and(U.greater(p, 0), U.less_equal(p, 1)))

    def _safe_shape(self, i):
        return 0.5

    def _parts(self, k, n, p):
        coeff = U.subtract(U.subtract(S.gammaln(U.add(n, k)), S.gammaln(U.add(k, 1.0))),
                           S.gammaln(n))
        return [(n, p, False), (k, p, True)], coeff

    def _cdf(self, k, n, p):
        return S.betainc(n, U.add(k, 1.0), p)

    def _sf(self, k, n, p):
        return S.betainc(U.add(k, 1.0), n, U.subtract(1.0, p))


poisson = _Poisson()
binom = _Binom()
nbinom = _Nbinom()
