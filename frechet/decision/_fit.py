"""Minibatch training over epochs (PyEPO's loop: a DataLoader with shuffle=True, Adam)."""

from __future__ import annotations

import math

import numpy as np

from frechet import optim


def fit(loss, params, data: tuple, optimiser, epochs: int, batch_size: int = 32, seed=None,
        progress: bool = True):
    """Minimise `loss(params, *batch)` over `epochs` passes through `data` in shuffled
    minibatches; a thin layer over `frechet.optim.fit` (its progress bar, its history).

    Args:
      loss: a scalar function `loss(params, *arrays)` of the parameters and one minibatch of
        each array in `data`.
      params: the initial parameters (any pytree).
      data: a tuple of arrays sharing their first axis (features, costs, solutions, ...).
      optimiser: a frechet.optim GradientTransformation (PyEPO uses `optim.adam(1e-2)`).
      epochs: passes through the data, each in a fresh random order (the last minibatch of
        an epoch may be smaller).
      batch_size: instances per minibatch.
      seed: an int, a numpy Generator or None, for the shuffling.
      progress: show a progress bar.

    Returns:
      The final parameters and the loss before each update (a NumPy array).

    Example:
      >>> import numpy as np
      >>> from frechet import optim
      >>> x = np.arange(10.0)
      >>> w, hist = fit(lambda w, xb: np.mean((w - xb) ** 2), 0.0, (x,), optim.sgd(0.1),
      ...               epochs=30, batch_size=5, seed=0, progress=False)
      >>> round(float(w), 1), len(hist)
      (4.5, 60)
    """
    n = len(data[0])
    if any(len(a) != n for a in data):
        raise ValueError(f"pass arrays with one first-axis length; got "
                         f"{[len(a) for a in data]}")
    rng = np.random.default_rng(seed)

    def minibatches():
        for _ in range(epochs):
            order = rng.permutation(n)
            for start in range(0, n, batch_size):
                rows = order[start:start + batch_size]
                yield tuple(a[rows] for a in data)

    steps = epochs * math.ceil(n / batch_size)
    return optim.fit(lambda p, batch: loss(p, *batch), params, optimiser, steps,
                     data=minibatches(), progress=progress)
