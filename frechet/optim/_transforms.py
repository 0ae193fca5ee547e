"""First-order optimisers and the transformations they are built from, optax's formulas.

Each optimiser is `chain(scale_by_<rule>, ..., scale_by_learning_rate(lr))`; the state is a
tuple of NamedTuples of pytrees. `learning_rate` may be a float (or a traced value, so its
derivative can be taken) or a schedule `count -> value`, evaluated at 0 for the first update.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from frechet.extend import numpy_for
from frechet.optim._base import (
    GradientTransformation,
    chain,
    global_norm,
    require_params,
    safe_sqrt,
    step_count,
    tree_map,
    zeros_like,
)


class EmptyState(NamedTuple):
    """The state of a transformation that keeps none."""


class CountState(NamedTuple):
    count: Any


class TraceState(NamedTuple):
    trace: Any


class MomentsState(NamedTuple):
    count: Any
    mu: Any
    nu: Any


class RmsState(NamedTuple):
    nu: Any
    mu: Any          # the running mean of the gradients when centered, else an empty tuple


class SumSquaresState(NamedTuple):
    sum_of_squares: Any


class LionState(NamedTuple):
    mu: Any


def scale_by_learning_rate(learning_rate) -> GradientTransformation:
    """updates * -learning_rate (a float or a schedule of the step count)."""
    if not callable(learning_rate):
        return GradientTransformation(
            lambda params: EmptyState(),
            lambda g, s, params=None, **extra: (tree_map(lambda x: -learning_rate * x, g), s))

    def update(g, state, params=None, **extra):
        lr = learning_rate(state.count)
        return tree_map(lambda x: -lr * x, g), CountState(state.count + 1)
    return GradientTransformation(lambda params: CountState(step_count()), update)


def trace(decay, nesterov: bool = False) -> GradientTransformation:
    """Momentum: t = g + decay * t_prev; the update is t, or g + decay * t with nesterov."""
    def update(g, state, params=None, **extra):
        t = tree_map(lambda x, m: x + decay * m, g, state.trace)
        out = tree_map(lambda x, m: x + decay * m, g, t) if nesterov else t
        return out, TraceState(t)
    return GradientTransformation(lambda params: TraceState(zeros_like(params)), update)


def sgd(learning_rate, momentum=None, nesterov: bool = False) -> GradientTransformation:
    """Stochastic gradient descent, with heavy-ball or Nesterov momentum.

    update = -lr * t, t = g + momentum * t_prev (nesterov: -lr * (g + momentum * t)).

    Example:
      >>> opt = sgd(0.1, momentum=0.9)
      >>> state = opt.init({"w": np.zeros(2)})
      >>> opt.update({"w": np.ones(2)}, state)[0]["w"]
      array([-0.1, -0.1])
    """
    if momentum is None and nesterov:
        raise ValueError("pass momentum=... to sgd to use nesterov=True.")
    parts = [] if momentum is None else [trace(momentum, nesterov)]
    return chain(*parts, scale_by_learning_rate(learning_rate))


def scale_by_adam(b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0) -> GradientTransformation:
    """m_hat / (sqrt(v_hat + eps_root) + eps), Adam's bias-corrected moments (Kingma & Ba)."""
    def update(g, state, params=None, **extra):
        xnp = numpy_for(g)
        mu = tree_map(lambda x, m: b1 * m + (1 - b1) * x, g, state.mu)
        nu = tree_map(lambda x, v: b2 * v + (1 - b2) * xnp.square(x), g, state.nu)
        t = state.count + 1
        c1, c2 = 1 - np.power(b1, t), 1 - np.power(b2, t)
        out = tree_map(lambda m, v: (m / c1) / (safe_sqrt(v / c2 + eps_root) + eps), mu, nu)
        return out, MomentsState(t, mu, nu)
    return GradientTransformation(
        lambda params: MomentsState(step_count(), zeros_like(params), zeros_like(params)),
        update)


def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0) -> GradientTransformation:
    """Adam: update = -lr * m_hat / (sqrt(v_hat + eps_root) + eps), with
    m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g**2, m_hat = m / (1 - b1**t), v_hat likewise.

    Example:
      >>> opt = adam(0.1)
      >>> opt.update(np.array([2.0]), opt.init(np.array([0.0])))[0]
      array([-0.1])
    """
    return chain(scale_by_adam(b1, b2, eps, eps_root), scale_by_learning_rate(learning_rate))


def add_decayed_weights(weight_decay=0.0, mask=None) -> GradientTransformation:
    """updates + weight_decay * params (decoupled weight decay).

    Args:
      mask: optional pytree of bools, or a function params -> such a pytree, with the
        parameters' structure: only the leaves marked True decay.

    Example:
      >>> add_decayed_weights(0.1).update(np.ones(2), EmptyState(), np.full(2, 2.0))[0]
      array([1.2, 1.2])
    """
    def update(g, state, params=None, **extra):
        require_params(params, "add_decayed_weights")
        if mask is None:
            return tree_map(lambda x, p: x + weight_decay * p, g, params), state
        m = mask(params) if callable(mask) else mask
        return tree_map(lambda x, p, k: x + weight_decay * p if k else x, g, params, m), state
    return GradientTransformation(lambda params: EmptyState(), update)


def adamw(learning_rate, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, weight_decay=1e-4,
          mask=None) -> GradientTransformation:
    """AdamW (Loshchilov & Hutter): update = -lr * (adam direction + weight_decay * params).

    Example:
      >>> opt = adamw(0.1, weight_decay=0.5)
      >>> opt.update(np.array([2.0]), opt.init(np.array([1.0])), np.array([1.0]))[0]
      array([-0.15])
    """
    return chain(scale_by_adam(b1, b2, eps, eps_root), add_decayed_weights(weight_decay, mask),
                 scale_by_learning_rate(learning_rate))


