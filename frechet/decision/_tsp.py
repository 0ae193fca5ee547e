"""The symmetric travelling salesman problem (PyEPO's TSP): exact, by Held-Karp dynamic
programming over the batch for small n, else HiGHS with subtour-elimination cuts."""

from __future__ import annotations

import itertools

import numpy as np
import scipy.optimize
import scipy.sparse.csgraph

from frechet.decision._oracle import Oracle, Sense
from frechet.decision._programs import SolverError

# Held-Karp keeps (B, 2^(n-1), n-1) partial tour costs: beyond this many nodes HiGHS is cheaper
MAX_HELD_KARP_NODES = 13


def tsp_edges(num_nodes: int) -> list[tuple[int, int]]:
    """The undirected edges (i, j), i < j, in PyEPO's order (row-major upper triangle, as
    scipy's pdist): (0, 1), (0, 2), ..., (0, n-1), (1, 2), ...

    Example:
      >>> tsp_edges(4)
      [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    """
    return list(itertools.combinations(range(num_nodes), 2))


class TSP(Oracle):
    """Minimum-cost Hamiltonian cycle on a complete graph, one cost per edge in `tsp_edges`'
    order; a solution is the tour's 0/1 edge indicator (num_nodes edges).

    Exact: Held-Karp dynamic programming vectorised over the batch when num_nodes <=
    max_dp_nodes (memory B 2^(n-1) (n-1) floats), otherwise `scipy.optimize.milp` (HiGHS) per
    instance on the degree constraints, adding the subtour-elimination cut of every subtour
    found until the solution is one tour.

    Example:
      >>> import numpy as np
      >>> costs = np.array([1.0, 5.0, 1.0, 1.0, 5.0, 1.0])   # the square 0-1-2-3 is cheapest
      >>> TSP(4).solve(costs)
      (array([1., 0., 1., 1., 0., 1.]), np.float64(4.0))
    """

    sense = Sense.MIN

    def __init__(self, num_nodes: int, max_dp_nodes: int = MAX_HELD_KARP_NODES):
        if num_nodes < 3:
            raise ValueError(f"pass num_nodes >= 3 for a tour; got {num_nodes!r}")
        self.num_nodes = int(num_nodes)
        self.edges = tsp_edges(self.num_nodes)
        self.num_cost = len(self.edges)
        self._index = np.full((num_nodes, num_nodes), len(self.edges))   # diagonal: no edge
        for k, (i, j) in enumerate(self.edges):
            self._index[i, j] = self._index[j, i] = k
        self.held_karp = self.num_nodes <= max_dp_nodes
        if self.held_karp:
            self._steps = _held_karp_steps(self.num_nodes - 1)

    def solve_numpy(self, costs: np.ndarray) -> np.ndarray:
        if self.held_karp:
            return self._held_karp(costs)
        return np.stack([self._cutting_planes(c) for c in costs])

    def _held_karp(self, costs):
        n, b = self.num_nodes, costs.shape[0]
        padded = np.concatenate([costs, np.full((b, 1), np.inf)], axis=1)
        dist = padded[:, self._index]                     # (B, n, n), inf on the diagonal
        m = n - 1                                         # nodes 1..n-1 as bits 0..m-1
        best = np.full((b, 1 << m, m), np.inf)
        parent = np.zeros((b, 1 << m, m), dtype=np.int64)
        for j in range(m):
            best[:, 1 << j, j] = dist[:, 0, j + 1]
        for j, masks in self._steps:                     # subsets by size: parents first
            via = best[:, masks ^ (1 << j), :] + dist[:, None, 1:, j + 1]   # (B, S, m)
            parent[:, masks, j] = np.argmin(via, axis=2)
            best[:, masks, j] = np.min(via, axis=2)
        full = (1 << m) - 1
        last = np.argmin(best[:, full, :] + dist[:, 1:, 0], axis=1)
        return self._tour(parent, last)

    def _tour(self, parent, last):
        b, m = parent.shape[0], self.num_nodes - 1
        rows = np.arange(b)
        sols = np.zeros((b, self.num_cost))
        sols[rows, self._index[0, last + 1]] = 1.0
        mask, j = np.full(b, (1 << m) - 1), last
        for _ in range(m - 1):
            i = parent[rows, mask, j]
            sols[rows, self._index[i + 1, j + 1]] = 1.0
            mask, j = mask ^ (1 << j), i
        sols[rows, self._index[0, j + 1]] = 1.0
        return sols

    def _cutting_planes(self, cost):
        n, edges = self.num_nodes, np.array(self.edges)
        degree = np.zeros((n, self.num_cost))
        degree[edges[:, 0], np.arange(self.num_cost)] = 1.0
        degree[edges[:, 1], np.arange(self.num_cost)] = 1.0
        constraints = [scipy.optimize.LinearConstraint(degree, 2.0, 2.0)]
        while True:
            res = scipy.optimize.milp(cost, constraints=constraints, bounds=(0, 1),
                                      integrality=np.ones(self.num_cost))
            if res.status != 0:
                raise SolverError(f"milp found no tour: {res.message}")
            x = np.round(res.x)
            components = _components(n, edges[x > 0.5])
            if len(components) == 1:
                return x
            for nodes in components:       # at most |S| - 1 edges inside each subtour S
                inside = np.isin(edges[:, 0], nodes) & np.isin(edges[:, 1], nodes)
                constraints.append(scipy.optimize.LinearConstraint(
                    inside.astype(np.float64)[None], -np.inf, len(nodes) - 1.0))

    def __repr__(self):
        method = "Held-Karp" if self.held_karp else "HiGHS with subtour cuts"
        return f"TSP(num_nodes={self.num_nodes}, {method})"


def _held_karp_steps(m):
    """(j, subsets of size k containing bit j) for k = 2..m: the order in which Held-Karp
    fills its table (a subset's entries only read subsets one smaller)."""
    masks = np.arange(1 << m)
    sizes = np.array([k.bit_count() for k in range(1 << m)])
    return [(j, masks[(sizes == k) & ((masks >> j) & 1 == 1)])
            for k in range(2, m + 1) for j in range(m)]


def _components(n, chosen):
    graph = scipy.sparse.coo_matrix((np.ones(len(chosen)), (chosen[:, 0], chosen[:, 1])),
                                    shape=(n, n))
    count, labels = scipy.sparse.csgraph.connected_components(graph, directed=False)
    return [np.flatnonzero(labels == k) for k in range(count)]
