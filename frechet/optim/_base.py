"""The pieces every optimiser shares: GradientTransformation, apply_updates, chain, tree maps.

Pytrees are flattened by optree in frechet's namespace, so dicts, tuples, lists, namedtuples
and dataclasses registered with `frechet.register_dataclass` all work; leaves may be arrays
(0-d included), Python floats or frechet tracers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import optree

from frechet.extend import dtype_of, is_foreign, numpy_for

NAMESPACE = "frechet"      # frechet.register_dataclass registers into this optree namespace


def tree_map(f, tree, *rest):
    """f applied leaf by leaf to one pytree or several of the same structure."""
    return optree.tree_map(f, tree, *rest, none_is_leaf=False, namespace=NAMESPACE)


def tree_leaves(tree) -> list:
    return optree.tree_leaves(tree, none_is_leaf=False, namespace=NAMESPACE)


def tree_vdot(a, b):
    """The inner product of two pytrees of the same structure (sum over all leaves)."""
    xnp = numpy_for(a, b)
    return sum(xnp.sum(x * y) for x, y in zip(tree_leaves(a), tree_leaves(b)))


def safe_sqrt(x):
    """sqrt(x), with derivative 0 where x == 0 instead of 1 / 0.

    Note: sqrt(g**2) = |g| has a kink at g = 0; taking the zero subgradient there keeps
    derivatives through Adam's sqrt(v) and through norms of zero gradients finite (and
    right: a / (sqrt(v) + eps) with a = v = 0 has derivative da / eps).
    """
    xnp, pos = numpy_for(x), x > 0
    return xnp.where(pos, xnp.sqrt(xnp.where(pos, x, 1.0)), 0.0)


def global_norm(tree):
    """sqrt of the sum of squares of every element of every leaf (derivative 0 at 0)."""
    xnp = numpy_for(tree)
    return safe_sqrt(sum(xnp.sum(xnp.square(x)) for x in tree_leaves(tree)))


def zeros_like(tree):
    return tree_map(numpy_for(tree).zeros_like, tree)


def step_count():
    """The step counter every stateful transformation starts from (an int64 0-d array)."""
    return np.zeros((), dtype=np.int64)


class GradientTransformation(NamedTuple):
    """An optimiser as two pure functions, optax's convention.

    `init(params) -> state`; `update(grads, state, params=None) -> (updates, state)`. The
    updates are added to the parameters by `apply_updates`. Nothing is mutated, so a training
    loop built from these is an ordinary function that frechet differentiates. Write your own
    by constructing one: `GradientTransformation(init, update)`.

    Example:
      >>> import numpy as np
      >>> from frechet import optim
      >>> scale = optim.GradientTransformation(lambda p: (), lambda g, s, p=None: (
      ...     optim.tree_map(lambda x: -0.1 * x, g), s))
      >>> optim.apply_updates({"w": np.ones(2)}, scale.update({"w": np.ones(2)}, ())[0])["w"]
      array([0.9, 0.9])
    """

    init: Callable[[Any], Any]
    update: Callable[..., tuple]


def apply_updates(params, updates):
    """params + updates, leaf by leaf (the result keeps each parameter's dtype).

    Example:
      >>> apply_updates((1.0, np.ones(2)), (0.5, np.ones(2)))
      (1.5, array([2., 2.]))
    """
    def add(p, u):
        out = p + u
        if not hasattr(p, "dtype") or not hasattr(out, "dtype"):
            return out
        # both in NumPy's terms: a torch dtype never equals a NumPy one
        dtype = dtype_of(p)
        if dtype_of(out) != dtype:
            out = out.astype(dtype) if not is_foreign(out) else numpy_for(out).astype(out, dtype)
        return out
    return tree_map(add, params, updates)


def _accepts_extra(update) -> bool:
    try:
        params = inspect.signature(update).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def call_update(tx: GradientTransformation, grads, state, params=None, **extra):
    """tx.update, passing the extra keywords (value_fn, value) only to updates that take them."""
    if extra and _accepts_extra(tx.update):
        return tx.update(grads, state, params, **extra)
    return tx.update(grads, state, params)


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """The transformations applied one after another; the state is the tuple of their states.

    Example:
      >>> opt = chain(clip_by_global_norm(1.0), sgd(0.1))
    """
    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(updates, state, params=None, **extra):
        new_state = []
        for t, s in zip(transforms, state):
            updates, s = call_update(t, updates, s, params, **extra)
            new_state.append(s)
        return updates, tuple(new_state)

    return GradientTransformation(init, update)


def require_params(params, name: str):
    if params is None:
        raise ValueError(f"pass the parameters to update: {name} needs them "
                         f"(update(grads, state, params)).")
