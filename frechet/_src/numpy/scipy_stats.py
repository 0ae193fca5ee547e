"""frechet.scipy.stats: continuous distributions, differentiable in the point and the parameters.

Each distribution follows scipy.stats' call conventions (shape parameters positional or by
name, then `loc` and `scale`) and its handling of the edges: outside the support the density
is 0 (log-density -inf), the cdf 0 or 1; invalid parameters (scale <= 0, a shape out of range)
give NaN. Every formula is evaluated only at safe substitutes of the points it does not
cover, so neither values nor derivatives see a function outside its domain.

Where a derivative has no closed form (gamma.cdf in its shape `a`, t.cdf in `df`, ...) asking
for it raises NonDifferentiableError naming the distribution, the method and the parameter.
"""

from __future__ import annotations

import abc
import math
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
from frechet._src.errors import NonDifferentiableError, UnsupportedFunctionError
from frechet._src.numpy import scipy_special as S
from frechet._src.numpy import ufuncs as U
from frechet._src.numpy.base import asarray
from frechet._src.numpy.misc import where

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def no_closed_form_in(which: str, methods=("cdf", "logcdf", "sf", "logsf", "ppf", "isf")):
    """The `no_closed_form` table of a distribution: these methods lack a closed-form
    derivative in `which`."""
    return MappingProxyType(dict.fromkeys(methods, which))


def _and(a, b):
    return U.logical_and(a, b)


def _c_log(c, y, log=U.log, pos=None, fill=1.0):
    """c * log(y) (0 where c = 0), with its limits -inf or inf where y reaches 0 (`pos`: where
    y > 0), without evaluating log(0)."""
    pos = U.greater(y, 0) if pos is None else pos
    edge = where(U.equal(c, 0), 0.0, where(U.greater(c, 0), -np.inf, np.inf))
    safe = where(pos, U.multiply(c, log(where(pos, y, fill))), 0.0)
    return where(pos, safe, edge)


def _log0(y):
    """log(y) with log(0) = -inf, without the warning."""
    pos = U.greater(y, 0)
    return where(pos, U.log(where(pos, y, 1.0)), where(U.equal(y, 0), -np.inf, np.nan))


def _c_log1m(c, z):
    """c * log1p(-z), as _c_log."""
    return _c_log(c, z, log=lambda z: U.log1p(U.negative(z)), pos=U.less(z, 1),
                  fill=0.0)


def _log_density(parts, rest):
    """rest + sum_i c_i log(b_i), parts [(c_i, t_i, one_minus_i)] with b_i = t_i, or 1 - t_i
    (its log then log1p(-t_i))."""
    out = rest
    for c, t, one_minus in parts:
        out = U.add(out, _c_log1m(c, t) if one_minus else _c_log(c, t))
    return out


def _power_density(parts, rest):
    """exp(_log_density(parts, rest)), as prod_i b_i^c_i exp(rest) where every b_i is in [0, 1]
    with c_i >= 0 (and rest < 700: no overflow): the powers are exact with every derivative
    where a b_i is 0 (the density x e^-x has derivative 1 at x = 0; exp(log x - x), taken as 0
    there, has 0 at every order). Elsewhere through logs. Each form sees safe substitutes where
    it is not used (b_i = 1/2), so neither has the other's infinite derivatives."""
    bases = [U.subtract(1.0, t) if one_minus else t for _, t, one_minus in parts]
    near = U.less(rest, 700.0)
    for (c, _, _), b in zip(parts, bases):
        near = _and(near, _and(_and(U.greater_equal(b, 0), U.less_equal(b, 1)),
                                U.greater_equal(c, 0)))
    product = U.exp(where(near, rest, 0.0))
    for (c, _, _), b in zip(parts, bases):
        product = U.multiply(product, U.power(where(near, b, 0.5), c))
    far = [(c, where(near, 0.5, t), one_minus) for c, t, one_minus in parts]
    return where(near, product, U.exp(_log_density(far, rest)))


