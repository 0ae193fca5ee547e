"""Taylor enclosures in n variables: v(x) in sum_{i<d} <c_i, z^(i)> + <C_d, z^(d)> for all x in
the trust region, z = x - x0 in the box Z = [a - x0, b - x0] (n intervals), where z^(i) is the
i-fold outer power of z and <., .> contracts it with the coefficient's x-axes.

An enclosure is a list of d + 1 terms. Term i is an interval (interval.py) of shape
(n^i,) + S: its x-axes flattened into one leading axis, S the value's shape, so that a term
broadcasts against plain values of shape S from the right. A term known to be zero is None.
The first d terms hold the Taylor coefficients (points up to rounding, kept as intervals so that
rounding stays inside; not symmetrised), the last the remainder. One variable is n = 1.

Arithmetic follows Streeter and Dillon's AutoBound: sums termwise, products by Cauchy products
(outer products over the x-axes) whose terms past degree d are folded into the remainder by
interval evaluation over Z ("truncation"), and compositions with elementwise functions through
those functions' own one-dimensional enclosures (elementary.py). Where a product's full outer
product would be large (n > 1), the excess degree is folded into its factors first.
"""

from __future__ import annotations

import numpy as np

from frechet._src.interpreters.enclosure import interval as iv

# a product term of more elements than this folds its excess degree into its factors first
FOLD_ABOVE = 1 << 22


class Region:
    """The box Z (an interval of shape (n,)) and the degree d of the remainder term."""

    __slots__ = ("_powers", "d", "n", "z")

    def __init__(self, z, d):
        self.z = (np.atleast_1d(np.asarray(z[0], np.float64)),
                  np.atleast_1d(np.asarray(z[1], np.float64)))
        self.d, self.n = d, self.z[0].shape[0]
        self._powers = {}

    def power(self, k):
        """Z's k-fold outer power, flattened to (n^k,): each entry a product of k of the
        intervals, repeated factors raised as powers (so z_j^2 >= 0)."""
        if k not in self._powers:
            self._powers[k] = outer_power(self.z, k)
        return self._powers[k]


def outer_power(z, k):
    n = z[0].shape[0]
    if k == 0:
        return iv.point(np.ones(1))
    if n == 1:
        return iv.power(z, k)
    index = np.indices((n,) * k).reshape(k, -1)
    counts = np.stack([np.sum(index == j, axis=0) for j in range(n)])      # (n, n^k)
    out = iv.point(np.ones(n ** k))
    for j in range(n):
        zj = (z[0][j], z[1][j])
        powers = [iv.power(zj, c) for c in range(k + 1)]
        factor = (np.choose(counts[j], [p[0] for p in powers]),
                  np.choose(counts[j], [p[1] for p in powers]))
        prod = iv.mul(out, factor)
        used = counts[j] > 0
        out = (np.where(used, prod[0], out[0]), np.where(used, prod[1], out[1]))
    return out


def value_shape(terms):
    return np.shape(terms[0][0])[1:]


def lift(term, ndim):
    """A term's value axes padded on the left to ndim (for broadcasting with larger values)."""
    if term is None or np.ndim(term[0]) - 1 >= ndim:
        return term
    shape = np.shape(term[0])
    new = shape[:1] + (1,) * (ndim + 1 - len(shape)) + shape[1:]
    return np.reshape(term[0], new), np.reshape(term[1], new)


def constant(value, region: Region):
    value = np.asarray(value, dtype=np.float64)
    return [iv.point(value[None])] + [None] * region.d


