"""frechet.optim: pure, differentiable optimisers in optax's style.

An optimiser is a `GradientTransformation(init, update)` of pure functions over pytrees;
`apply_updates(params, updates)` adds the updates. Hyperparameters (the learning rate
included) may be traced values or schedules, so a training loop written with them (a Python
`for`, `frechet.fori_loop`, `frechet.scan` or `unroll`) is differentiable with respect to the
initial parameters and the hyperparameters. `unroll` adds truncation and checkpointing;
`fit` is a training loop with a progress line.

Example:
  >>> import numpy as np, frechet
  >>> from frechet import optim
  >>> def final_loss(lr):
  ...     loss = lambda w: np.sum((w - 1.0) ** 2)
  ...     opt, w = optim.sgd(lr), np.zeros(2)
  ...     state = opt.init(w)
  ...     for _ in range(5):
  ...         u, state = opt.update(frechet.grad(loss)(w), state, w)
  ...         w = optim.apply_updates(w, u)
  ...     return loss(w)
  >>> round(float(frechet.grad(final_loss)(0.1)), 6)     # d loss(w_5) / d lr = -40 * 0.8**9
  -5.368709
"""

from frechet.optim._base import (
    GradientTransformation,
    apply_updates,
    chain,
    global_norm,
    tree_map,
)
from frechet.optim._lbfgs import LbfgsState, lbfgs
from frechet.optim._loops import fit, unroll
from frechet.optim._schedules import (
    constant,
    cosine_decay,
    exponential_decay,
    linear,
    warmup_cosine_decay,
)
from frechet.optim._transforms import (
    CountState,
    EmptyState,
    LionState,
    MomentsState,
    RmsState,
    SumSquaresState,
    TraceState,
    adagrad,
    adam,
    adamw,
    add_decayed_weights,
    clip_by_global_norm,
    lion,
    rmsprop,
    scale_by_adam,
    scale_by_learning_rate,
    scale_by_lion,
    scale_by_rms,
    scale_by_rss,
    sgd,
    trace,
)

__all__ = [
    "CountState", "EmptyState", "GradientTransformation", "LbfgsState", "LionState",
    "MomentsState", "RmsState", "SumSquaresState", "TraceState", "adagrad", "adam", "adamw",
    "add_decayed_weights", "apply_updates", "chain", "clip_by_global_norm", "constant",
    "cosine_decay", "exponential_decay", "fit", "global_norm", "lbfgs", "linear", "lion",
    "rmsprop", "scale_by_adam", "scale_by_learning_rate", "scale_by_lion", "scale_by_rms",
    "scale_by_rss", "sgd", "trace", "tree_map", "unroll", "warmup_cosine_decay",
]
