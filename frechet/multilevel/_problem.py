"""Problem: one level of a multilevel optimisation."""

from __future__ import annotations

from frechet.multilevel._methods import as_method


class Problem:
    """A problem of the graph: minimise `loss` over `params` with `optimiser`.

    Args:
      name: the problem's name (the graph's dicts refer to it).
      loss: `loss(params, *upper_params, *lower_params, batch)`, a scalar: its uppers, then
        its lowers, each in the order Engine's dicts list them; batch=None without data.
      params: the initial parameters (any pytree of float arrays).
      optimiser: a frechet.optim GradientTransformation.
      method: how this problem's parameters respond to its uppers' in their hypergradients:
        Unroll(steps), Implicit(solver), Neumann(k, alpha), FiniteDifference(eps), or one of
        "unroll", "implicit", "neumann", "finite_difference"; None means Implicit().
      steps: optimiser steps this problem takes per engine iteration.
      warm_start: True (default) continues from the previous parameters each iteration;
        False resets params and optimiser state to the initial ones before each
        iteration's steps (re-solves the problem for the new uppers).

    Example:
      >>> import numpy as np
      >>> from frechet import optim
      >>> from frechet.multilevel import Problem, Unroll
      >>> p = Problem("inner", lambda w, lam, batch: np.sum((w - lam) ** 2), np.zeros(2),
      ...             optim.sgd(0.1), method=Unroll(5), steps=10)
    """

    def __init__(self, name: str, loss, params, optimiser, method=None, steps: int = 1,
                 warm_start: bool = True):
        if not isinstance(name, str) or not name:
            raise TypeError(f"pass name= as a non-empty string; got {name!r}.")
        if not callable(loss):
            raise TypeError(f"pass loss= as a function loss(params, *uppers, *lowers, batch) "
                            f"for problem {name!r}; got {type(loss).__name__}.")
        if not (hasattr(optimiser, "init") and hasattr(optimiser, "update")):
            raise TypeError(f"pass optimiser= as a frechet.optim transformation (e.g. "
                            f"optim.sgd(0.1)) for problem {name!r}; got {optimiser!r}.")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"pass a positive integer steps= for problem {name!r}; "
                             f"got {steps!r}.")
        self.name, self.loss, self.params, self.optimiser = name, loss, params, optimiser
        self.method = as_method(method)
        self.steps, self.warm_start = steps, bool(warm_start)

    def __repr__(self):
        return f"Problem({self.name!r}, method={self.method!r}, steps={self.steps})"
