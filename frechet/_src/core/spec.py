"""Abstract values: what a staged program knows about an array (its shape and dtype)."""

from __future__ import annotations

import math

import numpy as np


class ArraySpec(tuple):
    """The abstract value of an array: its shape and dtype.

    A tuple subclass (so hashing and equality run in C), but not a namedtuple, so pytrees
    treat it as a leaf.
    """

    __slots__ = ()

    def __new__(cls, shape, dtype):
        return tuple.__new__(cls, (shape if type(shape) is tuple else tuple(shape),
                                   dtype if isinstance(dtype, np.dtype) else numpy_dtype(dtype)))

    @property
    def shape(self) -> tuple:
        return self[0]

    @property
    def dtype(self) -> np.dtype:
        return self[1]

    def __getnewargs__(self):
        return tuple(self)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __repr__(self) -> str:
        return f"{self.dtype.name}[{','.join(map(str, self.shape))}]"


def spec_of(x) -> ArraySpec:
    """The ArraySpec of a concrete array, a NumPy scalar or a tracer."""
    if type(x) is np.ndarray:
        return tuple.__new__(ArraySpec, (x.shape, x.dtype))
    dt = x.dtype
    return tuple.__new__(ArraySpec, (tuple(x.shape), dt if isinstance(dt, np.dtype) else
                                     numpy_dtype(dt)))


_DTYPES: dict = {}      # another library's dtype -> NumPy's


def numpy_dtype(dtype) -> np.dtype:
    """The NumPy dtype of a dtype, a scalar type or another library's dtype (torch.float32
    is float32): specs, and so the front end's promotion, speak NumPy's dtypes."""
    try:
        return _DTYPES[dtype]
    except (KeyError, TypeError):
        pass
    try:
        out = np.dtype(dtype)
    except TypeError:       # torch.float64 prints as 'torch.float64'
        out = np.dtype(str(dtype).rpartition(".")[2])
    try:
        _DTYPES[dtype] = out
    except TypeError:
        pass
    return out


def is_inexact(dtype) -> bool:
    return numpy_dtype(dtype).kind in "fc"


def is_complex(dtype) -> bool:
    return numpy_dtype(dtype).kind == "c"


def real_dtype(dtype) -> np.dtype:
    """float64 for complex128, and the dtype itself for real ones."""
    dtype = numpy_dtype(dtype)
    return np.finfo(dtype).dtype if is_complex(dtype) else dtype
