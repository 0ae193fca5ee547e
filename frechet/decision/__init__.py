"""frechet.decision: predict-then-optimise, with layers and losses through combinatorial solvers.

Oracles solve min (or max) c^T w over a fixed feasible set for a batch of cost vectors at once
(`oracle.solve(costs) -> (solutions, objectives)`): `ShortestPath` (grid, PyEPO's arc order),
`Knapsack`, `TSP`, `Argmax`, `LinearProgram`, `MixedIntegerProgram`, and `SolutionPool` around any of
them. The losses and layers are functions of predicted costs usable in any loss written in
NumPy code: `spo_plus`, `fenchel_young` (gradients by Danskin's theorem), `dbb`, `nid`,
`perturbed`, `imle` (custom reverse-mode rules); over a `SolutionPool`, the contrastive `nce`, `cmap`
and ranking `pointwise_ltr`, `pairwise_ltr`, `listwise_ltr` losses (closed forms); `regret`
and `normalized_regret` measure decisions.
`fit` trains in shuffled minibatches over epochs (PyEPO's loop) with `frechet.optim`.
`frechet.decision.data` reproduces PyEPO's data generators. Conventions: docs/decision.md.
"""

from frechet.decision import data
from frechet.decision._contrastive import (
    cmap,
    listwise_ltr,
    nce,
    pairwise_ltr,
    pointwise_ltr,
)
from frechet.decision._fit import fit
from frechet.decision._grid import ShortestPath, grid_arcs
from frechet.decision._imle import ImplicitMLE, imle
from frechet.decision._knapsack import Argmax, Knapsack
from frechet.decision._losses import dbb, nid, normalized_regret, regret, spo_plus
from frechet.decision._oracle import Oracle, Sense
from frechet.decision._perturbed import Perturbed, fenchel_young, perturbed
from frechet.decision._pool import SolutionPool
from frechet.decision._programs import LinearProgram, MixedIntegerProgram, SolverError
from frechet.decision._tsp import TSP, tsp_edges

__all__ = [
    "TSP",
    "Argmax",
    "ImplicitMLE",
    "Knapsack",
    "LinearProgram",
    "MixedIntegerProgram",
    "Oracle",
    "Perturbed",
    "Sense",
    "ShortestPath",
    "SolutionPool",
    "SolverError",
    "cmap",
    "data",
    "dbb",
    "fenchel_young",
    "fit",
    "grid_arcs",
    "imle",
    "listwise_ltr",
    "nce",
    "nid",
    "normalized_regret",
    "pairwise_ltr",
    "perturbed",
    "pointwise_ltr",
    "regret",
    "spo_plus",
    "tsp_edges",
]
