"""Pytrees through optree: tuples, lists, dicts, namedtuples, None, registered dataclasses.

The common cases (a single array, a tuple of arrays) skip optree: every transformation call
flattens and unflattens several times, and optree's general path costs microseconds each.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import optree

from frechet._src.core.trace import Tracer

NAMESPACE = "frechet"
_LEAF_TYPES = (np.ndarray, np.generic, float, int, complex, bool, Tracer)
_LEAF_DEF = optree.tree_structure(0, none_is_leaf=False, namespace=NAMESPACE)
_TUPLE_DEFS: dict = {}


def _is_leaf(x) -> bool:
    return isinstance(x, _LEAF_TYPES)


def _tuple_def(n):
    d = _TUPLE_DEFS.get(n)
    if d is None:
        d = _TUPLE_DEFS[n] = optree.tree_structure(tuple(range(n)), none_is_leaf=False,
                                                   namespace=NAMESPACE)
    return d


def flatten(tree):
    if _is_leaf(tree):
        return [tree], _LEAF_DEF
    if type(tree) is tuple and all(_is_leaf(x) for x in tree):
        return list(tree), _tuple_def(len(tree))
    return optree.tree_flatten(tree, none_is_leaf=False, namespace=NAMESPACE)


def unflatten(treedef, leaves):
    if treedef is _LEAF_DEF:
        (x,) = leaves
        return x
    if treedef is _TUPLE_DEFS.get(len(leaves)):
        return tuple(leaves)
    return optree.tree_unflatten(treedef, leaves)


def tree_map(f, tree, *rest):
    return optree.tree_map(f, tree, *rest, none_is_leaf=False, namespace=NAMESPACE)


def register_dataclass(cls):
    """Register a dataclass as a pytree node (its fields are children). Returns the class."""
    names = [f.name for f in dataclasses.fields(cls)]
    optree.register_pytree_node(
        cls, lambda x: ([getattr(x, n) for n in names], None, names),
        lambda _, children: cls(**dict(zip(names, children))), namespace=NAMESPACE)
    return cls
