"""sort (its tangent is the input tangent permuted the same way) and argsort (no derivative)."""

from __future__ import annotations

import numpy as np

from frechet._src.core.backend import defbackend
from frechet._src.core.primitive import primitive
from frechet._src.core.spec import ArraySpec
from frechet._src.prims.indexing import take_along_axis
from frechet._src.prims.rules import defzero

sort_p = primitive("sort", lambda x, *, axis: np.sort(x, axis=axis, kind="stable"),
                   lambda x, *, axis: x)
argsort_p = primitive("argsort", lambda x, *, axis: np.argsort(x, axis=axis, kind="stable"),
                      lambda x, *, axis: ArraySpec(x.shape, np.dtype(np.intp)))
defzero(argsort_p)


def _sort_jvp(primals, tangents, *, axis):
    (x,), (t,) = primals, tangents
    idx = argsort_p.bind(x, axis=axis)
    return take_along_axis(x, idx, axis), take_along_axis(t, idx, axis)


sort_p.jvp = _sort_jvp
for _p in (sort_p, argsort_p):
    _p.batch = lambda args, batched, *, axis, _p=_p: _p.bind(args[0], axis=axis + 1)

# Other array libraries (core/backend.py): the standard's stable sorts.
sort_p.array_api = lambda xp: lambda x, *, axis: xp.sort(x, axis=axis, stable=True)
argsort_p.array_api = lambda xp: lambda x, *, axis: xp.argsort(x, axis=axis, stable=True)


def _torch_argsort(x, *, axis):
    """torch's stable argsort; complex numbers (which torch does not sort on the CPU) in
    NumPy's order, by stable sorts on keys from the last to the first: the imaginary part,
    the real part, then NumPy's NaN class [R + Rj, R + nanj, nan + Rj, nan + nanj] (torch
    puts NaN last, as NumPy)."""
    import torch  # lazy: only torch tensors come here
    if not x.is_complex():
        return torch.argsort(x, dim=axis, stable=True)
    nan_class = 2 * x.real.isnan().to(torch.int8) + x.imag.isnan().to(torch.int8)
    order = torch.argsort(x.imag, dim=axis, stable=True)
    for key in (x.real, nan_class):
        step = torch.argsort(torch.take_along_dim(key, order, dim=axis), dim=axis, stable=True)
        order = torch.take_along_dim(order, step, dim=axis)
    return order


def _torch_sort(x, *, axis):
    import torch  # lazy: only torch tensors come here
    if not x.is_complex():
        return torch.sort(x, dim=axis, stable=True).values
    return torch.take_along_dim(x, _torch_argsort(x, axis=axis), dim=axis)


defbackend(argsort_p, torch=_torch_argsort)
defbackend(sort_p, torch=_torch_sort)
