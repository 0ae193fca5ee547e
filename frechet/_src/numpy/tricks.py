"""NumPy's Python-level helpers on traced values: np.r_ / np.c_ (AxisConcatenator) and
np.vectorize. NumPy implements them with its own module-level `array` and `asanyarray`, which
no dispatch reaches, so `numpy/patching.py` wraps their methods while a transformation runs and
sends calls that hold traced values here."""

from __future__ import annotations

import itertools

import numpy as np
from frechet._src.errors import UnsupportedFunctionError
from frechet._src.numpy.base import asarray, broadcast_shapes, fit, shape_of
from frechet._src.numpy.manipulation import broadcast_to, concatenate, reshape, stack, transpose


def concatenate_items(conc, key):
    """`conc[key]` (np.r_ or np.c_) where some item is traced: NumPy's rules for arrays,
    scalars and slices (each item made `ndmin`-d, 1-d items placed by `trans1d`), joined along
    `axis`. String directives are not supported on traced values."""
    items = key if isinstance(key, tuple) else (key,)
    if conc.matrix or any(isinstance(k, str) for k in items):
        raise UnsupportedFunctionError(
            "np.r_/np.c_ with a string directive or matrix output is not supported on traced "
            "values; use np.concatenate or np.stack")
    parts = []
    for item in items:
        if isinstance(item, slice):
            step = item.step if item.step is not None else 1
            start = item.start if item.start is not None else 0
            if isinstance(step, complex):
                item = np.linspace(start, item.stop, int(abs(step)))
            else:
                item = np.arange(start, item.stop, step)
        item_ndim = len(shape_of(item))
        new = asarray(item)
        if item_ndim < conc.ndmin:
            new = reshape(new, (1,) * (conc.ndmin - item_ndim) + shape_of(new))
            if conc.trans1d != -1:
                k2 = conc.ndmin - item_ndim
                k1 = conc.trans1d + (k2 + 1 if conc.trans1d < 0 else 0)
                axes = list(range(conc.ndmin))
                new = transpose(new, axes[:k1] + axes[k2:] + axes[k1:k2])
        parts.append(new)
    return concatenate(parts, axis=conc.axis)


def vectorized_call(vec, args, kwargs):
    """np.vectorize(f)(*args) where an argument is traced: f runs on each element, as NumPy
    runs it (Python control flow inside f works), and the results are stacked."""
    if vec.signature is not None:
        raise UnsupportedFunctionError(
            "np.vectorize(signature=...) is not supported on traced values; use frechet.vmap")
    excluded = set(vec.excluded)
    names = list(kwargs)
    values = list(args) + [kwargs[k] for k in names]
    varying = [i for i in range(len(args)) if i not in excluded] + \
        [len(args) + j for j, k in enumerate(names) if k not in excluded]
    arrays = {i: asarray(values[i]) for i in varying}
    shape = broadcast_shapes(*[shape_of(a) for a in arrays.values()])
    arrays = {i: broadcast_to(a, shape) if shape_of(a) != shape else a for i, a in arrays.items()}
    outs = []
    for idx in itertools.product(*[range(n) for n in shape]):
        call = list(values)
        for i, a in arrays.items():
            call[i] = a[idx] if idx else a
        pos, kw = call[:len(args)], dict(zip(names, call[len(args):]))
        outs.append(vec.pyfunc(*pos, **kw))
    if not outs:
        raise UnsupportedFunctionError("np.vectorize over an empty traced array")
    if isinstance(outs[0], tuple):
        return tuple(reshape(stack([asarray(o[k]) for o in outs]), shape)
                     for k in range(len(outs[0])))
    res = reshape(stack([asarray(o) for o in outs]), shape)
    if vec.otypes:
        res = fit(res, np.dtype(vec.otypes[0]), shape)
    return res