def contract(term, zp, e):
    """<term, z^(e)> over the term's last e x-axes: (n^i,) + S -> (n^(i-e),) + S."""
    lo = term[0]
    m = zp[0].shape[0]
    rest = lo.shape[1:]
    split = (lo.shape[0] // m, m) + rest
    t = (np.reshape(term[0], split), np.reshape(term[1], split))
    zp = tuple(np.reshape(x, (1, m) + (1,) * len(rest)) for x in zp)
    return iv.total(iv.mul(t, zp), 1)


def truncate(terms, region: Region):
    """A polynomial of any length as d + 1 terms: the terms of degree i > d contracted with
    Z^(i - d) over their last x-axes and summed into term d."""
    d = region.d
    terms = list(terms) + [None] * (d + 1 - len(terms))
    tail = terms[d]
    for i in range(d + 1, len(terms)):
        if terms[i] is not None:
            tail = add_term(tail, contract(terms[i], region.power(i - d), i - d))
    return terms[:d] + [tail]


def value_range(terms, region: Region):
    """The interval (of shape S) of the enclosed value over the region."""
    out = terms[0]
    for i in range(1, len(terms)):
        if terms[i] is not None:
            out = iv.add(out, contract(terms[i], region.power(i), i))
    return out[0][0], out[1][0]


def add_term(x, y):
    return y if x is None else x if y is None else iv.add(x, y)


def add(a, b):
    return [add_term(x, y) for x, y in zip(a, b)]


def neg(a):
    return [None if x is None else iv.neg(x) for x in a]


def sub(a, b):
    return add(a, neg(b))


def outer(x, y):
    """Elementwise over the value axes, outer over the x-axes: (p,)+S, (q,)+S -> (pq,)+S."""
    if np.shape(x[0])[0] == 1 or np.shape(y[0])[0] == 1:      # an outer product with 1
        return iv.mul(x, y)
    p = iv.mul((x[0][:, None], x[1][:, None]), (y[0][None], y[1][None]))
    shape = (-1,) + np.shape(p[0])[2:]
    return np.reshape(p[0], shape), np.reshape(p[1], shape)


def fold(x, y, i, j, region: Region):
    """The factors of term (i, j) with the excess degree i + j - d contracted out of them
    (first from x's x-axes), when n > 1 and the full outer product would be large."""
    excess = i + j - region.d
    if excess <= 0 or region.n == 1:
        return x, y, i + j
    size = np.shape(x[0])[0] * np.shape(y[0])[0] * max(np.prod(np.shape(x[0])[1:]),
                                                      np.prod(np.shape(y[0])[1:]))
    if size <= FOLD_ABOVE:
        return x, y, i + j
    ex = min(i, excess)
    if ex:
        x = contract(x, region.power(ex), ex)
    if excess - ex:
        y = contract(y, region.power(excess - ex), excess - ex)
    return x, y, region.d


def mul(a, b, region: Region):
    ndim = max(len(value_shape(a)), len(value_shape(b)))
    a, b = [lift(t, ndim) for t in a], [lift(t, ndim) for t in b]
    out = [None] * (2 * region.d + 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            if x is None or y is None:
                continue
            x2, y2, k = fold(x, y, i, j, region)
            out[k] = add_term(out[k], outer(x2, y2))
    return truncate(out, region)


def scale(a, c):
    """Each term times the interval (or point array) c of the value's shape, elementwise."""
    c = c if isinstance(c, tuple) else iv.point(c)
    ndim = max(np.ndim(c[0]), len(value_shape(a)))
    return [None if x is None else iv.mul(lift(x, ndim), c) for x in a]


def power(a, n: int, region: Region):
    out = None
    for _ in range(n):
        out = a if out is None else mul(out, a, region)
    return out


def compose(coefficients, base, region: Region):
    """sum_p s_p (g - y0)^p for the one-dimensional enclosure s = (s_0..s_{d-1}, S_d) of a
    function at y0 (intervals of the value's shape, elementwise) and g's enclosure `base`, y0
    taken out of its constant term."""
    terms, y0 = coefficients
    delta = [None] + list(base[1:])
    shift = iv.sub(base[0], iv.point(y0))
    if np.any(shift[0]) or np.any(shift[1]):        # rounding left in g's constant term
        delta[0] = shift
    out = [(terms[0][0][None], terms[0][1][None])] + [None] * region.d
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
        ends = out[-1] if out[-1] is not None else iv.point(
            np.zeros((region.n ** region.d,) + np.shape(y0)))
        out[-1] = (np.where(unbounded, -np.inf, ends[0]), np.where(unbounded, np.inf, ends[1]))
    return out