class PowerDensity:
    """A mixin for a density (or mass) prod_i b_i^c_i exp(rest) whose bases reach 0 at the
    ends of the support or of a parameter's range: `_parts` gives the terms, the log density
    and the density both come from them."""

    def _parts(self, z, *shapes):
        """([(c_i, t_i, one_minus_i)], rest): see _log_density."""
        raise NotImplementedError

    def _logpdf(self, z, *shapes):
        return _log_density(*self._parts(z, *shapes))

    def _logpmf(self, k, *shapes):
        return _log_density(*self._parts(k, *shapes))

    def _pdf(self, z, *shapes):
        return _power_density(*self._parts(z, *shapes))


class _Distribution(abc.ABC):
    """What continuous and discrete distributions share: parameter parsing, edge handling,
    freezing, sampling by SciPy."""

    name: ClassVar[str]
    shapes: ClassVar[tuple[str, ...]] = ()
    # the shape parameters with no closed-form derivative, per method
    no_closed_form: ClassVar[MappingProxyType] = MappingProxyType({})
    has_scale: ClassVar[bool] = True

    def _parse(self, args, kwds, method):
        """(shape parameters, loc, scale) from scipy.stats' positional-then-keyword form."""
        args = list(args)
        names = self.shapes + (("loc", "scale") if self.has_scale else ("loc",))
        if len(args) > len(names):
            raise TypeError(f"{self.name}.{method}() takes at most {len(names)} parameters "
                            f"({', '.join(names)}), got {len(args)}")
        values = dict(zip(names, args))
        for k, v in kwds.items():
            if k not in names:
                raise TypeError(f"{self.name}.{method}() got an unexpected keyword argument {k!r}")
            if k in values:
                raise TypeError(f"{self.name}.{method}() got multiple values for argument {k!r}")
            values[k] = v
        missing = [n for n in self.shapes if n not in values]
        if missing:
            raise TypeError(f"{self.name}.{method}() missing the shape parameter(s) "
                            f"{', '.join(missing)}")
        shapes = tuple(asarray(values[n], float) for n in self.shapes)
        return shapes, asarray(values.get("loc", 0.0), float), asarray(values.get("scale", 1.0),
                                                                          float)

    def _valid_shapes(self, *shapes):
        """Whether the shape parameters are in range (None: always)."""

    def _safe(self, shapes, scale):
        """The validity mask, and shapes and scale with safe values where invalid."""
        valid = U.greater(scale, 0)
        vs = self._valid_shapes(*shapes)
        if vs is not None:
            valid = _and(valid, vs)
            shapes = tuple(where(vs, s, self._safe_shape(i)) for i, s in enumerate(shapes))
        return valid, shapes, where(U.greater(scale, 0), scale, 1.0)

    def _safe_shape(self, i):
        return 1.0

    def _guard(self, method, fn):
        """fn(), with a missing closed form reported in this distribution's terms."""
        try:
            return fn()
        except NonDifferentiableError as e:
            which = self.no_closed_form.get(method)
            if which is None:
                raise
            raise NonDifferentiableError(
                f"frechet.scipy.stats.{self.name}.{method} has no closed-form derivative in "
                f"{which} ({e})") from e

    def rvs(self, *args, size=None, random_state=None, **kwds):
        """Random variates, by scipy.stats (plain NumPy: sampling is not differentiated)."""
        import scipy.stats
        return getattr(scipy.stats, self.name).rvs(*args, size=size, random_state=random_state,
                                                    **kwds)

    def __call__(self, *args, **kwds):
        """The distribution with its parameters fixed (scipy.stats' frozen distribution)."""
        return Frozen(self, args, kwds)

    def __repr__(self):
        return f"frechet.scipy.stats.{self.name}"


