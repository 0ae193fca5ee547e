"""Shortest path on a grid (PyEPO's model): exact, by dynamic programming over the batch."""

from __future__ import annotations

import numpy as np

from frechet.decision._oracle import Oracle, Sense


def grid_arcs(grid: tuple[int, int]) -> list[tuple[int, int]]:
    """PyEPO's arcs of an (h, w) grid, in its order: nodes v = i * w + j row-major; for each
    row i the horizontal arcs v -> v + 1 (j = 0..w-2), then, except on the last row, the
    vertical arcs v -> v + w (j = 0..w-1).

    Example:
      >>> arcs = grid_arcs((5, 5))
      >>> len(arcs), arcs[0], arcs[4]
      (40, (0, 1), (0, 5))
    """
    h, w = grid
    arcs = []
    for i in range(h):
        arcs += [(i * w + j, i * w + j + 1) for j in range(w - 1)]
        if i < h - 1:
            arcs += [(i * w + j, (i + 1) * w + j) for j in range(w)]
    return arcs


class ShortestPath(Oracle):
    """Minimum-cost path from the top-left node to the bottom-right one, moving right or down.

    Costs are one per arc, in `grid_arcs(grid)`'s order (PyEPO's); a solution is the path's
    0/1 arc indicator. Exact for any real costs (the grid is a DAG), solved by dynamic
    programming over the anti-diagonals, vectorised over the batch: h + w - 1 NumPy steps
    forward and h + w - 2 back, whatever the batch size.

    Example:
      >>> import numpy as np
      >>> sp = ShortestPath(grid=(2, 2))       # arcs (0,1), (0,2), (1,3), (2,3)
      >>> sp.solve(np.array([1.0, 2.0, 5.0, 1.0]))
      (array([0., 1., 0., 1.]), np.float64(3.0))
    """

    sense = Sense.MIN

    def __init__(self, grid: tuple[int, int] = (5, 5)):
        h, w = (int(g) for g in grid)
        if h < 1 or w < 1 or h * w < 2:
            raise ValueError(f"pass a grid of at least two nodes; got {grid!r}")
        self.grid = (h, w)
        self.arcs = grid_arcs(self.grid)
        self.num_cost = len(self.arcs)
        index = {a: k for k, a in enumerate(self.arcs)}
        # Arc into node (i, j) from the left and from above, -1 where there is none
        self._from_left = np.full((h, w), -1)
        self._from_up = np.full((h, w), -1)
        for i in range(h):
            for j in range(w):
                v = i * w + j
                if j > 0:
                    self._from_left[i, j] = index[(v - 1, v)]
                if i > 0:
                    self._from_up[i, j] = index[(v - w, v)]
        self._diagonals = [np.array([(i, k - i) for i in range(h) if 0 <= k - i < w]).T
                           for k in range(1, h + w - 1)]

    def solve_numpy(self, costs: np.ndarray) -> np.ndarray:
        h, w = self.grid
        b = costs.shape[0]
        padded = np.concatenate([costs, np.full((b, 1), np.inf)], axis=1)   # index -1: no arc
        left_cost = padded[:, self._from_left]            # (B, h, w)
        up_cost = padded[:, self._from_up]
        # dist[:, i + 1, j + 1] is the distance to node (i, j); the border row/column is inf
        dist = np.full((b, h + 1, w + 1), np.inf)
        dist[:, 1, 1] = 0.0
        came_left = np.zeros((b, h, w), dtype=bool)
        for i, j in self._diagonals:
            via_left = dist[:, i + 1, j] + left_cost[:, i, j]
            via_up = dist[:, i, j + 1] + up_cost[:, i, j]
            came_left[:, i, j] = via_left <= via_up
            dist[:, i + 1, j + 1] = np.minimum(via_left, via_up)
        return self._backtrack(came_left)

    def _backtrack(self, came_left):
        h, w = self.grid
        b = came_left.shape[0]
        rows = np.arange(b)
        i, j = np.full(b, h - 1), np.full(b, w - 1)
        sols = np.zeros((b, self.num_cost))
        for _ in range(h + w - 2):
            left = came_left[rows, i, j]
            arc = np.where(left, self._from_left[i, j], self._from_up[i, j])
            sols[rows, arc] = 1.0
            j, i = j - left, i - ~left
        return sols

    def __repr__(self):
        return f"ShortestPath(grid={self.grid})"
