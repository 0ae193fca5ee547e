"""The `__array_function__` table: each NumPy function that dispatches (NEP 18) mapped to its
frechet implementation, by name, from the front-end modules."""

from __future__ import annotations

import numpy as np
from frechet._src.numpy import (
    contract,
    creation,
    histograms,
    inplace,
    manipulation,
    misc,
    poly,
    reductions,
    sorting,
)

_MODULES = (reductions, manipulation, contract, misc, sorting, histograms, poly, creation,
            inplace)

# NumPy names whose implementation lives under another name.
_RENAMED = {"amax": "max", "amin": "min", "around": "round", "row_stack": "vstack"}


def _lookup(name):
    name = _RENAMED.get(name, name)
    for m in _MODULES:
        f = getattr(m, name, None)
        if callable(f) and getattr(f, "__module__", "").startswith("frechet"):
            return f
    return None


def dispatched_functions() -> list[str]:
    """Names of NumPy's top-level functions that dispatch through __array_function__."""
    return sorted(n for n in dir(np)
                  if type(getattr(np, n)).__name__ == "_ArrayFunctionDispatcher")


FUNCTIONS: dict = {}
for _name in dispatched_functions():
    _impl = _lookup(_name)
    if _impl is not None:
        FUNCTIONS[getattr(np, _name)] = _impl

# np.linalg's functions dispatch too; those frechet has so far
from frechet._src.numpy import fft as _fft
from frechet._src.numpy import linalg as _linalg

FUNCTIONS.update(_linalg.FUNCTIONS)
FUNCTIONS.update(_fft.FUNCTIONS)
