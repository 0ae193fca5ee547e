"""vmap: a function of one example mapped over a batch axis, by the batching trace."""

from __future__ import annotations

import functools

import numpy as np
import optree

from frechet._src import tree
from frechet._src.errors import ShapeError
from frechet._src.interpreters.batching import batch_flat_raw, with_batch_axis
from frechet._src.numpy.manipulation import moveaxis


def _axes_for(prefix, full, what):
    """One axis (int or None) per leaf of `full`, from a pytree prefix of axes."""
    if isinstance(prefix, list):
        prefix = tuple(prefix)
    try:
        axes = optree.tree_broadcast_prefix(prefix, full, none_is_leaf=True,
                                            namespace=tree.NAMESPACE)
    except ValueError as e:
        raise ValueError(f"vmap {what} {prefix!r} does not match the structure of the "
                         f"{'arguments' if what == 'in_axes' else 'outputs'}: {e}") from None
    leaves = optree.tree_leaves(full, none_is_leaf=True, namespace=tree.NAMESPACE)
    flat_axes = optree.tree_leaves(axes, none_is_leaf=True, namespace=tree.NAMESPACE)
    return [a for x, a in zip(leaves, flat_axes) if x is not None]


def _normalize(axis, ndim, what):
    if axis is None:
        return None
    if not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ValueError(f"vmap {what} {axis!r} is out of range for an array of rank {ndim}")
    return int(axis) % ndim


def vmap(fun, in_axes=0, out_axes=0, axis_size=None, axis_name=None):
    """Map `fun` over an axis of its arguments, computing all examples at once.

    Args:
      fun: a function of arrays (pytrees allowed).
      in_axes: the mapped axis of each argument (an int, None for unmapped, or a pytree prefix
        of the arguments).
      out_axes: where the mapped axis goes in each output (likewise).
      axis_size: the batch size, needed when no argument is mapped.
      axis_name: a name for the mapped axis, for collectives (psum, pmean, pmax, all_gather,
        axis_index) inside `fun`.

    Example:
      >>> vmap(lambda x, w: x @ w, in_axes=(0, None))(np.ones((5, 3)), np.ones(3)).shape
      (5,)
    """
    @functools.wraps(fun)
    def wrapped(*args):
        if isinstance(in_axes, (tuple, list)) and len(in_axes) != len(args):
            raise ValueError(f"vmap in_axes has {len(in_axes)} entries for {len(args)} arguments")
        leaves, treedef = tree.flatten(args)
        axes = _axes_for(in_axes, args, "in_axes")
        moved, batched, sizes = [], [], set()
        for x, ax in zip(leaves, axes):
            x = x if hasattr(x, "shape") else np.asarray(x)
            ax = _normalize(ax, len(x.shape), "in_axes")
            if ax is None:
                moved.append(x)
                batched.append(False)
            else:
                sizes.add(x.shape[ax])
                moved.append(moveaxis(x, ax, 0) if ax else x)
                batched.append(True)
        if axis_size is not None:
            sizes.add(axis_size)
        if not sizes:
            raise ValueError("vmap needs a mapped argument or axis_size")
        if len(sizes) > 1:
            raise ShapeError(f"vmap got inconsistent sizes for the mapped axes: {sorted(sizes)}")
        (n,) = sizes
        store = []

        def flat(*xs):
            ol, ot = tree.flatten(fun(*tree.unflatten(treedef, list(xs))))
            store.append(ot)
            return ol

        outs, out_batched = batch_flat_raw(flat, moved, batched, n, axis_name)
        out = tree.unflatten(store[0], outs)
        oaxes = _axes_for(out_axes, out, "out_axes")
        final = []
        for o, b, ax in zip(outs, out_batched, oaxes):
            if ax is None:
                if b:
                    raise ValueError("vmap out_axes=None, but the output depends on the mapped "
                                     "axis")
                final.append(o)
                continue
            if not b:
                o = with_batch_axis(o, n)
            ax = _normalize(ax, len(o.shape), "out_axes")
            final.append(moveaxis(o, 0, ax) if ax else o)
        return tree.unflatten(store[0], final)
    return wrapped
