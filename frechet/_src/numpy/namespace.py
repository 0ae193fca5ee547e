"""`numpy_for`: which NumPy API computes on given values, for libraries written with NumPy's
functions (frechet.optim, frechet.decision, ...) that may be handed another library's arrays.

NumPy's own functions take a tracer (NEP 13 and 18 send it to frechet.numpy), but given a
PyTorch tensor they copy it to the host through `__array__`. Such a library asks
`numpy_for(values)` once per call: NumPy itself while every leaf is a NumPy array, a number or
a tracer (the NumPy path, unchanged), frechet.numpy, whose functions run each primitive on the
arrays' own library (core/backend.py), when a leaf is another library's array.
"""

from __future__ import annotations

import numpy as np
from frechet._src import tree
from frechet._src.core.backend import NATIVE, is_foreign
from frechet._src.core.registry import front_end
from frechet._src.core.trace import Tracer


def numpy_for(*values):
    """NumPy, or frechet.numpy when a leaf of the pytrees `values` is another library's array.

    Example:
      >>> numpy_for({"w": np.ones(2)}) is np
      True
      >>> import torch
      >>> xnp = numpy_for({"w": torch.ones(2, dtype=torch.float64)})
      >>> xnp.sqrt(xnp.square(torch.ones(2, dtype=torch.float64)) + 3.0)
      tensor([2., 2.], dtype=torch.float64)
    """
    for v in values:
        if type(v) in NATIVE or isinstance(v, Tracer):   # the common case: one type test
            continue
        if any(map(is_foreign, tree.flatten(v)[0])):
            return front_end()
    return np