class Continuous(_Distribution):
    """A continuous distribution: the density of the standardised variable z = (x - loc) /
    scale, with its shape parameters, and as many of cdf, sf, ppf as have closed forms."""

    support: ClassVar[tuple[float, float]] = (-math.inf, math.inf)
    inside: ClassVar[float] = 0.0       # a point of the support (the safe substitute)

    @abc.abstractmethod
    def _logpdf(self, z, *shapes): ...

    def _cdf(self, z, *shapes):
        raise UnsupportedFunctionError(f"frechet.scipy.stats.{self.name} has no cdf (it has "
                                       "no closed form in frechet's special functions)")

    def _logcdf(self, z, *shapes):
        return _log0(self._cdf(z, *shapes))

    def _sf(self, z, *shapes):
        return U.subtract(1.0, self._cdf(z, *shapes))

    def _logsf(self, z, *shapes):
        return _log0(self._sf(z, *shapes))

    def _ppf(self, q, *shapes):
        raise UnsupportedFunctionError(f"frechet.scipy.stats.{self.name} has no ppf (it has "
                                       "no closed form in frechet's special functions)")

    def _isf(self, q, *shapes):
        return self._ppf(U.subtract(1.0, q), *shapes)

    def _standardise(self, x, args, kwds, method, closed):
        """z, the safe z, the mask of z in the support, validity, shapes, scale."""
        shapes, loc, scale = self._parse(args, kwds, method)
        valid, shapes, scale = self._safe(shapes, scale)
        z = U.divide(U.subtract(asarray(x, float), loc), scale)
        lo, hi = self.support
        if lo == -math.inf and hi == math.inf:
            return z, z, None, valid, shapes, scale
        cmp_lo, cmp_hi = (U.greater_equal, U.less_equal) if closed else (U.greater, U.less)
        inside = None
        if lo != -math.inf:
            inside = cmp_lo(z, lo)
        if hi != math.inf:
            inside = cmp_hi(z, hi) if inside is None else _and(inside, cmp_hi(z, hi))
        return z, where(inside, z, self.inside), inside, valid, shapes, scale

    @staticmethod
    def _finish(out, x, valid):
        return where(_and(valid, U.logical_not(U.isnan(x))), out, np.nan)

    def logpdf(self, x, *args, **kwds):
        """The log of the probability density at x."""
        def run():
            z, zs, inside, valid, shapes, scale = self._standardise(x, args, kwds, "logpdf",
                                                                      True)
            out = U.subtract(self._logpdf(zs, *shapes), U.log(scale))
            if inside is not None:
                out = where(inside, out, -np.inf)
            return self._finish(out, z, valid)
        return self._guard("logpdf", run)

    def pdf(self, x, *args, **kwds):
        """The probability density at x."""
        if not isinstance(self, PowerDensity):
            return U.exp(self.logpdf(x, *args, **kwds))

        def run():
            z, zs, inside, valid, shapes, scale = self._standardise(x, args, kwds, "pdf", True)
            out = U.divide(self._pdf(zs, *shapes), scale)
            if inside is not None:
                out = where(inside, out, 0.0)
            return self._finish(out, z, valid)
        return self._guard("pdf", run)

    def _tail(self, method, x, args, kwds, fn, below, above):
        """cdf-like methods: fn(z) inside the open support, `below`/`above` beyond it."""
        def run():
            z, zs, inside, valid, shapes, _ = self._standardise(x, args, kwds, method, False)
            out = fn(zs, *shapes)
            if inside is not None:
                lo, _hi = self.support
                out = where(inside, out, where(U.less_equal(z, lo), below, above)
                            if lo != -math.inf else above)
            return self._finish(out, z, valid)
        return self._guard(method, run)

    def cdf(self, x, *args, **kwds):
        """The cumulative distribution function at x."""
        return self._tail("cdf", x, args, kwds, self._cdf, 0.0, 1.0)

    def logcdf(self, x, *args, **kwds):
        """The log of the cumulative distribution function at x."""
        return self._tail("logcdf", x, args, kwds, self._logcdf, -np.inf, 0.0)

    def sf(self, x, *args, **kwds):
        """The survival function 1 - cdf at x."""
        return self._tail("sf", x, args, kwds, self._sf, 1.0, 0.0)

    def logsf(self, x, *args, **kwds):
        """The log of the survival function at x."""
        return self._tail("logsf", x, args, kwds, self._logsf, 0.0, -np.inf)

    def _quantile(self, method, q, args, kwds, fn, at0, at1):
        def run():
            shapes, loc, scale = self._parse(args, kwds, method)
            valid, shapes, scale = self._safe(shapes, scale)
            q_ = asarray(q, float)
            open_ = _and(U.greater(q_, 0), U.less(q_, 1))
            z = fn(where(open_, q_, 0.5), *shapes)
            z = where(open_, z, where(U.equal(q_, 0), at0, where(U.equal(q_, 1), at1, np.nan)))
            return self._finish(U.add(U.multiply(z, scale), loc), q_, valid)
        return self._guard(method, run)

    def ppf(self, q, *args, **kwds):
        """The quantile function (inverse of the cdf) at q."""
        lo, hi = self.support
        return self._quantile("ppf", q, args, kwds, self._ppf, lo, hi)

    def isf(self, q, *args, **kwds):
        """The inverse of the survival function at q."""
        lo, hi = self.support
        return self._quantile("isf", q, args, kwds, self._isf, hi, lo)