def scale_by_rms(decay=0.9, eps=1e-8, initial_scale=0.0,
                 centered: bool = False) -> GradientTransformation:
    """g / sqrt(nu + eps), nu = decay nu + (1 - decay) g**2 (centered: g / sqrt(nu - mu**2 +
    eps) with mu the running mean of g), optax's RMSProp."""
    def init(params):
        nu = tree_map(lambda p: numpy_for(p).full_like(p, initial_scale), params)
        return RmsState(nu, zeros_like(params) if centered else ())

    def update(g, state, params=None, **extra):
        xnp = numpy_for(g, state)
        nu = tree_map(lambda x, v: decay * v + (1 - decay) * xnp.square(x), g, state.nu)
        if not centered:
            return tree_map(lambda x, v: x / xnp.sqrt(v + eps), g, nu), RmsState(nu, ())
        mu = tree_map(lambda x, m: decay * m + (1 - decay) * x, g, state.mu)
        out = tree_map(lambda x, v, m: x / xnp.sqrt(v - xnp.square(m) + eps), g, nu, mu)
        return out, RmsState(nu, mu)
    return GradientTransformation(init, update)


def rmsprop(learning_rate, decay=0.9, eps=1e-8, initial_scale=0.0, centered: bool = False,
            momentum=None, nesterov: bool = False) -> GradientTransformation:
    """RMSProp (Tieleman & Hinton): update = -lr * g / sqrt(nu + eps), nu = decay nu +
    (1 - decay) g**2; optional momentum on the scaled gradient, as in optax.

    Example:
      >>> opt = rmsprop(0.1, decay=0.75, eps=0.0)
      >>> opt.update(np.array([3.0]), opt.init(np.array([0.0])))[0]
      array([-0.2])
    """
    parts = [scale_by_rms(decay, eps, initial_scale, centered)]
    if momentum is not None:
        parts.append(trace(momentum, nesterov))
    return chain(*parts, scale_by_learning_rate(learning_rate))


def scale_by_rss(initial_accumulator_value=0.1, eps=1e-7) -> GradientTransformation:
    """g / sqrt(s + eps), s the running sum of g**2 (0 where s is 0), optax's Adagrad."""
    def init(params):
        return SumSquaresState(tree_map(
            lambda p: numpy_for(p).full_like(p, initial_accumulator_value), params))

    def update(g, state, params=None, **extra):
        xnp = numpy_for(g, state)
        s = tree_map(lambda x, a: a + xnp.square(x), g, state.sum_of_squares)
        # Note: where s == 0 the update is 0, as in optax (the gradient was 0 every step).
        out = tree_map(lambda x, a: xnp.where(
            a > 0, x / xnp.sqrt(xnp.where(a > 0, a, 1.0) + eps), 0.0), g, s)
        return out, SumSquaresState(s)
    return GradientTransformation(init, update)


def adagrad(learning_rate, initial_accumulator_value=0.1, eps=1e-7) -> GradientTransformation:
    """Adagrad (Duchi et al.): update = -lr * g / sqrt(s + eps), s = s_prev + g**2, s_0 =
    initial_accumulator_value.

    Example:
      >>> opt = adagrad(1.0, initial_accumulator_value=0.0, eps=0.0)
      >>> opt.update(np.array([3.0]), opt.init(np.array([0.0])))[0]
      array([-1.])
    """
    return chain(scale_by_rss(initial_accumulator_value, eps),
                 scale_by_learning_rate(learning_rate))


def scale_by_lion(b1=0.9, b2=0.99) -> GradientTransformation:
    """sign(b1 m + (1 - b1) g), then m = b2 m + (1 - b2) g (Chen et al., 2023)."""
    def update(g, state, params=None, **extra):
        xnp = numpy_for(g, state)
        out = tree_map(lambda x, m: xnp.sign(b1 * m + (1 - b1) * x), g, state.mu)
        mu = tree_map(lambda x, m: b2 * m + (1 - b2) * x, g, state.mu)
        return out, LionState(mu)
    return GradientTransformation(lambda params: LionState(zeros_like(params)), update)


def lion(learning_rate, b1=0.9, b2=0.99, weight_decay=1e-3, mask=None) -> GradientTransformation:
    """Lion: update = -lr * (sign(b1 m + (1 - b1) g) + weight_decay * params), then
    m = b2 m + (1 - b2) g. Its derivative with respect to the gradients is zero (sign).

    Example:
      >>> opt = lion(0.1, weight_decay=0.0)
      >>> opt.update(np.array([-3.0]), opt.init(np.array([0.0])), np.array([0.0]))[0]
      array([0.1])
    """
    return chain(scale_by_lion(b1, b2), add_decayed_weights(weight_decay, mask),
                 scale_by_learning_rate(learning_rate))


def clip_by_global_norm(max_norm) -> GradientTransformation:
    """updates * max_norm / max(global_norm(updates), max_norm): the whole pytree rescaled so
    its norm is at most max_norm.

    Example:
      >>> clip_by_global_norm(1.0).update((np.array([3.0]), 4.0), EmptyState())[0]
      (array([0.6]), np.float64(0.8))
    """
    def update(g, state, params=None, **extra):
        norm = global_norm(g)
        scale = max_norm / numpy_for(norm).maximum(norm, max_norm)
        return tree_map(lambda x: x * scale, g), state
    return GradientTransformation(lambda params: EmptyState(), update)

