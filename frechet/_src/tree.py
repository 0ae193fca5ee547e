"""Pytrees through optree: tuples, lists, dicts, namedtuples, None, registered dataclasses."""

from __future__ import annotations

import dataclasses

import optree

NAMESPACE = "frechet"


def flatten(tree):
    return optree.tree_flatten(tree, none_is_leaf=False, namespace=NAMESPACE)


def unflatten(treedef, leaves):
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