class Frozen:
    """A distribution with its parameters fixed: `norm(loc, scale).logpdf(x)`."""

    def __init__(self, dist: _Distribution, args: tuple, kwds: dict[str, Any]):
        self.dist, self.args, self.kwds = dist, args, kwds

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)
        f = getattr(self.dist, method)
        return lambda *a, **k: f(*a, *self.args, **self.kwds, **k)

    def __repr__(self):
        return f"{self.dist!r}(*{self.args}, **{self.kwds})"


class Symmetric(Continuous):
    """A distribution symmetric about 0 (in z): its upper tail is its lower tail mirrored."""

    def _sf(self, z, *shapes):
        return self._cdf(U.negative(z), *shapes)

    def _logsf(self, z, *shapes):
        return self._logcdf(U.negative(z), *shapes)

    def _isf(self, q, *shapes):
        return U.negative(self._ppf(q, *shapes))


# The distributions -----------------------------------------------------------------------------

class _Norm(Symmetric):
    name = "norm"

    def _logpdf(self, z):
        return U.subtract(U.multiply(-0.5, U.square(z)), _LOG_SQRT_2PI)

    def _cdf(self, z):
        return S.ndtr(z)

    def _logcdf(self, z):
        return S.log_ndtr(z)

    def _ppf(self, q):
        return S.ndtri(q)


class _T(Symmetric):
    name = "t"
    shapes = ("df",)
    no_closed_form = no_closed_form_in("its degrees of freedom 'df'")

    def _valid_shapes(self, df):
        return U.greater(df, 0)

    def _logpdf(self, z, df):
        return U.subtract(
            U.subtract(U.subtract(S.gammaln(U.multiply(0.5, U.add(df, 1))),
                                  S.gammaln(U.multiply(0.5, df))),
                       U.multiply(0.5, U.add(U.log(df), math.log(math.pi)))),
            U.multiply(U.multiply(0.5, U.add(df, 1)), U.log1p(U.divide(U.square(z), df))))

    def _cdf(self, z, df):
        return S.stdtr(df, z)

    def _ppf(self, q, df):
        return S.stdtrit(df, q)


