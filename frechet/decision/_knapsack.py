"""Argmax (one-hot) and the 0-1 (multi-dimensional) knapsack: maximisation oracles."""

from __future__ import annotations

import numpy as np

from frechet.decision._oracle import Oracle, Sense
from frechet.decision._programs import milp_solutions

# Size rules for the exact batched methods (above both, HiGHS per instance). Dynamic
# programming keeps one take/skip bit per item and capacity cell: m * prod(capacities + 1)
# cells per instance, at about 3 ns a cell here: 2**22 cells cost about one HiGHS call (~10 ms).
# Enumeration keeps the feasible subsets as a (K, m) 0/1 matrix and costs one (B, m) x (m, K)
# product per batch.
MAX_DP_CELLS = 2**22
MAX_SUBSETS = 2**16
# Instances per chunk of a batch, so that a chunk's table or (B, K) values stay below this
CHUNK_ELEMENTS = 2**23


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

    Exact by one of three methods, chosen once from the instance (`method`):

    * "dp": integer weights and capacities with m * prod(capacities + 1) <= MAX_DP_CELLS:
      dynamic programming over the capacity grid (any dimension), vectorised over the batch;
    * "enumerate": at most MAX_SUBSETS feasible subsets (PyEPO's paper instance, 32 items
      of weight 3.00-7.99 in 2 dimensions of capacity 20, has 4 500 to 9 400): all of them,
      listed once by growing feasible sets item by item, then one matrix product per batch;
    * "milp": otherwise, `scipy.optimize.milp` (HiGHS) per instance.

    Costs may be negative (such items are then left out). Ties: among optimal subsets "dp"
    and "enumerate" both return the one whose code sum_k w_k 2^k is smallest (the last items
    left out first), exactly when the costs' sums are exact in float64 (integer costs, as
    PyEPO's); HiGHS returns any optimum.

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
        weights, caps, m = self.weights, self.capacities, self.num_cost
        integral = np.all(weights == np.round(weights)) and np.all(caps == np.round(caps))
        if integral and m * np.prod(caps + 1) <= MAX_DP_CELLS:
            w, cap = weights.astype(np.int64), caps.astype(np.int64)
            return "dp", lambda c: _in_chunks(_dp_solutions, c, m * np.prod(cap + 1), w, cap)
        subsets = _feasible_subsets(weights, caps, MAX_SUBSETS)
        if subsets is not None:
            return "enumerate", lambda c: _in_chunks(_best_subsets, c, len(subsets), subsets)
        return "milp", lambda c: milp_solutions(-c, weights, caps, None, None, (0.0, 1.0),
                                                np.ones(m))

    def __repr__(self):
        return f"Knapsack(items={self.num_cost}, dim={self.weights.shape[0]}, " \
               f"method={self.method!r})"


def _check_knapsack(weights, capacities):
    if weights.ndim != 2 or weights.shape[1] == 0:
        raise ValueError(f"pass weights of shape (m,) or (dim, m); got {weights.shape}")
    if np.any(weights < 0) or np.any(capacities < 0):
        raise ValueError("pass nonnegative weights and capacities")


def _in_chunks(solver, costs, elements_per_instance, *args):
    """solver(costs, *args) on row chunks small enough to bound the solver's memory."""
    rows = max(1, int(CHUNK_ELEMENTS // elements_per_instance))
    return np.concatenate([solver(costs[i:i + rows], *args)
                           for i in range(0, len(costs), rows)] or [np.zeros((0, costs.shape[1]))])


def _feasible_subsets(weights, capacities, limit):
    """Every feasible subset as a (K, m) 0/1 matrix ordered by code sum_k w_k 2^k, or None
    when there are more than `limit`. Grown item by item: a set of size k + 1 is a feasible
    set of size k plus one item of larger index, so only feasible sets are ever formed."""
    dim, m = weights.shape
    # Note: the weights' sums carry rounding error; a subset exactly at capacity is feasible
    room = capacities + 1e-9 * max(1.0, float(np.max(capacities)))
    members = [np.zeros((1, 0), dtype=np.int64)]          # the sets of the current size
    load, last, total = np.zeros((1, dim)), np.array([-1]), 1
    while len(last):
        fits = np.all(load[:, None, :] + weights.T[None] <= room, axis=2)
        fits &= np.arange(m)[None, :] > last[:, None]
        parent, item = np.nonzero(fits)
        total += len(item)
        if total > limit:
            return None
        members.append(np.column_stack((members[-1][parent], item)))
        load, last = load[parent] + weights.T[item], item
    subsets = np.zeros((total, m))
    start = 0
    for sets in members:
        subsets[np.arange(start, start + len(sets))[:, None], sets] = 1.0
        start += len(sets)
    # np.lexsort's primary key is its last: item m-1, then m-2, ... (the code's binary digits)
    return subsets[np.lexsort(subsets.T)]


def _best_subsets(costs, subsets):
    # np.argmax returns the first best, the smallest code
    return subsets[np.argmax(costs @ subsets.T, axis=-1)]


def _dp_solutions(costs, weights, capacities):
    """0-1 knapsack by dynamic programming over the integer capacity grid, vectorised over
    the batch. best[:, r] is the best value of the items seen so far within room r (a cell
    of the grid prod(capacities + 1)); backtracking from the last item takes an item only
    when that is strictly better, which gives the smallest code among optimal subsets."""
    b, m = costs.shape
    best = np.zeros((b, *(capacities + 1)))
    take = np.zeros((m, *best.shape), dtype=bool)
    for k in range(m):
        wk = weights[:, k]
        if np.any(wk > capacities):
            continue
        source = (slice(None), *(slice(0, c + 1 - w) for c, w in zip(capacities, wk)))
        target = (slice(None), *(slice(w, None) for w in wk))
        with_k = best[source] + costs[:, k].reshape(-1, *([1] * len(wk)))
        take[k][target] = with_k > best[target]
        best[target] = np.maximum(best[target], with_k)
    sols = np.zeros((b, m))
    room = np.tile(capacities, (b, 1))
    rows = np.arange(b)
    for k in reversed(range(m)):
        chosen = take[(k, rows, *room.T)]
        sols[chosen, k] = 1.0
        room = room - chosen[:, None] * weights[:, k]
    return sols
