"""Engine: runs a graph of problems and gives each one its hypergradient."""

from __future__ import annotations

import numpy as np

import frechet
from frechet import optim
from frechet.extend import numpy_for
from frechet.multilevel._graph import Graph
from frechet.multilevel._problem import Problem

# Note: the training-loop progress bar and batch cycling of frechet.optim (one implementation)
from frechet.optim._progress import batches, progress_bar


class Engine:
    """A multilevel optimisation: problems connected upper -> lower.

    A lower problem's parameters are a function of its uppers' (its best response, given by
    its `method`); an upper problem's loss sees its lowers' parameters. The hypergradient of
    a problem is the total derivative of its loss with respect to its own parameters along
    every path through the problems below it (its uppers held fixed).

    Args:
      problems: a list of Problem, with distinct names.
      upper_to_lower: {"upper": ["lower", ...]}: the lowers whose parameters the upper's
        loss receives (after its uppers), in this order.
      lower_to_upper: {"lower": ["upper", ...]}: the uppers whose parameters the lower's
        loss receives (right after its own parameters), in this order.

    Example:
      >>> import numpy as np
      >>> from frechet import optim
      >>> from frechet.multilevel import Engine, Problem
      >>> inner = Problem("inner", lambda w, lam, batch: np.sum((w - lam) ** 2),
      ...                 np.zeros(2), optim.sgd(0.25), steps=20)
      >>> outer = Problem("outer", lambda lam, w, batch: np.sum((w - 1.0) ** 2),
      ...                 np.zeros(2), optim.sgd(0.25))
      >>> engine = Engine([outer, inner], upper_to_lower={"outer": ["inner"]},
      ...                 lower_to_upper={"inner": ["outer"]})
      >>> history = engine.run(30, progress=False)
      >>> np.round(engine.params["outer"], 3)
      array([1., 1.])
    """

    def __init__(self, problems, upper_to_lower=None, lower_to_upper=None):
        problems = list(problems)
        for p in problems:
            if not isinstance(p, Problem):
                raise TypeError(f"pass Engine a list of Problem objects; got {p!r}.")
        names = [p.name for p in problems]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"give every Problem a distinct name; {dup} are repeated.")
        self.problems = {p.name: p for p in problems}
        self.graph = Graph(names, upper_to_lower, lower_to_upper)
        self.params = {p.name: p.params for p in problems}
        self.opt_states = {p.name: p.optimiser.init(p.params) for p in problems}
        self.batches = dict.fromkeys(names)

    # -- losses as functions of parameters ---------------------------------------------

    def loss(self, name: str, params=None, env=None):
        """Problem `name`'s loss at `params` (default its current ones) with every other
        problem at its current parameters (or at `env[...]`), no responses."""
        env = dict(self.params if env is None else env)
        if params is not None:
            env[name] = params
        g = self.graph
        args = [env[n] for n in g.uppers[name] + g.lowers[name]]
        return self.problems[name].loss(env[name], *args, self.batches[name])

    def total_loss(self, name: str, params, respond=None):
        """Problem `name`'s loss at `params`, every problem below it replaced by its
        response (its method's differentiable function of the parameters above it), the
        rest at their current parameters. Differentiable in `params` (frechet.grad of it
        is hypergradient(name); frechet.hessian of it gives the top level's Hessian)."""
        self._check_name(name)
        return self._total(name, params, dict(self.params), respond or self._respond)

    def _total(self, name, params, env, respond):
        env = dict(env)
        env[name] = params
        for low in self.graph.descendants[name]:
            env[low] = respond(low, env)
        return self.loss(name, params, env)

    def _env_for(self, name, env):
        below = set(self.graph.descendants[name])
        return {k: v for k, v in env.items() if k != name and k not in below}

    def _respond(self, name, env):
        problem = self.problems[name]

        def objective(p, env):
            return self._total(name, p, env, self._respond)

        return problem.method.respond(objective, self.params[name], self.opt_states[name],
                                      problem.optimiser, self._env_for(name, env))

    def hypergradient(self, name: str):
        """The total derivative of problem `name`'s loss with respect to its own parameters
        at the current state, along every path through the problems below it (each
        responding by its own method); a pytree like its params."""
        self._check_name(name)
        return frechet.grad(lambda p: self.total_loss(name, p))(self.params[name])

    def _check_name(self, name):
        if name not in self.problems:
            raise KeyError(f"use one of the problem names {sorted(self.problems)}; "
                           f"got {name!r}.")

    # -- running -------------------------------------------------------------------------

    def _streams(self, data):
        if isinstance(data, dict):
            for key in data:
                self._check_name(key)
            return {n: batches(data.get(n)) for n in self.problems}, False
        return batches(data), True

    def step(self, name: str):
        """One optimiser step of problem `name` along its hypergradient."""
        problem = self.problems[name]
        grads = self.hypergradient(name)
        updates, self.opt_states[name] = problem.optimiser.update(
            grads, self.opt_states[name], self.params[name])
        self.params[name] = optim.apply_updates(self.params[name], updates)

    def run(self, iterations: int, data=None, callback=None, progress: bool = True):
        """Run `iterations` iterations: in each, every problem, lowest first, takes its
        `steps` optimiser steps along its hypergradient (a lowest problem's is its gradient;
        uppers held fixed), after a reset to its initial state when warm_start=False.

        Args:
          iterations: the number of iterations.
          data: None (batch=None), an iterable of batches (one batch per iteration, given
            to every problem), or a dict name -> iterable (per problem; absent names get
            None). Lists are cycled; an iterator that runs out ends the run.
          callback: callback(iteration, losses), losses a dict name -> float after the
            iteration.
          progress: show a progress bar (tqdm when installed, else a line on stderr).

        Returns:
          A dict name -> NumPy array of that problem's loss after each iteration.
        """
        if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
            raise ValueError(f"pass a non-negative integer iterations; got {iterations!r}.")
        streams, shared = self._streams(data)
        history = {n: [] for n in self.problems}
        bar = progress_bar(iterations, progress, "multilevel", "iteration")
        try:
            for it in range(iterations):
                try:
                    if shared:
                        self.batches = dict.fromkeys(self.problems, next(streams))
                    else:
                        self.batches = {n: next(s) for n, s in streams.items()}
                except StopIteration:
                    break
                for name in reversed(self.graph.order):
                    self._advance(name)
                losses = {n: float(self._loss_value(n)) for n in self.graph.order}
                for n, v in losses.items():
                    history[n].append(v)
                if bar is not None:
                    bar.update(losses)
                if callback is not None:
                    callback(it, losses)
        finally:
            if bar is not None:
                bar.close()
        return {n: np.asarray(v) for n, v in history.items()}

    def _loss_value(self, name):
        """The loss at the current parameters, for the history. NumPy functions in the loss
        reach frechet's dispatch only on traced values, so on another library's parameters
        (torch tensors) it is evaluated through frechet.jit (traced, then torch's functions)."""
        if numpy_for(self.params) is np:
            return self.loss(name)
        return frechet.jit(lambda env: self.loss(name, None, env))(dict(self.params))

    def _advance(self, name):
        problem = self.problems[name]
        if not problem.warm_start:
            self.params[name] = problem.params
            self.opt_states[name] = problem.optimiser.init(problem.params)
        for _ in range(problem.steps):
            self.step(name)
