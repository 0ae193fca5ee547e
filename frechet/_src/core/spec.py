"""Abstract values: what a staged program knows about an array (its shape and dtype)."""

from __future__ import annotations

import numpy as np


class ArraySpec:
    """The abstract value of an array: its shape and dtype. (A leaf in pytrees.)"""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: tuple[int, ...], dtype):
        self.shape = shape if type(shape) is tuple else tuple(shape)
        self.dtype = dtype if type(dtype) is not type else np.dtype(dtype)
        if not isinstance(self.dtype, np.dtype):
            self.dtype = np.dtype(dtype)

    def __eq__(self, other) -> bool:
        return (isinstance(other, ArraySpec) and self.shape == other.shape
                and self.dtype == other.dtype)

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __repr__(self) -> str:
        return f"{self.dtype.name}[{','.join(map(str, self.shape))}]"


def spec_of(x) -> ArraySpec:
    """The ArraySpec of a concrete array, a NumPy scalar or a tracer."""
    return ArraySpec(tuple(x.shape), np.dtype(x.dtype))


def is_inexact(dtype) -> bool:
    return np.dtype(dtype).kind in "fc"


def is_complex(dtype) -> bool:
    return np.dtype(dtype).kind == "c"


def real_dtype(dtype) -> np.dtype:
    """float64 for complex128, and the dtype itself for real ones."""
    return np.finfo(dtype).dtype if is_complex(dtype) else np.dtype(dtype)
