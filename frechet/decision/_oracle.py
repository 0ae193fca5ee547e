"""Oracles: batched solvers of linear-objective problems min/max_{w in S} c^T w.

An oracle's `solve(costs)` takes costs of shape (d,) or (B, d) and returns (solutions,
objectives). The solver itself (NumPy dynamic programming, SciPy's HiGHS, anything) runs as
the impl of one primitive on concrete values, once on the whole stacked batch: under `jit` it
runs at trace time and in the generated code, under `vmap` the mapped axis is folded into the
batch (one call, not one per example).

The solution of a problem with a linear objective over a fixed feasible set is piecewise
constant in the costs, so its derivative is zero almost everywhere, and the objective's
derivative is the solution (Danskin's theorem). `solve` says exactly that: the costs reach the
solver through `stop_gradient`, and the objective is `sum(costs * solutions)` in frechet
operations. The losses (spo_plus, fenchel_young) get their (sub)gradients from this alone; the
layers whose gradient is a surrogate (dbb, nid, perturbed) carry a custom_vjp rule.
"""

from __future__ import annotations

import abc
import enum

import numpy as np

import frechet as fr
from frechet import extend as fx


class Sense(enum.Enum):
    """Whether an oracle minimises or maximises c^T w; `value` is the sign s with which the
    losses turn a maximisation into a minimisation (s = 1 for MIN, -1 for MAX)."""

    MIN = 1
    MAX = -1


class Oracle(abc.ABC):
    """Abstract: a solver of min (or max) c^T w over a fixed feasible set, batched.

    Subclasses set `sense` (a Sense) and `num_cost` (d, or None when any d is accepted) and
    implement `solve_numpy(costs)`: a float array (B, d) in, solutions (B, d) out.
    """

    sense: Sense
    num_cost: int | None

    @abc.abstractmethod
    def solve_numpy(self, costs: np.ndarray) -> np.ndarray:
        """Optimal solutions (B, d) for concrete costs (B, d); no tracers, no derivatives."""

    def solve(self, costs):
        """Optimal solutions and objective values for a batch of costs.

        Args:
          costs: shape (d,) or (B, d) (any leading shape), a NumPy array or a traced value.

        Returns:
          (solutions, objectives): solutions with the shape of `costs`, objectives
          `sum(costs * solutions, axis=-1)`.

        Example:
          >>> import numpy as np
          >>> from frechet.decision import Argmax
          >>> Argmax().solve(np.array([[1.0, 3.0, 2.0]]))
          (array([[0., 1., 0.]]), array([3.]))
        """
        costs = costs if hasattr(costs, "shape") else np.asarray(costs, dtype=np.float64)
        _check_costs(self, costs)
        # Note: the solution's derivative is zero (exact almost everywhere: it is piecewise
        # constant); the objective's is the solution (Danskin)
        sols = solve_p.bind(fr.stop_gradient(costs), oracle=self)
        return sols, fx.numpy_for(costs).sum(costs * sols, axis=-1)

    def __repr__(self):
        return f"{type(self).__name__}(sense={self.sense.name}, num_cost={self.num_cost})"


def _check_costs(oracle, costs):
    shape = np.shape(costs)
    if len(shape) == 0:
        raise fr.ShapeError(f"pass costs of shape (d,) or (B, d) to {oracle!r}.solve; got a "
                            f"scalar")
    if oracle.num_cost is not None and shape[-1] != oracle.num_cost:
        raise fr.ShapeError(f"pass costs with last axis {oracle.num_cost} to {oracle!r}.solve; "
                            f"got shape {shape}")


def _out_dtype(dtype):
    return np.dtype(dtype) if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def _impl(costs, *, oracle):
    costs = np.asarray(costs)
    flat = costs.reshape(-1, costs.shape[-1]).astype(np.float64)
    sols = np.asarray(oracle.solve_numpy(flat))
    if sols.shape != flat.shape:
        raise fr.ShapeError(f"return solutions of shape {flat.shape} from {oracle!r}."
                            f"solve_numpy; it returned {sols.shape}")
    return sols.reshape(costs.shape).astype(_out_dtype(costs.dtype))


def _abstract(spec, *, oracle):
    return fx.ArraySpec(spec.shape, _out_dtype(spec.dtype))


# Note: made with fx.Primitive, not registered with fx.primitive (like implicit.solver_call):
# its param is an oracle object, which a program's pickled form cannot name. It has no JVP
# rule on purpose: `solve` stops the costs' gradient before binding it, so a tangent never
# reaches it, and a rule that does bind it with one is told so by the engine.
solve_p = fx.Primitive("decision.solve", _impl, _abstract)


def _impl_on_host(costs, *, oracle):
    """Another library's costs (torch tensors): the solvers compute on NumPy arrays (dynamic
    programming, SciPy's HiGHS), so the costs are copied to the host explicitly and the
    solutions copied back into the costs' library and device."""
    return fx.to_library(_impl(fx.to_host(costs), oracle=oracle), costs)


# Note: on another library's arrays the solver runs on a host copy (_impl_on_host)
solve_p.array_api = lambda xp: _impl_on_host

# The solver takes any leading shape: a vmapped axis is one more leading axis
solve_p.batch = lambda args, batched, *, oracle: solve_p.bind(args[0], oracle=oracle)
