"""Training loops: `unroll` (truncated, checkpointed, differentiable) and `fit` (a helper)."""

from __future__ import annotations

import numpy as np

import frechet
from frechet.optim._base import apply_updates, call_update
from frechet.optim._progress import batches, progress_bar


def _check_count(name: str, value, allow_none: bool = True):
    if value is None and allow_none:
        return
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"pass a positive integer {name}; got {value!r}.")


def _steps(step, state, args, m):
    for _ in range(m):
        state = step(state, *args)
    return state


def unroll(step, state, n: int, truncate: int | None = None,
           checkpoint_every: int | None = None, args: tuple = ()):
    """n applications of `step(state, *args) -> state`, with truncated backpropagation and
    checkpointing.

    Args:
      step: one training step, a function of the state pytree and of `args`.
      state: the initial state (any pytree).
      n: the number of steps (a Python int).
      truncate: cut the derivative every `truncate` steps: the state is passed through
        `frechet.stop_gradient` before steps truncate, 2 truncate, ..., so derivatives see
        only the steps after the last cut, c = truncate * floor((n - 1) / truncate): the
        derivative with respect to the initial state is zero when n > truncate, and with
        respect to `args` it sums the last n - c steps. The first c steps run without
        derivatives (their `args` stop-gradient too), so reverse-mode memory is that of
        n - c <= truncate steps. A differentiated value the step closes over instead of
        receiving through `args` gets the same derivative but costs memory for every step.
      checkpoint_every: run the steps in blocks of this many, each under `frechet.checkpoint`:
        reverse mode keeps one state per block and recomputes one block at a time, so its
        memory is O(n / checkpoint_every + checkpoint_every) states instead of O(n) steps'
        intermediates (pick about sqrt(n)). Values and derivatives are unchanged.
        Differentiated values the step uses (hyperparameters) must then come through
        `args`, not a closure: a checkpointed block cannot recompute from a closure, and
        frechet warns that it keeps that block's intermediates.
      args: extra arguments passed to every step (hyperparameters to differentiate).

    Returns:
      The state after n steps.

    Example:
      >>> step = lambda w, lr: w - lr * 2.0 * (w - 1.0)
      >>> final = lambda lr: unroll(step, 0.0, 100, checkpoint_every=10, args=(lr,))
      >>> round(float(frechet.grad(final)(0.01)), 6)
      27.065215
    """
    _check_count("n", n, allow_none=False)
    _check_count("truncate", truncate)
    _check_count("checkpoint_every", checkpoint_every)

    args = tuple(args)
    # Steps before the last cut reach the result only through the state at the cut, which
    # stop_gradient zeroes, so they run with stop-gradient arguments too: no derivative
    # work and no residuals are recorded for them (memory O(truncate), not O(n)).
    cut = truncate * ((n - 1) // truncate) if truncate is not None else 0
    if cut > 0:
        state = _steps(step, frechet.stop_gradient(state), frechet.stop_gradient(args), cut)
        state = frechet.stop_gradient(state)
    if checkpoint_every is None:
        return _steps(step, state, args, n - cut)
    for start in range(cut, n, checkpoint_every):
        m = min(checkpoint_every, n - start)
        state = frechet.checkpoint(lambda s, a, m=m: _steps(step, s, a, m))(state, args)
    return state


def fit(loss, params, optimiser, steps: int, data=None, progress: bool = True):
    """Minimise `loss` from `params` by `steps` updates of `optimiser`; returns (params, history).

    Args:
      loss: `loss(params)`, or `loss(params, batch)` when `data` is given; a scalar.
      params: the initial parameters (any pytree).
      optimiser: a GradientTransformation; L-BFGS's line search gets `value_fn`.
      steps: the number of updates.
      data: None, or an iterable of batches. A re-iterable one (a list) is cycled through;
        an iterator stops the loop when it runs out (the history is then shorter).
      progress: show a progress bar (tqdm when installed, else one line on stderr).

    Returns:
      The final parameters and a NumPy array of the loss before each update.

    Example:
      >>> p, hist = fit(lambda w: np.sum((w - 2.0) ** 2), np.zeros(2), sgd(0.25), 3,
      ...               progress=False)
      >>> p, hist
      (array([1.75, 1.75]), array([8. , 2. , 0.5]))
    """
    _check_count("steps", steps, allow_none=False)
    state = optimiser.init(params)
    bar = progress_bar(steps, progress, "fit", "step")
    history = []
    try:
        for _, batch in zip(range(steps), batches(data)):
            f = loss if data is None else (lambda p, b=batch: loss(p, b))
            value, grads = frechet.value_and_grad(f)(params)
            updates, state = call_update(optimiser, grads, state, params, value_fn=f,
                                         value=value)
            params = apply_updates(params, updates)
            history.append(float(value))
            if bar is not None:
                bar.update({"loss": history[-1]})
    finally:
        if bar is not None:
            bar.close()
    return params, np.asarray(history)
