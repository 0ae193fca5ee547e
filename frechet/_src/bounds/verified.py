"""Verified results built on taylor_bound: the global minimum of a function over a box (branch
and bound), and bounds on a one-dimensional integral.
"""

from __future__ import annotations

import heapq
import itertools
import math

import numpy as np

from frechet._src.bounds.taylor_bound import taylor_bound
from frechet._src.interpreters.enclosure import interval as iv


def _scalar(x, what):
    x = np.asarray(x, dtype=np.float64)
    if x.shape != ():
        raise ValueError(f"{what}: the function must return a scalar, got shape {x.shape}")
    return x


def global_minimum(f, region, degree: int = 2, tol: float = 1e-8, max_boxes: int = 20000):
    """A certified interval (lo, hi) containing min f over the box region = (a, b), and the point
    where the best upper bound was found.

    a and b are scalars (f of one variable) or arrays of x's shape (a box). Branch and bound:
    each box gets a Taylor enclosure at its midpoint; the enclosure's range gives a lower bound
    on f over the box and its upper bound at the midpoint an upper bound on the minimum. The box
    with the lowest lower bound is split in half across its widest side until the bounds are
    within tol (absolute) or max_boxes boxes have been bounded. The enclosures of a box in n
    variables carry n^degree coefficients per value: keep n small."""
    a, b = (np.asarray(v, dtype=np.float64) for v in region)
    a, b = np.broadcast_arrays(a, b)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b)) and np.all(a <= b)):
        raise ValueError(f"global_minimum: a finite region a <= b is needed, got {region}")
    a, b = a.copy(), b.copy()

    def bound(lo, hi):
        m = 0.5 * lo + 0.5 * hi
        m = np.clip(m, lo, hi)
        x0 = float(m) if m.shape == () else m
        e = taylor_bound(f, x0, (lo, hi), degree)
        return float(_scalar(e.range()[0], "global_minimum")), float(e.upper(x0)), x0
    low, up, m = bound(a, b)
    best, best_x, boxes, count = up, m, [(low, 0, a, b)], 1
    order = itertools.count(1)                 # ties in the heap are broken by age
    while boxes and count < max_boxes:
        low, _, lo, hi = heapq.heappop(boxes)
        if best - low <= tol:
            heapq.heappush(boxes, (low, 0, lo, hi))
            break
        k = np.unravel_index(np.argmax(hi - lo), lo.shape) if lo.shape else ()
        mid = 0.5 * lo[k] + 0.5 * hi[k]
        if not lo[k] < mid < hi[k]:            # boxes as small as floats allow
            heapq.heappush(boxes, (low, 0, lo, hi))
            break
        left_hi, right_lo = hi.copy(), lo.copy()
        left_hi[k], right_lo[k] = mid, mid
        for s, t in ((lo, left_hi), (right_lo, hi)):
            l2, u2, m2 = bound(s, t)
            count += 1
            if u2 < best:
                best, best_x = u2, m2
            if l2 <= best:
                heapq.heappush(boxes, (l2, next(order), s, t))
    lower = min([box[0] for box in boxes], default=best)
    return (min(lower, best), best), best_x


def _moment(i, neg_left, right):
    """The integrals of z^i over [0, right] and over [-left, 0] (intervals)."""
    inv = (iv.down(1.0 / (i + 1)), iv.up(1.0 / (i + 1)))
    return (iv.mul(iv.power(right, i + 1), inv),
            iv.neg(iv.mul(iv.power(neg_left, i + 1), inv)))


def integral(f, region, degree: int = 3, pieces: int = 16):
    """A certified interval containing the integral of f over region = (a, b): on each of
    `pieces` equal pieces, the Taylor polynomial at the piece's midpoint integrated exactly
    (in interval arithmetic) plus the remainder interval times the integrals of z^(k+1) over
    each half of the piece."""
    a, b = (float(v) for v in region)
    if not (math.isfinite(a) and math.isfinite(b) and a <= b) or pieces < 1:
        raise ValueError(f"integral: a finite region a <= b and pieces >= 1, got {region}")
    edges = np.linspace(a, b, pieces + 1)
    total = iv.point(0.0)
    for lo, hi in itertools.pairwise(edges):
        m = 0.5 * (lo + hi)
        e = taylor_bound(f, m, (lo, hi), degree)
        left, right = iv.sub(iv.point(m), iv.point(lo)), iv.sub(iv.point(hi), iv.point(m))
        neg_left = iv.neg(left)

        for i, c in enumerate(e.coefficient_intervals):
            _scalar(c[0], "integral")
            upper, lower = _moment(i, neg_left, right)
            total = iv.add(total, iv.mul(c, iv.add(upper, lower)))
        # the remainder's factor may differ from point to point: each half bounded on its own
        upper, lower = _moment(degree + 1, neg_left, right)
        total = iv.add(total, iv.add(iv.mul(e.remainder, upper), iv.mul(e.remainder, lower)))
    return float(total[0]), float(total[1])
