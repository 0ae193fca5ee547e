"""linspace, logspace and geomspace with traced endpoints; meshgrid and ix_."""

from __future__ import annotations

import numpy as np
from frechet._src.numpy import ufuncs as U
from frechet._src.numpy.base import asarray, fit, float_dtype, result_dtype, shape_of
from frechet._src.numpy.manipulation import broadcast_arrays, moveaxis, reshape, setitem


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None):
    start, stop = asarray(start), asarray(stop)
    dt = float_dtype(np.zeros((), result_dtype(start, stop, 1.0)))
    start, stop = (fit(x, dt, shape_of(x)) for x in (start, stop))
    start, stop = broadcast_arrays(start, stop)
    div = (num - 1) if endpoint else num
    t = np.arange(num, dtype=dt).reshape((num,) + (1,) * len(shape_of(start)))
    delta = U.subtract(stop, start)
    lead = (1,) + shape_of(start)
    if div > 0:               # NumPy's arithmetic: start + arange * (delta / div)
        step = U.divide(delta, div)
        y = U.add(U.multiply(t, reshape(step, lead)), reshape(start, lead))
    else:
        step = U.multiply(delta, np.nan)
        y = U.add(U.multiply(t, reshape(delta, lead)), reshape(start, lead))
    if endpoint and num > 1:
        y = setitem(y, (-1,), stop)
    if axis != 0:
        y = moveaxis(y, 0, axis)
    if dtype is not None:
        y = fit(y, np.dtype(dtype), shape_of(y))
    return (y, step) if retstep else y


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    y = linspace(start, stop, num, endpoint, axis=axis)
    out = U.power(base, y)
    return out if dtype is None else fit(out, np.dtype(dtype), shape_of(out))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    start, stop = asarray(start), asarray(stop)
    y = linspace(U.log10(start), U.log10(stop), num, endpoint, axis=axis)
    out = U.power(10.0, y)
    # exact endpoints, as NumPy gives
    if num > 0 and axis == 0:
        out = setitem(out, (0,), start)
        if endpoint and num > 1:
            out = setitem(out, (-1,), stop)
    return out if dtype is None else fit(out, np.dtype(dtype), shape_of(out))


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    xs = [reshape(asarray(x), (-1,)) for x in xi]
    n = len(xs)
    outs = []
    for i, x in enumerate(xs):
        shp = [1] * n
        shp[i] = -1
        outs.append(reshape(x, tuple(shp)))
    if indexing == "xy" and n > 1:
        outs = [moveaxis(o, (0, 1), (1, 0)) for o in outs]
    if not sparse:
        outs = list(broadcast_arrays(*outs))
    return tuple(outs)


def ix_(*args):
    return np.ix_(*[np.asarray(a) for a in args])
