"""Schedules: functions of the step count (0 for the first update) giving a hyperparameter.

Written in NumPy operations, so a schedule's value is differentiable in its arguments (the
initial value, the peak, ...) and works on a traced step count inside `fori_loop` or `scan`.
Formulas follow optax's schedules of the same names.
"""

from __future__ import annotations

import numpy as np


def _check_steps(name: str, **steps):
    for k, v in steps.items():
        if not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"pass a positive integer {k} to {name}; got {v!r}.")


def constant(value):
    """The schedule that is `value` at every step.

    Example:
      >>> constant(0.1)(7)
      0.1
    """
    return lambda count: value


def linear(init_value, end_value, transition_steps: int, transition_begin: int = 0):
    """init_value until transition_begin, then linearly to end_value over transition_steps
    steps, then end_value.

    Example:
      >>> float(linear(1.0, 0.0, 10)(5))
      0.5
    """
    _check_steps("linear", transition_steps=transition_steps)

    def schedule(count):
        done = np.clip(count - transition_begin, 0, transition_steps)
        frac = 1.0 - done / transition_steps
        return (init_value - end_value) * frac + end_value
    return schedule


def cosine_decay(init_value, decay_steps: int, alpha=0.0, exponent=1.0):
    """init_value * ((1 - alpha) * c**exponent + alpha), c = (1 + cos(pi min(t, T) / T)) / 2,
    T = decay_steps: from init_value down to alpha * init_value at step T, constant after.

    Example:
      >>> float(cosine_decay(1.0, 10)(5))
      0.5
    """
    _check_steps("cosine_decay", decay_steps=decay_steps)

    def schedule(count):
        t = np.minimum(count, decay_steps)
        c = 0.5 * (1.0 + np.cos(np.pi * t / decay_steps))
        return init_value * ((1.0 - alpha) * c ** exponent + alpha)
    return schedule


def warmup_cosine_decay(init_value, peak_value, warmup_steps: int, decay_steps: int,
                        end_value=0.0, exponent=1.0):
    """Linear warm-up from init_value to peak_value over warmup_steps, then cosine decay to
    end_value at step decay_steps (decay_steps counts the warm-up, as in optax).

    Example:
      >>> s = warmup_cosine_decay(0.0, 1.0, warmup_steps=10, decay_steps=30)
      >>> float(s(5)), float(s(10)), float(s(20)), float(s(30))
      (0.5, 1.0, 0.5, 0.0)
    """
    _check_steps("warmup_cosine_decay", warmup_steps=warmup_steps)
    if not isinstance(decay_steps, (int, np.integer)) or decay_steps <= warmup_steps:
        raise ValueError(f"pass decay_steps > warmup_steps to warmup_cosine_decay (decay_steps "
                         f"includes the warm-up); got {decay_steps!r} and {warmup_steps!r}.")
    warm = linear(init_value, peak_value, warmup_steps)
    decay_len = decay_steps - warmup_steps

    def schedule(count):
        t = np.clip(count - warmup_steps, 0, decay_len)
        c = 0.5 * (1.0 + np.cos(np.pi * t / decay_len))
        cos = (peak_value - end_value) * c ** exponent + end_value
        return np.where(count < warmup_steps, warm(count), cos)
    return schedule


def exponential_decay(init_value, transition_steps: int, decay_rate, transition_begin: int = 0,
                      staircase: bool = False, end_value=None):
    """init_value * decay_rate ** (max(t - transition_begin, 0) / transition_steps), the
    exponent floored when staircase, bounded by end_value when given.

    Example:
      >>> float(exponential_decay(1.0, 10, 0.5)(20))
      0.25
    """
    _check_steps("exponential_decay", transition_steps=transition_steps)

    def schedule(count):
        p = np.maximum(count - transition_begin, 0) / transition_steps
        if staircase:
            p = np.floor(p)
        value = init_value * decay_rate ** p
        if end_value is not None:
            bound = np.maximum if decay_rate < 1 else np.minimum
            value = bound(value, end_value)
        return value
    return schedule
