"""Argmax (one-hot) and the 0-1 (multi-dimensional) knapsack: maximisation oracles."""

from __future__ import annotations

import numpy as np

from frechet.decision._oracle import Oracle, Sense
from frechet.decision._programs import milp_solutions

# Enumeration of the feasible subsets is exact and one matrix product per batch; above this
# many items it costs more than one HiGHS call per instance
MAX_ENUMERATED_ITEMS = 16


class Argmax(Oracle):
    """The one-hot argmax of each cost vector (maximisation over the simplex's vertices).

    Example:
      >>> import numpy as np
      >>> Argmax().solve(np.array([[0.5, -1.0], [0.0, 2.0]]))[0]
      array([[1., 0.],
             [0., 1.]])
    """

    sense = Sense.MAX
    num_cost = None

    def solve_numpy(self, costs: np.ndarray) -> np.ndarray:
        sols = np.zeros_like(costs)
        sols[np.arange(costs.shape[0]), np.argmax(costs, axis=-1)] = 1.0
        return sols

    def __repr__(self):
        return "Argmax()"


class Knapsack(Oracle):
    """max c^T w subject to W w <= capacities, w in {0, 1}^m (PyEPO's knapsack model).

    Exact by one of three methods, chosen from the instance: enumeration of the feasible
    subsets (m <= 16; one matrix product per batch), dynamic programming over the capacity
    (one dimension, integer weights and capacity; vectorised over the batch), otherwise
    `scipy.optimize.milp` (HiGHS) per instance. Costs may be negative (then such items are
    left out).

    Args:
      weights: (dim, m) or (m,) nonnegative item weights.
      capacities: (dim,) or a scalar.

    Example:
      >>> import numpy as np
      >>> ks = Knapsack(weights=[3.0, 4.0, 5.0], capacities=7.0)
      >>> ks.solve(np.array([4.0, 5.0, 6.0]))
      (array([1., 1., 0.]), np.float64(9.0))
    """

    sense = Sense.MAX

    def __init__(self, weights, capacities):
        self.weights = np.atleast_2d(np.asarray(weights, dtype=np.float64))
        self.capacities = np.broadcast_to(np.asarray(capacities, dtype=np.float64),
                                          (self.weights.shape[0],)).copy()
        _check_knapsack(self.weights, self.capacities)
        self.num_cost = self.weights.shape[1]
        # the method (its name is for display and tests) is chosen once, from the instance
        self.method, self._solver = self._choose_method()

    def solve_numpy(self, costs: np.ndarray) -> np.ndarray:
        return self._solver(costs)

    def _choose_method(self):
        weights, caps = self.weights, self.capacities
        if self.num_cost <= MAX_ENUMERATED_ITEMS:
            subsets = _feasible_subsets(weights, caps)
            return "enumerate", lambda c: subsets[np.argmax(c @ subsets.T, axis=-1)]
        integral = np.all(weights == np.round(weights)) and np.all(caps == np.round(caps))
        if weights.shape[0] == 1 and integral and caps[0] <= 10**6:
            w, cap = weights[0].astype(np.int64), int(caps[0])
            return "dp", lambda c: _dp_solutions(c, w, cap)
        return "milp", lambda c: milp_solutions(-c, weights, caps, None, None, (0.0, 1.0),
                                                np.ones(self.num_cost))

    def __repr__(self):
        return f"Knapsack(items={self.num_cost}, dim={self.weights.shape[0]}, " \
               f"method={self.method!r})"


def _check_knapsack(weights, capacities):
    if weights.ndim != 2 or weights.shape[1] == 0:
        raise ValueError(f"pass weights of shape (m,) or (dim, m); got {weights.shape}")
    if np.any(weights < 0) or np.any(capacities < 0):
        raise ValueError("pass nonnegative weights and capacities")


def _feasible_subsets(weights, capacities):
    m = weights.shape[1]
    subsets = ((np.arange(2 ** m)[:, None] >> np.arange(m)) & 1).astype(np.float64)
    # Note: the weights' sums carry rounding error; a subset exactly at capacity is feasible
    tol = 1e-9 * max(1.0, float(np.max(capacities)))
    feasible = np.all(subsets @ weights.T <= capacities + tol, axis=1)
    return subsets[feasible]


def _dp_solutions(costs, weights, capacity):
    """0-1 knapsack by dynamic programming over the capacity, vectorised over the batch."""
    b, m = costs.shape
    best = np.zeros((b, capacity + 1))          # best[:, r]: best value within capacity r
    take = np.zeros((m, b, capacity + 1), dtype=bool)
    for k in range(m):
        wk = weights[k]
        if wk > capacity:
            continue
        with_k = best[:, :capacity + 1 - wk] + costs[:, k:k + 1]
        take[k, :, wk:] = with_k > best[:, wk:]
        best[:, wk:] = np.maximum(best[:, wk:], with_k)
    sols = np.zeros((b, m))
    room = np.full(b, capacity)
    rows = np.arange(b)
    for k in reversed(range(m)):
        chosen = take[k, rows, room]
        sols[chosen, k] = 1.0
        room = room - chosen * weights[k]
    return sols
