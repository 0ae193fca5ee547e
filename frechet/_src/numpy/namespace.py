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
from frechet._src.core.backend import is_foreign
from frechet._src.core.registry import front_end


def numpy_for(*values):
    """NumPy, or frechet.numpy when a leaf of the pytrees `values` is another library's array.

    Example:
      >>> xnp = numpy_for(params)
      >>> xnp.sqrt(xnp.square(params) + 1.0)
    """
    for leaf in tree.flatten(values)[0]:
        if is_foreign(leaf):
            return front_end()
    return np
