"""Hypergradient methods: how a lower problem's parameters become a differentiable function
of the parameters above it (its best response).

Each method gets `objective(params, env)`: the problem's loss as a function of its own
parameters and of `env` (a dict name -> parameters of every problem it can depend on), with
its own lowers already replaced by their responses, so methods compose at any depth.
"""

from __future__ import annotations

import abc

import numpy as np
import optree

import frechet
from frechet import linalg, optim
from frechet.extend import Tracer, numpy_for
from frechet.implicit import custom_root
from frechet.multilevel._trees import norm, tree_map


class Method(abc.ABC):
    """A hypergradient method (abstract)."""

    @abc.abstractmethod
    def respond(self, objective, params, opt_state, optimiser, env):
        """The problem's parameters as a differentiable function of `env`."""


class Unroll(Method):
    """Differentiate `steps` optimiser steps of the lower problem, taken from its current
    parameters and optimiser state (frechet.optim updates are differentiable).

    The derivative is that of the steps, not of the optimum: it tends to the implicit one
    as the steps converge (a contractive optimiser, enough steps).

    Args:
      steps: the number of unrolled steps (Betty's `unroll_steps`).
      truncate: differentiate only the last steps (frechet.optim.unroll's `truncate`).
      checkpoint_every: recompute blocks of steps in reverse mode (less memory).

    Example:
      >>> method = Unroll(20)
    """

    def __init__(self, steps: int = 10, truncate: int | None = None,
                 checkpoint_every: int | None = None):
        for label, value in (("steps", steps), ("truncate", truncate),
                             ("checkpoint_every", checkpoint_every)):
            if value is not None and (not isinstance(value, (int, np.integer))
                                      or isinstance(value, bool) or value < 1):
                raise ValueError(f"pass a positive integer {label} to Unroll; got {value!r}.")
        self.steps, self.truncate, self.checkpoint_every = int(steps), truncate, checkpoint_every

    def respond(self, objective, params, opt_state, optimiser, env):
        def step(carry, env):
            p, s = carry
            updates, s = optimiser.update(frechet.grad(objective)(p, env), s, p)
            return optim.apply_updates(p, updates), s

        p, _ = optim.unroll(step, (params, opt_state), self.steps, truncate=self.truncate,
                            checkpoint_every=self.checkpoint_every, args=(env,))
        return p

    def __repr__(self):
        extra = f", truncate={self.truncate}" if self.truncate else ""
        return f"Unroll({self.steps}{extra})"


class Implicit(Method):
    """The implicit function theorem at the lower problem's current parameters, treated as
    its optimum: d lower / d upper = -H^-1 d^2 L / d lower d upper, H applied by
    Hessian-vector products inside `solver` (frechet.implicit.custom_root on the gradient of
    the lower's loss). Exact when the lower problem is solved; at an unconverged state it is
    the implicit formula evaluated there (not the unrolled derivative).

    Args:
      solver: a frechet.linalg solver (CG(), GMRES(), Dense(), Neumann(k, alpha), ...);
        default: custom_root's choice (Dense up to 500 unknowns, else CG).

    Example:
      >>> import frechet
      >>> method = Implicit(solver=frechet.linalg.CG(tol=1e-10))
    """

    def __init__(self, solver=None):
        self.solver = solver

    def respond(self, objective, params, opt_state, optimiser, env):
        def optimality(p, env):
            return frechet.grad(objective)(p, env)

        @custom_root(optimality, solve=self.solver, symmetric=True)
        def current(init, env):
            return init      # warm-started state, taken as the optimum

        return current(params, env)

    def __repr__(self):
        return f"Implicit({type(self.solver).__name__ + '()' if self.solver else ''})"


class Neumann(Implicit):
    """Implicit, with H^-1 replaced by the truncated Neumann series
    alpha * sum_{j<k} (I - alpha H)^j (k terms; frechet.linalg.Neumann). Converges to Implicit
    as k grows when 0 < alpha < 2 / lambda_max(H). Betty's "K iterations" are k = K + 1 terms.

    Example:
      >>> method = Neumann(50, alpha=0.1)
    """

    def __init__(self, k: int = 10, alpha: float = 1.0):
        super().__init__(linalg.Neumann(k, alpha))
        self.k, self.alpha = k, alpha

    def __repr__(self):
        return f"Neumann({self.k}, alpha={self.alpha})"


class FiniteDifference(Method):
    """An approximation (Betty's default "darts", from DARTS): H^-1 is replaced by the
    identity and the mixed term by a central difference of gradients,

        v -> (grad_upper L(w - e v) - grad_upper L(w + e v)) / (2 e),  e = eps / |v|,

    so the result is not the hypergradient even at the optimum (its scale is off by H).
    Reverse mode, first order only: a Hessian or forward mode through it raises
    NonDifferentiableError.

    Example:
      >>> method = FiniteDifference(0.01)
    """

    def __init__(self, eps: float = 0.01):
        if not eps > 0:
            raise ValueError(f"pass a positive eps to FiniteDifference; got {eps!r}.")
        self.eps = eps

    def respond(self, objective, params, opt_state, optimiser, env):
        eps = self.eps

        @frechet.custom_vjp
        def current(env):
            return params

        def fwd(env):
            return params, env

        def bwd(env, v):
            if any(isinstance(leaf, Tracer) for leaf in optree.tree_leaves(v)):
                raise frechet.NonDifferentiableError(
                    "use Implicit(), Neumann(k, alpha) or Unroll(steps) for derivatives of a "
                    "hypergradient (Hessians, forward mode): FiniteDifference is a first-order, "
                    "reverse-mode approximation and has no derivative of its own.")
            size = norm(v)
            if size == 0.0:
                return (tree_map(numpy_for(env).zeros_like, env),)
            e = eps / size
            plus = tree_map(lambda p, t: p + e * t, params, v)
            minus = tree_map(lambda p, t: p - e * t, params, v)
            g_plus = frechet.grad(objective, argnums=1)(plus, env)
            g_minus = frechet.grad(objective, argnums=1)(minus, env)
            return (tree_map(lambda a, b: (a - b) / (2 * e), g_minus, g_plus),)

        current.defvjp(fwd, bwd)
        return current(env)

    def __repr__(self):
        return f"FiniteDifference({self.eps})"


_NAMES = {"unroll": Unroll, "implicit": Implicit, "neumann": Neumann,
          "finite_difference": FiniteDifference}


def as_method(method) -> Method:
    """A Method from a Method, a name ("unroll", "implicit", "neumann", "finite_difference")
    or None (Implicit())."""
    if method is None:
        return Implicit()
    if isinstance(method, Method):
        return method
    if isinstance(method, str) and method in _NAMES:
        return _NAMES[method]()
    raise ValueError(f"pass method= as one of {sorted(_NAMES)} or an object such as "
                     f"Implicit(solver=CG()), Unroll(10); got {method!r}.")