class _Gamma(PowerDensity, Continuous):
    name = "gamma"
    shapes = ("a",)
    support = (0.0, math.inf)
    inside = 1.0
    no_closed_form = no_closed_form_in("its shape 'a'")

    def _valid_shapes(self, a):
        return U.greater(a, 0)

    def _parts(self, z, a):
        return [(U.subtract(a, 1.0), z, False)], U.subtract(U.negative(z), S.gammaln(a))

    def _cdf(self, z, a):
        return S.gammainc(a, z)

    def _sf(self, z, a):
        return S.gammaincc(a, z)

    def _ppf(self, q, a):
        return S.gammaincinv(a, q)

    def _isf(self, q, a):
        return S.gammainccinv(a, q)


class _Chi2(_Gamma):
    """chi2(df) is gamma(df / 2, scale=2)."""
    name = "chi2"
    shapes = ("df",)
    no_closed_form = no_closed_form_in("its degrees of freedom 'df'")

    def _parts(self, z, df):
        h = U.multiply(0.5, df)
        rest = U.subtract(U.subtract(U.multiply(-0.5, z), S.gammaln(h)),
                          U.multiply(h, math.log(2.0)))
        return [(U.subtract(h, 1.0), z, False)], rest

    def _cdf(self, z, df):
        return S.gammainc(U.multiply(0.5, df), U.multiply(0.5, z))

    def _sf(self, z, df):
        return S.gammaincc(U.multiply(0.5, df), U.multiply(0.5, z))

    def _ppf(self, q, df):
        return U.multiply(2.0, S.gammaincinv(U.multiply(0.5, df), q))

    def _isf(self, q, df):
        return U.multiply(2.0, S.gammainccinv(U.multiply(0.5, df), q))


class _Beta(PowerDensity, Continuous):
    name = "beta"
    shapes = ("a", "b")
    support = (0.0, 1.0)
    inside = 0.5
    no_closed_form = no_closed_form_in("its shapes 'a' and 'b'")

    def _valid_shapes(self, a, b):
        return _and(U.greater(a, 0), U.greater(b, 0))

    def _parts(self, z, a, b):
        return ([(U.subtract(a, 1.0), z, False), (U.subtract(b, 1.0), z, True)],
                U.negative(S.betaln(a, b)))

    def _cdf(self, z, a, b):
        return S.betainc(a, b, z)

    def _sf(self, z, a, b):
        return S.betainc(b, a, U.subtract(1.0, z))

    def _ppf(self, q, a, b):
        return S.betaincinv(a, b, q)

    def _isf(self, q, a, b):
        return U.subtract(1.0, S.betaincinv(b, a, q))


class _Expon(Continuous):
    name = "expon"
    support = (0.0, math.inf)
    inside = 1.0

    def _logpdf(self, z):
        return U.negative(z)

    def _cdf(self, z):
        return U.negative(U.expm1(U.negative(z)))

    def _logcdf(self, z):
        return _log0(self._cdf(z))

    def _sf(self, z):
        return U.exp(U.negative(z))

    def _logsf(self, z):
        return U.negative(z)

    def _ppf(self, q):
        return U.negative(U.log1p(U.negative(q)))

    def _isf(self, q):
        return U.negative(U.log(q))


class _Laplace(Symmetric):
    name = "laplace"

    def _logpdf(self, z):
        return U.subtract(U.negative(U.absolute(z)), math.log(2.0))

    def _cdf(self, z):
        e = U.exp(U.negative(U.absolute(z)))
        return where(U.greater(z, 0), U.subtract(1.0, U.multiply(0.5, e)), U.multiply(0.5, e))

    def _logcdf(self, z):
        e = U.exp(U.negative(U.absolute(z)))
        return where(U.greater(z, 0), U.log1p(U.multiply(-0.5, e)),
                     U.add(math.log(0.5), U.negative(U.absolute(z))))

    def _ppf(self, q):
        lower = U.less_equal(q, 0.5)
        return where(lower, U.log(U.multiply(2.0, where(lower, q, 0.25))),
                     U.negative(U.log(U.subtract(2.0, U.multiply(2.0, where(lower, 0.75, q))))))


