"""Histograms: np.histogram, histogram2d, histogramdd, histogram_bin_edges.

Which bin each sample falls in is piecewise constant in the sample, so it is computed from
concrete values, with NumPy's rules, and carries no derivative. What is differentiable:
- weighted counts, in the weights: a scatter-add of the weights into the bins, linear in them;
- bin edges NumPy derives from the data (an integer bin count and no range): linspace(min, max),
  in the data;
- densities, in both: counts / total / bin widths (volumes, in several dimensions).
"""

from __future__ import annotations

import builtins

import numpy as np
from frechet._src.core.trace import concrete
from frechet._src.numpy import ufuncs as U
from frechet._src.numpy.base import asarray, fit, float_dtype, shape_of
from frechet._src.numpy.creation import linspace
from frechet._src.numpy.manipulation import ravel, reshape
from frechet._src.numpy.misc import where
from frechet._src.numpy.reductions import max as _max
from frechet._src.numpy.reductions import min as _min
from frechet._src.numpy.reductions import sum as _sum
from frechet._src.prims import indexing as ix


def _data_edges(a, n):
    """NumPy's edges from the data: linspace(min, max, n + 1), widened by 0.5 on each side when
    the data are constant (differentiable in the data, through min and max)."""
    a = asarray(a)
    a = fit(a, float_dtype(a), shape_of(a))
    lo, hi = _min(a), _max(a)
    if concrete(lo, "histogram edges") == concrete(hi, "histogram edges"):
        lo, hi = U.subtract(lo, 0.5), U.add(hi, 0.5)
    return linspace(lo, hi, int(n) + 1)


def _is_count(bins):
    """A bin count (not a string rule, nor edges, nor one entry per dimension)."""
    return isinstance(bins, (int, np.integer))


def _edges(a, bins, range, edges):
    """The 1-d edges: from the data (traced) where NumPy derives them from an integer bin count
    with no range; otherwise constants (given, or from a string rule such as 'auto')."""
    # Note: edges from a string rule ('auto', 'fd', ...) are returned without a derivative.
    if _is_count(bins) and range is None and np.size(concrete(a, "np.histogram")):
        return _data_edges(ravel(a), bins)
    return edges


def _bin_of(values, edges):
    """NumPy's bin of each value (half-open bins, the last one closed), and whether the value
    falls inside the edges at all."""
    idx = np.searchsorted(edges, values, side="right") - 1
    idx[values == edges[-1]] -= 1
    inside = (idx >= 0) & (idx < len(edges) - 1)
    return np.where(inside, idx, 0), inside


def _weighted_counts(weights, flat_bins, inside, size):
    """sum of the weights in each bin: a scatter-add, linear (so differentiable) in them."""
    w = ravel(asarray(weights))
    w = fit(w, float_dtype(w), shape_of(w))
    w = where(inside, w, np.zeros((), w.dtype))
    return ix.index_add_p.bind(np.zeros(size, w.dtype), w, flat_bins.astype(np.intp),
                               index=(("a",),))


def _density(counts, widths):
    """counts / the bin volumes / the total count (widths: those along each axis, traced where
    the edges are), in NumPy's order of operations."""
    total, out = _sum(counts), counts
    for i, w in enumerate(widths):
        out = U.divide(out, reshape(w, tuple(-1 if j == i else 1 for j, _ in enumerate(widths))))
    return U.divide(out, total)


def _diff(edges):
    e = asarray(edges)
    return U.subtract(e[1:], e[:-1])


def histogram(a, bins=10, range=None, density=None, weights=None):
    """np.histogram, differentiable in the weights and, through data-derived edges, in a (see
    the module docstring); unweighted counts are integers, without a derivative."""
    ac = concrete(a, "np.histogram")
    counts, edges = np.histogram(ac, bins, range, False,
                                 None if weights is None else concrete(weights, "np.histogram"))
    if weights is not None:
        idx, inside = _bin_of(np.ravel(ac), edges)
        counts = _weighted_counts(weights, idx, inside, len(edges) - 1)
    edges = _edges(a, bins, range, edges)
    if density:
        counts = _density(counts.astype(float) if isinstance(counts, np.ndarray) else counts,
                          [_diff(edges)])
    return counts, edges


def histogram_bin_edges(a, bins=10, range=None, weights=None):
    edges = np.histogram_bin_edges(concrete(a, "np.histogram_bin_edges"), bins, range,
                                   None if weights is None else concrete(weights, "np.histogram"))
    return _edges(a, bins, range, edges)


def _columns(sample):
    """The D coordinate arrays of a sample given as an (N, D) array or a sequence of D arrays
    (NumPy's two forms)."""
    if isinstance(sample, (list, tuple)):
        return [ravel(asarray(s)) for s in sample]
    s = asarray(sample)
    if len(shape_of(s)) == 2:
        return [s[:, i] for i in builtins.range(shape_of(s)[1])]
    return [ravel(s)]


def histogramdd(sample, bins=10, range=None, density=None, weights=None):
    """np.histogramdd, differentiable in the weights and, through data-derived edges, in the
    sample (see the module docstring). Counts are floats, as in NumPy."""
    cols = _columns(sample)
    cc = [concrete(c, "np.histogramdd") for c in cols]
    counts, edges = np.histogramdd(np.stack(cc, axis=-1) if cc else cc, bins, range, False,
                                   None if weights is None else concrete(weights, "weights"))
    if weights is not None:
        flat, inside = np.zeros(len(cc[0]), np.intp), np.ones(len(cc[0]), bool)
        for c, e in zip(cc, edges):
            idx, ok = _bin_of(c, e)
            flat, inside = flat * (len(e) - 1) + idx, inside & ok
        counts = reshape(_weighted_counts(weights, flat, inside, int(np.prod(shape_of(counts)))),
                         shape_of(counts))
    edges = list(edges)
    for i, col in enumerate(cols):
        b = bins if _is_count(bins) else bins[i]
        if _is_count(b) and (range is None or range[i] is None) and len(cc[i]):
            edges[i] = _data_edges(col, b)
    if density:
        counts = _density(counts, [_diff(e) for e in edges])
    return counts, edges


def histogram2d(x, y, bins=10, range=None, density=None, weights=None):
    """np.histogram2d: histogramdd of (x, y)."""
    try:
        n = len(bins)
    except TypeError:
        n = 1
    if n not in (1, 2):           # one array of edges for both axes (NumPy's reading)
        bins = [bins, bins]
    counts, edges = histogramdd([x, y], bins, range, density, weights)
    return counts, edges[0], edges[1]
