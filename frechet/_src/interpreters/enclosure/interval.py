"""Intervals of arrays, (lo, hi) elementwise, with outward rounding: every operation moves its
lower end down and its upper end up by one ulp, which covers round-to-nearest's half-ulp error,
so a computed interval contains the exact result of the operation on any points of its inputs.
"""

from __future__ import annotations

import numpy as np

_INF = np.inf


def down(x):
    return np.nextafter(x, -_INF)


def up(x):
    return np.nextafter(x, _INF)


def point(x):
    x = np.asarray(x, dtype=np.float64)
    return (x, x)


def add(a, b):
    return down(a[0] + b[0]), up(a[1] + b[1])


def neg(a):
    return -a[1], -a[0]


def sub(a, b):
    return down(a[0] - b[1]), up(a[1] - b[0])


def mul(a, b):
    """The hull of the four end products. A product 0 * inf is NaN where the exact product is 0;
    fmin/fmax skip it, which is sound: another end product is then 0 or the hull is unbounded on
    both sides, unless all four are NaN (a zero times an unbounded interval), which gives 0."""
    with np.errstate(invalid="ignore"):
        p = [x * y for x in a for y in b] if a[0] is not a[1] else [a[0] * b[0], a[0] * b[1]]
    lo = np.fmin(np.fmin(p[0], p[1]), np.fmin(p[2], p[3])) if len(p) == 4 else np.fmin(*p)
    hi = np.fmax(np.fmax(p[0], p[1]), np.fmax(p[2], p[3])) if len(p) == 4 else np.fmax(*p)
    if np.isnan(lo).any():
        lo, hi = np.where(np.isnan(lo), 0.0, lo), np.where(np.isnan(hi), 0.0, hi)
    return down(lo), up(hi)


def power(a, n: int):
    """a^n for an integer n >= 0, tight: even powers of an interval containing 0 start at 0."""
    if n == 0:
        return point(np.ones(np.broadcast(*a).shape))
    lo, hi = a
    pl, ph = lo ** n, hi ** n
    if n % 2:
        return down(pl), up(ph)
    top = np.maximum(pl, ph)
    bottom = np.where((lo <= 0) & (hi >= 0), 0.0, np.minimum(pl, ph))
    return down(bottom), up(top)


def widen(a, rel, absolute=0.0):
    """a padded by rel * |ends| + absolute on each side (for values computed with error)."""
    return (down(a[0] - rel * np.abs(a[0]) - absolute), up(a[1] + rel * np.abs(a[1]) + absolute))


def intersect(a, b):
    return np.maximum(a[0], b[0]), np.minimum(a[1], b[1])


def hull(*values):
    return np.minimum.reduce(values), np.maximum.reduce(values)


def mid(a):
    return 0.5 * a[0] + 0.5 * a[1]


def total(a, axis):
    """The sum over `axis` (an int or a tuple) of an interval array: the ends summed, then
    moved outwards by a bound on the summation's rounding (m eps sum |ends| for m terms)."""
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    m = 1
    for ax in axes:
        m *= np.shape(a[0])[ax]
    if m == 1:
        return np.sum(a[0], axis=axes), np.sum(a[1], axis=axes)
    err = m * np.finfo(np.float64).eps * np.sum(np.maximum(np.abs(a[0]), np.abs(a[1])),
                                                axis=axes)
    return down(np.sum(a[0], axis=axes) - err), up(np.sum(a[1], axis=axes) + err)