class _Logistic(Symmetric):
    name = "logistic"

    def _logpdf(self, z):
        y = U.negative(U.absolute(z))
        return U.subtract(y, U.multiply(2.0, U.log1p(U.exp(y))))

    def _cdf(self, z):
        return S.expit(z)

    def _logcdf(self, z):
        return S.log_expit(z)

    def _ppf(self, q):
        return S.logit(q)


class _Cauchy(Continuous):
    name = "cauchy"

    def _logpdf(self, z):
        return U.subtract(-math.log(math.pi), U.log1p(U.square(z)))

    def _cdf(self, z):
        return U.add(0.5, U.multiply(1.0 / math.pi, U.arctan(z)))

    def _sf(self, z):
        return U.subtract(0.5, U.multiply(1.0 / math.pi, U.arctan(z)))

    def _ppf(self, q):
        return U.tan(U.subtract(U.multiply(math.pi, q), math.pi / 2.0))

    def _isf(self, q):
        return U.tan(U.subtract(math.pi / 2.0, U.multiply(math.pi, q)))


class _Uniform(Continuous):
    name = "uniform"
    support = (0.0, 1.0)
    inside = 0.5

    def _logpdf(self, z):
        return U.multiply(z, 0.0)

    def _cdf(self, z):
        return z

    def _sf(self, z):
        return U.subtract(1.0, z)

    def _ppf(self, q):
        return q

    def _isf(self, q):
        return U.subtract(1.0, q)


class _Lognorm(Continuous):
    name = "lognorm"
    shapes = ("s",)
    support = (0.0, math.inf)
    inside = 1.0

    def _valid_shapes(self, s):
        return U.greater(s, 0)

    def _logpdf(self, z, s):
        # Note: at z = 0 (on the closed support) the density is 0 as in SciPy; the safe
        # substitute keeps log(0) out of the formula.
        pos = U.greater(z, 0)
        zs = where(pos, z, 1.0)
        lz = U.log(zs)
        out = U.subtract(U.divide(U.negative(U.square(lz)), U.multiply(2.0, U.square(s))),
                         U.add(U.add(U.log(s), lz), _LOG_SQRT_2PI))
        return where(pos, out, -np.inf)

    def _cdf(self, z, s):
        return S.ndtr(U.divide(U.log(z), s))

    def _logcdf(self, z, s):
        return S.log_ndtr(U.divide(U.log(z), s))

    def _sf(self, z, s):
        return S.ndtr(U.divide(U.negative(U.log(z)), s))

    def _logsf(self, z, s):
        return S.log_ndtr(U.divide(U.negative(U.log(z)), s))

    def _ppf(self, q, s):
        return U.exp(U.multiply(s, S.ndtri(q)))

    def _isf(self, q, s):
        return U.exp(U.multiply(s, U.negative(S.ndtri(q))))


class _Vonmises(Continuous):
    """The von Mises distribution on [-pi, pi] (scaled and shifted like SciPy's). Its cdf and
    quantiles have no closed form: only logpdf and pdf."""
    name = "vonmises"
    shapes = ("kappa",)
    support = (-math.pi, math.pi)

    def _valid_shapes(self, kappa):
        return U.greater(kappa, 0)

    def _logpdf(self, z, kappa):
        # kappa (cos z - 1) - log(2 pi i0e(kappa)); cos z - 1 = -2 sin^2(z/2) without cancellation
        cosm1 = U.multiply(-2.0, U.square(U.sin(U.multiply(0.5, z))))
        return U.subtract(U.multiply(kappa, cosm1),
                          U.add(math.log(2 * math.pi), U.log(S.i0e(kappa))))


norm = _Norm()
t = _T()
gamma = _Gamma()
chi2 = _Chi2()
beta = _Beta()
expon = _Expon()
laplace = _Laplace()
logistic = _Logistic()
cauchy = _Cauchy()
uniform = _Uniform()
lognorm = _Lognorm()
vonmises = _Vonmises()
