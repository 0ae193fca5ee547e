"""Synthetic predict-then-optimise data, identical to PyEPO's generators from the same seed.

Each generator draws from `numpy.random.RandomState(seed)` in PyEPO's order (structure
parameters, the Bernoulli matrix B, features x ~ N(0, I), then one noise array) and applies
the same floating-point operations in the same order, so the arrays are bit for bit those of
PyEPO 2.2 (`pyepo.data.shortestpath/knapsack/tsp.genData`; tests/test_decision_data.py checks
hashes of PyEPO's own output). Costs are float32, as PyEPO returns them.
"""

from __future__ import annotations

import numpy as np
import scipy.spatial.distance


def _check(deg, noise):
    if not isinstance(deg, int) or isinstance(deg, bool) or deg <= 0:
        raise ValueError(f"pass a positive integer deg; got {deg!r}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"pass a finite noise half-width >= 0; got {noise!r}")


def _polynomial(x, B, deg):
    """(x B^T / sqrt(p) + 3)^deg, PyEPO's feature map (p = x.shape[1])."""
    return (x @ B.T / np.sqrt(x.shape[1]) + 3) ** deg


def shortest_path(n: int, p: int, grid: tuple[int, int] = (5, 5), deg: int = 1,
                  noise: float = 0.0, seed: int = 135):
    """Features and arc costs for the grid shortest path (PyEPO's `shortestpath.genData`).

    c_ij = [((B x_i)_j / sqrt(p) + 3)^deg + 1] / 3.5^deg * eps_ij, eps ~ U(1 - noise,
    1 + noise), B ~ Bernoulli(0.5)^(d x p), d = (h - 1) w + (w - 1) h arcs in
    `grid_arcs(grid)`'s order.

    Returns:
      x (n, p) float64 and c (n, d) float32.

    Example:
      >>> x, c = shortest_path(1000, 5, (5, 5), deg=4, noise=0.5, seed=0)
      >>> x.shape, c.shape, c.dtype
      ((1000, 5), (1000, 40), dtype('float32'))
    """
    _check(deg, noise)
    rnd = np.random.RandomState(seed)
    d = (grid[0] - 1) * grid[1] + (grid[1] - 1) * grid[0]
    B = rnd.binomial(1, 0.5, (d, p))
    x = rnd.normal(0, 1, (n, p))
    c = _polynomial(x, B, deg) + 1
    c /= 3.5 ** deg
    c *= rnd.uniform(1 - noise, 1 + noise, (n, d))
    return x, c.astype(np.float32)


def knapsack(n: int, p: int, m: int, dim: int = 1, deg: int = 1, noise: float = 0.0,
             seed: int = 135):
    """Item weights, features and integer item values for the multi-dimensional knapsack
    (PyEPO's `knapsack.genData`; choose the capacities yourself, the paper's are 20 per
    dimension).

    weights ~ {3.00, ..., 7.99} (dim, m); c_ij = ceil(5 [((B x_i)_j / sqrt(p) + 3)^deg + 1]
    / 3.5^deg * eps_ij).

    Returns:
      weights (dim, m) float64, x (n, p) float64, c (n, m) float32.

    Example:
      >>> w, x, c = knapsack(10, 5, 32, dim=2, deg=4, noise=0.5, seed=0)
      >>> w.shape, bool(np.all(c == np.ceil(c)))
      ((2, 32), True)
    """
    _check(deg, noise)
    rnd = np.random.RandomState(seed)
    weights = rnd.choice(range(300, 800), size=(dim, m)) / 100
    B = rnd.binomial(1, 0.5, (m, p))
    x = rnd.normal(0, 1, (n, p))
    c = _polynomial(x, B, deg) + 1
    c *= 5
    c /= 3.5 ** deg
    c *= rnd.uniform(1 - noise, 1 + noise, (n, m))
    return weights, x, np.ceil(c).astype(np.float32)


def tsp(n: int, p: int, num_nodes: int, deg: int = 1, noise: float = 0.0, seed: int = 135):
    """Features and edge costs for the symmetric TSP (PyEPO's `tsp.genData`).

    Nodes: the first num_nodes // 2 uniform in [-2, 2]^2, the rest N(0, I_2); edges (i < j)
    in row-major upper-triangle order; c = distance + (B x / sqrt(p) + 3)^deg / 3^(deg - 1)
    * eps with B = Bernoulli(0.5) * U(-2, 2), rounded to 4 decimals.

    Returns:
      x (n, p) float64 and c (n, num_nodes (num_nodes - 1) / 2) float32.

    Example:
      >>> x, c = tsp(3, 10, 5, deg=2, noise=0.5, seed=7)
      >>> c.shape
      (3, 10)
    """
    _check(deg, noise)
    rnd = np.random.RandomState(seed)
    m, e = num_nodes, num_nodes * (num_nodes - 1) // 2
    coords = np.concatenate((rnd.uniform(-2, 2, (m // 2, 2)), rnd.normal(0, 1, (m - m // 2, 2))))
    dist = scipy.spatial.distance.pdist(coords, "euclidean")
    B = rnd.binomial(1, 0.5, (e, p)) * rnd.uniform(-2, 2, (e, p))
    x = rnd.normal(0, 1, (n, p))
    c = dist + _polynomial(x, B, deg) / 3 ** (deg - 1) * rnd.uniform(1 - noise, 1 + noise,
                                                                         (n, e))
    return x, np.around(c, decimals=4).astype(np.float32)


def split(n_samples: int, n_test: int, seed: int):
    """Train and test indices as `sklearn.model_selection.train_test_split(...,
    test_size=n_test, random_state=seed)` draws them (PyEPO's protocol): one
    `RandomState(seed).permutation(n_samples)`, test first.

    Example:
      >>> train, test = split(1100, 1000, seed=0)
      >>> len(train), len(test), len(set(train) | set(test))
      (100, 1000, 1100)
    """
    permutation = np.random.RandomState(seed).permutation(n_samples)
    return permutation[n_test:], permutation[:n_test]
