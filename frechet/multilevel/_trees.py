"""Small pytree helpers: a flat vector view of a parameter pytree (for Newton solves)."""

from __future__ import annotations

import numpy as np
import optree

from frechet.extend import numpy_for


def tree_map(fn, *trees):
    return optree.tree_map(fn, *trees)


def ravel(tree):
    """(vector, unravel): the leaves of `tree` concatenated, and the inverse map."""
    leaves, treedef = optree.tree_flatten(tree)
    shapes = [np.shape(leaf) for leaf in leaves]
    sizes = [int(np.prod(s)) for s in shapes]
    vec = np.concatenate([np.reshape(leaf, (-1,)) for leaf in leaves]) if leaves else np.zeros(0)

    def unravel(v):
        out, start = [], 0
        for shape, size in zip(shapes, sizes):
            out.append(np.reshape(v[start:start + size], shape))
            start += size
        return optree.tree_unflatten(treedef, out)

    return vec, unravel


def norm(tree) -> float:
    xnp = numpy_for(tree)
    return float(xnp.sqrt(sum(xnp.sum(xnp.asarray(leaf) ** 2)
                              for leaf in optree.tree_leaves(tree))))
