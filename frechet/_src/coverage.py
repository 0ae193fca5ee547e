"""Which NumPy ufuncs and dispatched functions work on traced values, and how."""

from __future__ import annotations

import numpy as np

from frechet._src.numpy.dispatch import FUNCTIONS, dispatched_functions
from frechet._src.numpy.ufuncs import _GUFUNCS
from frechet._src.prims import elementwise as ew

# Functions whose outputs are integers, booleans, shapes or dtypes: they work on traced values
# and have no derivative.
ZERO_DERIVATIVE_FUNCTIONS = {
    "all", "any", "allclose", "argmax", "argmin", "argpartition", "argsort", "argwhere",
    "array_equal", "array_equiv", "can_cast", "common_type", "count_nonzero", "digitize",
    "einsum_path", "empty_like", "flatnonzero", "isclose", "iscomplex", "iscomplexobj", "isin",
    "isneginf", "isposinf", "isreal", "isrealobj", "ix_", "lexsort", "min_scalar_type",
    "nanargmax", "nanargmin", "ndim", "nonzero", "ones_like", "result_type", "searchsorted", "shape", "size", "zeros_like",
    "diag_indices_from", "tril_indices_from", "triu_indices_from", "ravel_multi_index",
    "unravel_index", "may_share_memory", "shares_memory", "array2string", "array_repr",
    "array_str", "packbits", "unpackbits",
}
# Differentiable functions checked by tests other than the op records (test_api, test_complex).
CHECKED_ELSEWHERE = {"imag", "real", "angle", "vecdot", "matvec", "vecmat", "unique_values",
                     "unique_counts", "unique_inverse", "unique_all", "apply_over_axes"}


def report() -> dict:
    ufuncs = {}
    for name in sorted(n for n in dir(np) if isinstance(getattr(np, n), np.ufunc)):
        u = getattr(np, name)
        if u in _GUFUNCS:
            ufuncs[name] = "differentiable"
        elif ew.UFUNC_PRIMS.get(u) is None:
            ufuncs[name] = "unsupported"
        elif u.__name__ in ew.ZERO_DERIVATIVE:
            ufuncs[name] = "zero-derivative"
        else:
            ufuncs[name] = "differentiable"
    functions = {}
    for name in dispatched_functions():
        f = getattr(np, name)
        if f not in FUNCTIONS:
            functions[name] = "unsupported"
        elif name in ZERO_DERIVATIVE_FUNCTIONS:
            functions[name] = "zero-derivative"
        else:
            functions[name] = "differentiable"
    return {"ufuncs": ufuncs, "functions": functions, "checked_elsewhere": CHECKED_ELSEWHERE}


def format_report() -> str:
    rep = report()
    lines = []
    for title, table in (("ufuncs", rep["ufuncs"]), ("functions (__array_function__)",
                                                     rep["functions"])):
        counts = {}
        for s in table.values():
            counts[s] = counts.get(s, 0) + 1
        lines.append(f"{title}: {len(table)} total; " +
                     ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        for status in ("differentiable", "zero-derivative", "unsupported"):
            names = sorted(n for n, s in table.items() if s == status)
            if names:
                lines.append(f"  {status} ({len(names)}): " + " ".join(names))
    return "\n".join(lines)
