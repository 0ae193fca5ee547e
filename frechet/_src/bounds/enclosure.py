"""Taylor enclosures in one variable: v(x) in sum_{i<d} c_i z^i + C_d z^d for all x in the trust
region, z = x - x0 in Z = [a - x0, b - x0].

An enclosure is a list of d + 1 intervals (interval.py) of the value's shape: the first d hold
the Taylor coefficients (points up to rounding, kept as intervals so that rounding stays
inside), the last the remainder interval. Arithmetic follows Streeter and Dillon's AutoBound:
sums coefficientwise, products by Cauchy products whose terms past degree d are folded into the
remainder by interval evaluation over Z ("truncation"), and compositions with elementwise
functions through those functions' own one-dimensional enclosures (elementary.py).
"""

from __future__ import annotations

import numpy as np

from frechet._src.bounds import interval as iv


class Region:
    """z's interval, Z = [a - x0, b - x0], and the degree d of the remainder term."""

    __slots__ = ("d", "z")

    def __init__(self, z, d):
        self.z, self.d = z, d


def constant(value, region: Region):
    value = np.asarray(value, dtype=np.float64)
    zero = iv.point(np.zeros_like(value))
    return [iv.point(value)] + [zero] * region.d


def truncate(terms, region: Region):
    """A polynomial of any length as d + 1 intervals: the terms from degree d on, divided by
    z^d, evaluated over Z and summed into the last."""
    d = region.d
    if len(terms) <= d + 1:
        shape = np.broadcast(*terms[0]).shape
        return list(terms) + [iv.point(np.zeros(shape))] * (d + 1 - len(terms))
    tail = terms[d]
    for i in range(d + 1, len(terms)):
        tail = iv.add(tail, iv.mul(terms[i], iv.power(region.z, i - d)))
    return list(terms[:d]) + [tail]


def value_range(terms, region: Region):
    """The interval of the enclosed value over the region (degree-0 truncation)."""
    out = terms[0]
    for i in range(1, len(terms)):
        out = iv.add(out, iv.mul(terms[i], iv.power(region.z, i)))
    return out


def add(a, b):
    return [iv.add(x, y) for x, y in zip(a, b)]


def neg(a):
    return [iv.neg(x) for x in a]


def sub(a, b):
    return [iv.sub(x, y) for x, y in zip(a, b)]


def mul(a, b, region: Region):
    d = region.d
    out = [None] * (2 * d + 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            if _zero(x) or _zero(y):
                continue
            p = iv.mul(x, y)
            out[i + j] = p if out[i + j] is None else iv.add(out[i + j], p)
    shape = np.broadcast(*a[0], *b[0]).shape
    zero = iv.point(np.zeros(shape))
    return truncate([zero if t is None else t for t in out], region)


def scale(a, c):
    """Each term times the interval (or point array) c, elementwise."""
    c = c if isinstance(c, tuple) else iv.point(c)
    return [iv.mul(x, c) for x in a]


def power(a, n: int, region: Region):
    out = None
    for _ in range(n):
        out = a if out is None else mul(out, a, region)
    return out


def _zero(x):
    return not np.any(x[0]) and not np.any(x[1])


def compose(coefficients, base, region: Region):
    """sum_p s_p (g - y0)^p for the one-dimensional enclosure s = (s_0..s_{d-1}, S_d) of a
    function at y0 (intervals, elementwise) and g's enclosure `base`, y0 taken out of its
    constant term."""
    terms, y0 = coefficients
    delta = [iv.sub(base[0], iv.point(y0))] + list(base[1:])
    out = [terms[0]] + [iv.point(np.zeros(np.broadcast(*base[0]).shape))] * region.d
    # an unbounded remainder (the function's domain ends inside the range) makes the result's
    # remainder unbounded; it is kept out of the products, where it would meet rounding noise
    last = terms[-1]
    unbounded = ~(np.isfinite(last[0]) & np.isfinite(last[1]))
    terms = list(terms[:-1]) + [(np.where(unbounded, 0.0, last[0]),
                                 np.where(unbounded, 0.0, last[1]))]
    power_p = None
    for s in terms[1:]:
        power_p = delta if power_p is None else mul(power_p, delta, region)
        out = add(out, scale(power_p, s))
    if np.any(unbounded):
        out[-1] = (np.where(unbounded, -np.inf, out[-1][0]), np.where(unbounded, np.inf, out[-1][1]))
    return out
