"""Generic linear and mixed-integer programs on SciPy's HiGHS, one call per instance."""

from __future__ import annotations

import numpy as np
import scipy.optimize

from frechet.decision._oracle import Oracle, Sense


# Note: a RuntimeError, not a FrechetError: frechet imports this package before it defines
# its errors, and this one is HiGHS's, not frechet's
class SolverError(RuntimeError):
    """HiGHS found no optimal solution (infeasible, unbounded, or out of time)."""


class LinearProgram(Oracle):
    """min (or max) c^T w subject to A_ub w <= b_ub, A_eq w = b_eq, bounds; one
    `scipy.optimize.linprog(method="highs")` call per instance (HiGHS returns a vertex).

    Args:
      num_cost: d, the number of variables.
      A_ub, b_ub, A_eq, b_eq: constraint matrices and right-hand sides (None for none).
      bounds: linprog's bounds: a (low, high) pair for all variables or one per variable.
      sense: Sense.MIN (default) or Sense.MAX.

    Raises SolverError (with HiGHS's message) when an instance has no optimal solution.

    Example:
      >>> import numpy as np
      >>> lp = LinearProgram(2, A_ub=[[1.0, 1.0]], b_ub=[1.0], bounds=(0, 1), sense=Sense.MAX)
      >>> lp.solve(np.array([1.0, 2.0]))
      (array([0., 1.]), np.float64(2.0))
    """

    def __init__(self, num_cost: int, A_ub=None, b_ub=None, A_eq=None, b_eq=None,
                 bounds=(0, None), sense: Sense = Sense.MIN):
        self.num_cost, self.sense = int(num_cost), Sense(sense)
        self.constraints = (A_ub, b_ub, A_eq, b_eq, bounds)

    def solve_numpy(self, costs: np.ndarray) -> np.ndarray:
        A_ub, b_ub, A_eq, b_eq, bounds = self.constraints
        sols = np.empty_like(costs)
        for k, c in enumerate(costs):
            res = scipy.optimize.linprog(self.sense.value * c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq,
                                         b_eq=b_eq, bounds=bounds, method="highs")
            if res.status != 0:
                raise SolverError(f"linprog found no optimal solution for instance {k}: "
                                  f"{res.message}")
            sols[k] = res.x
        return sols


class MixedIntegerProgram(Oracle):
    """Like LinearProgram, with `integrality` (linprog's/milp's: 0 continuous, 1 integer, per
    variable or one for all); one `scipy.optimize.milp` (HiGHS) call per instance.

    Example:
      >>> import numpy as np
      >>> mip = MixedIntegerProgram(2, A_ub=[[2.0, 2.0]], b_ub=[3.0], bounds=(0, 1),
      ...                           integrality=1, sense=Sense.MAX)
      >>> mip.solve(np.array([1.0, 2.0]))[0]
      array([0., 1.])
    """

    def __init__(self, num_cost: int, A_ub=None, b_ub=None, A_eq=None, b_eq=None,
                 bounds=(0, None), integrality=1, sense: Sense = Sense.MIN):
        self.num_cost, self.sense = int(num_cost), Sense(sense)
        self.constraints = (A_ub, b_ub, A_eq, b_eq, bounds,
                            np.broadcast_to(integrality, (self.num_cost,)))

    def solve_numpy(self, costs: np.ndarray) -> np.ndarray:
        return milp_solutions(self.sense.value * costs, *self.constraints)


def milp_solutions(costs, A_ub, b_ub, A_eq, b_eq, bounds, integrality):
    """argmin_w c^T w for each row c of `costs` by scipy.optimize.milp (HiGHS)."""
    d = costs.shape[1]
    constraints = []
    if A_ub is not None:
        constraints.append(scipy.optimize.LinearConstraint(A_ub, -np.inf, b_ub))
    if A_eq is not None:
        constraints.append(scipy.optimize.LinearConstraint(A_eq, b_eq, b_eq))
    low, high = _bounds(bounds, d)
    sols = np.empty_like(costs)
    for k, c in enumerate(costs):
        res = scipy.optimize.milp(c, constraints=constraints, integrality=integrality,
                                  bounds=scipy.optimize.Bounds(low, high))
        if res.status != 0:
            raise SolverError(f"milp found no optimal solution for instance {k}: {res.message}")
        sols[k] = res.x
    # HiGHS returns integer variables within its tolerance (0.9999999): round them
    integer = np.asarray(integrality) != 0
    sols[:, integer] = np.round(sols[:, integer])
    return sols


def _bounds(bounds, d):
    """linprog-style bounds ((low, high) or one pair per variable, None for infinite) as
    two arrays."""
    pairs = np.array(bounds, dtype=object).reshape(-1, 2)
    pairs = np.broadcast_to(pairs, (d, 2))
    low = np.array([-np.inf if v is None else float(v) for v in pairs[:, 0]])
    high = np.array([np.inf if v is None else float(v) for v in pairs[:, 1]])
    return low, high
