"""Pytrees for frechet.implicit: optree in frechet's namespace (so dataclasses registered with
frechet.register_dataclass are pytrees here too), and one flat vector per pytree for the
linear solve."""

from __future__ import annotations

import numpy as np
import optree

import frechet.numpy as fnp
from frechet import extend as fx

NAMESPACE = "frechet"


def flatten(tree):
    return optree.tree_flatten(tree, none_is_leaf=False, namespace=NAMESPACE)


def unflatten(treedef, leaves):
    return optree.tree_unflatten(treedef, list(leaves))


def ravel(leaves):
    """The leaves (arrays or tracers, another library's arrays too: frechet.numpy keeps them
    in their library) as one vector, in their common dtype."""
    dtype = np.result_type(*[fx.spec_of(x).dtype for x in leaves])
    parts = [fnp.reshape(x, (-1,)) for x in leaves]
    parts = [p if fx.spec_of(p).dtype == dtype else fnp.astype(p, dtype) for p in parts]
    return parts[0] if len(parts) == 1 else fnp.concatenate(parts)


def unraveler(specs):
    """v -> leaves of the shapes and dtypes in `specs` ((shape, dtype) pairs)."""
    sizes = [int(np.prod(shape)) for shape, _ in specs]

    def unravel(v):
        out, i = [], 0
        for (shape, dtype), n in zip(specs, sizes):
            piece = fnp.reshape(v[i:i + n], shape)
            out.append(piece if fx.spec_of(piece).dtype == dtype else fnp.astype(piece, dtype))
            i += n
        return out
    return unravel, sum(sizes)
