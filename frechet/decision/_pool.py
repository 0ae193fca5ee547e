"""A solution pool (PyEPO's `solve_ratio`): solve some batches, answer others from a cache."""

from __future__ import annotations

import numpy as np

from frechet.decision._oracle import Oracle


class SolutionPool(Oracle):
    """An oracle that calls `oracle` on a batch with probability `solve_ratio` (adding the
    solutions it finds to a pool) and otherwise returns, for each instance, the best solution
    in the pool (one matrix product). With solve_ratio = 1 it is `oracle` plus a record of
    its solutions; below 1 it is an approximation whose quality grows with the pool.

    Args:
      oracle: the exact oracle.
      solve_ratio: probability in [0, 1] of calling the oracle on a batch.
      initial: optional (K, d) solutions to start the pool with (e.g. the training set's
        optimal solutions, as PyEPO does); the pool must not be empty when solve_ratio = 0.
      seed: an int, a numpy Generator or None, for the coin flips.

    Example:
      >>> import numpy as np
      >>> from frechet.decision import Argmax
      >>> pool = SolutionPool(Argmax(), solve_ratio=0.0, initial=np.eye(3)[:2])
      >>> pool.solve(np.array([0.0, 1.0, 5.0]))[0]        # index 2 is not in the pool
      array([0., 1., 0.])
    """

    def __init__(self, oracle: Oracle, solve_ratio: float = 1.0, initial=None, seed=None):
        if not 0.0 <= solve_ratio <= 1.0:
            raise ValueError(f"pass a solve_ratio in [0, 1]; got {solve_ratio!r}")
        self.oracle, self.solve_ratio = oracle, float(solve_ratio)
        self.sense, self.num_cost = oracle.sense, oracle.num_cost
        self.rng = np.random.default_rng(seed)
        self.pool = None
        if initial is not None:
            self.add(np.atleast_2d(np.asarray(initial, dtype=np.float64)))

    def add(self, solutions: np.ndarray):
        """Add solutions (K, d) to the pool, keeping each distinct one once."""
        both = solutions if self.pool is None else np.concatenate([self.pool, solutions])
        self.pool = np.unique(both, axis=0)

    def solve_numpy(self, costs: np.ndarray) -> np.ndarray:
        if self.pool is None or self.rng.random() < self.solve_ratio:
            sols = self.oracle.solve_numpy(costs)
            self.add(sols)
            return sols
        values = self.sense.value * (costs @ self.pool.T)
        return self.pool[np.argmin(values, axis=-1)]

    def __repr__(self):
        size = 0 if self.pool is None else len(self.pool)
        return f"SolutionPool({self.oracle!r}, solve_ratio={self.solve_ratio}, size={size})"
