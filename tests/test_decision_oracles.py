"""frechet.decision's oracles against brute force and against independent solvers."""

import itertools

import numpy as np
import pytest

import frechet as fr
from frechet.decision import (
    TSP,
    Argmax,
    Knapsack,
    LinearProgram,
    MixedIntegerProgram,
    Sense,
    ShortestPath,
    SolutionPool,
    SolverError,
    data,
    grid_arcs,
    tsp_edges,
)


def all_paths(grid):
    """Every right/down path from (0, 0) to (h-1, w-1), as a set of (from, to) node pairs."""
    h, w = grid
    paths = []
    for downs in itertools.combinations(range(h + w - 2), h - 1):
        i = j = 0
        arcs = []
        for step in range(h + w - 2):
            v = i * w + j
            if step in downs:
                i += 1
            else:
                j += 1
            arcs.append((v, i * w + j))
        paths.append(arcs)
    return paths


def path_matrix(grid):
    index = {a: k for k, a in enumerate(grid_arcs(grid))}
    paths = all_paths(grid)
    m = np.zeros((len(paths), len(index)))
    for r, arcs in enumerate(paths):
        m[r, [index[a] for a in arcs]] = 1.0
    return m


def test_grid_arc_order_is_pyepos():
    arcs = grid_arcs((5, 5))
    assert len(arcs) == 40 and arcs[0] == (0, 1) and arcs[3] == (3, 4) and arcs[4] == (0, 5)
    assert arcs[8] == (4, 9) and arcs[9] == (5, 6) and arcs[-1] == (23, 24)
    arcs = grid_arcs((3, 4))             # non-square: h = 3 rows of w = 4 nodes
    assert len(arcs) == 2 * 4 + 3 * 3 and arcs[3] == (0, 4) and arcs[-1] == (10, 11)
    assert ShortestPath((3, 4)).num_cost == 17


@pytest.mark.parametrize("grid", [(3, 3), (3, 4), (4, 2), (5, 5), (1, 4)])
def test_shortest_path_matches_enumeration(grid):
    rng = np.random.default_rng(0)
    oracle = ShortestPath(grid)
    paths = path_matrix(grid)
    costs = rng.normal(size=(200, oracle.num_cost))        # negative costs too
    sols, objs = oracle.solve(costs)
    best = np.min(costs @ paths.T, axis=1)
    np.testing.assert_allclose(objs, best, rtol=0, atol=1e-12)
    # each solution is one of the paths (0/1 rows, a path's arcs)
    assert np.all(np.any(np.all(sols[:, None, :] == paths[None], axis=2), axis=1))


def test_shortest_path_equals_flow_lp():
    """The DP against the flow-conservation LP (PyEPO's model) solved by HiGHS."""
    grid = (4, 5)
    arcs = grid_arcs(grid)
    nodes = grid[0] * grid[1]
    incidence = np.zeros((nodes, len(arcs)))
    for k, (a, b) in enumerate(arcs):
        incidence[a, k], incidence[b, k] = -1.0, 1.0
    rhs = np.zeros(nodes)
    rhs[0], rhs[-1] = -1.0, 1.0
    lp = LinearProgram(len(arcs), A_eq=incidence, b_eq=rhs, bounds=(0, 1))
    costs = np.random.default_rng(1).uniform(0.1, 2.0, (20, len(arcs)))
    dp_sols, dp_objs = ShortestPath(grid).solve(costs)
    lp_sols, lp_objs = lp.solve(costs)
    np.testing.assert_allclose(dp_objs, lp_objs, rtol=1e-9)
    np.testing.assert_allclose(dp_sols, lp_sols, atol=1e-9)


def test_shortest_path_single_instance_and_errors():
    oracle = ShortestPath((2, 3))
    c = np.arange(7.0)
    sol, obj = oracle.solve(c)
    assert sol.shape == (7,) and np.ndim(obj) == 0
    np.testing.assert_allclose(obj, np.min(path_matrix((2, 3)) @ c))
    with pytest.raises(fr.ShapeError, match="last axis 7"):
        oracle.solve(np.zeros((2, 6)))
    with pytest.raises(ValueError, match="at least two nodes"):
        ShortestPath((1, 1))


def brute_knapsack(costs, weights, caps):
    m = weights.shape[1]
    subsets = np.array(list(itertools.product([0.0, 1.0], repeat=m)))
    feasible = subsets[np.all(subsets @ weights.T <= caps + 1e-9, axis=1)]
    return np.max(costs @ feasible.T, axis=1)


@pytest.mark.parametrize("dim", [1, 2])
def test_knapsack_enumeration_matches_brute_force(dim):
    rng = np.random.default_rng(2)
    weights = rng.choice(np.arange(300, 800), (dim, 10)) / 100
    oracle = Knapsack(weights, 12.0)
    assert oracle.method == "enumerate" and oracle.sense is Sense.MAX
    costs = rng.normal(1.0, 2.0, (50, 10))
    sols, objs = oracle.solve(costs)
    np.testing.assert_allclose(objs, brute_knapsack(costs, weights, oracle.capacities))
    assert np.all(sols @ weights.T <= 12.0 + 1e-9) and set(np.unique(sols)) <= {0.0, 1.0}


def brute_knapsack_solutions(costs, weights, caps):
    """The optimal subsets by brute force, ties broken by the smallest code sum_k w_k 2^k."""
    m = weights.shape[1]
    subsets = ((np.arange(2 ** m)[:, None] >> np.arange(m)) & 1).astype(np.float64)
    feasible = subsets[np.all(subsets @ weights.T <= caps + 1e-9, axis=1)]   # codes ascending
    values = costs @ feasible.T
    ties = np.sum(values == np.max(values, axis=1, keepdims=True), axis=1)
    return feasible[np.argmax(values, axis=1)], ties


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_knapsack_dp_and_enumeration_break_ties_alike(dim):
    """Small integer costs make ties frequent: both exact methods return the optimal subset
    of smallest code, as brute force does."""
    rng = np.random.default_rng(10 + dim)
    m = 11
    weights = rng.integers(1, 6, (dim, m)).astype(float)
    caps = rng.integers(6, 12, dim).astype(float)
    costs = rng.integers(-1, 4, (300, m)).astype(float)
    want, ties = brute_knapsack_solutions(costs, weights, caps)
    assert np.mean(ties > 1) > 0.2
    dp = Knapsack(weights, caps)
    # the same feasible set with non-integral weights is enumerated instead
    enum = Knapsack(weights * (1 - 1e-3), caps * (1 - 1e-3))
    assert dp.method == "dp" and enum.method == "enumerate"
    objs = np.sum(costs * want, axis=1)
    for oracle in (dp, enum):
        sols, got = oracle.solve(costs)
        np.testing.assert_array_equal(got, objs)
        np.testing.assert_array_equal(sols, want)


def test_knapsack_paper_instance_is_enumerated_and_matches_highs():
    """PyEPO's paper knapsack (32 items, 2 dimensions, weights 3.00-7.99, capacity 20): the
    enumeration against HiGHS on its costs and on signed costs such as SPO+'s 2 c_hat - c."""
    weights, _, c = data.knapsack(40, 5, 32, dim=2, deg=4, noise=0.5, seed=3)
    oracle = Knapsack(weights, 20.0)
    assert oracle.method == "enumerate"
    costs = np.concatenate([c.astype(np.float64),
                            np.random.default_rng(0).normal(1.0, 3.0, (20, 32))])
    highs = MixedIntegerProgram(32, A_ub=weights, b_ub=[20.0, 20.0], bounds=(0, 1),
                                integrality=1, sense=Sense.MAX)
    sols, objs = oracle.solve(costs)
    np.testing.assert_allclose(objs, highs.solve(costs)[1], rtol=1e-9, atol=1e-9)
    assert np.all(sols @ weights.T <= 20.0 + 1e-9) and set(np.unique(sols)) <= {0.0, 1.0}


def test_knapsack_dp_matches_brute_force_past_enumeration():
    rng = np.random.default_rng(3)
    m = 18
    weights = rng.integers(3, 9, m).astype(float)
    costs = rng.normal(2.0, 2.0, (6, m))
    dp = Knapsack(weights, 30)
    assert dp.method == "dp"
    np.testing.assert_allclose(dp.solve(costs)[1],
                               brute_knapsack(costs, weights[None], np.array([30.0])))


def test_knapsack_milp_matches_dp_on_the_scaled_instance():
    """Too many feasible subsets (light items) and non-integral weights: HiGHS, against the
    dynamic programme on the same instance scaled to integers."""
    rng = np.random.default_rng(8)
    weights = rng.integers(1, 7, (2, 24)) / 2
    milp = Knapsack(weights, [12.0, 11.0])
    dp = Knapsack(weights * 2, [24.0, 22.0])
    assert milp.method == "milp" and dp.method == "dp"
    costs = rng.normal(1.0, 2.0, (5, 24))
    np.testing.assert_allclose(milp.solve(costs)[1], dp.solve(costs)[1], rtol=1e-9)


def test_knapsack_validation():
    with pytest.raises(ValueError, match="nonnegative"):
        Knapsack([1.0, -2.0], 3.0)


def test_argmax_and_sense():
    costs = np.array([[0.3, -1.0, 2.0], [5.0, 4.0, -3.0]])
    sols, objs = Argmax().solve(costs)
    np.testing.assert_array_equal(sols, np.eye(3)[[2, 0]])
    np.testing.assert_array_equal(objs, [2.0, 5.0])
    assert Argmax().sense.value == -1 and ShortestPath().sense.value == 1


def test_linear_and_mixed_integer_programs_respect_sense():
    # max x + 2y subject to x + y <= 1.5, 0 <= x, y <= 1: LP (0.5, 1), MIP (0, 1)
    args = {"A_ub": [[1.0, 1.0]], "b_ub": [1.5], "bounds": (0, 1)}
    c = np.array([[1.0, 2.0]])
    lp_max = LinearProgram(2, sense=Sense.MAX, **args)
    np.testing.assert_allclose(lp_max.solve(c)[0], [[0.5, 1.0]])
    np.testing.assert_allclose(LinearProgram(2, **args).solve(c)[0], [[0.0, 0.0]])
    mip = MixedIntegerProgram(2, integrality=1, sense=Sense.MAX, **args)
    np.testing.assert_allclose(mip.solve(c)[0], [[0.0, 1.0]])
    unbounded = LinearProgram(1, bounds=(None, None))
    with pytest.raises(SolverError, match="instance 0"):
        unbounded.solve(np.array([1.0]))


def test_solution_pool():
    rng = np.random.default_rng(4)
    oracle = ShortestPath((3, 3))
    exact = SolutionPool(oracle, solve_ratio=1.0, seed=0)
    costs = rng.uniform(size=(40, 12))
    np.testing.assert_array_equal(exact.solve(costs)[0], oracle.solve(costs)[0])
    assert len(exact.pool) == len(np.unique(oracle.solve(costs)[0], axis=0))
    # from the pool alone: the best pool member, never better than the exact optimum
    cached = SolutionPool(oracle, solve_ratio=0.0, initial=path_matrix((3, 3))[:3])
    new = rng.uniform(size=(30, 12))
    pool_objs = cached.solve(new)[1]
    np.testing.assert_allclose(pool_objs, np.min(new @ path_matrix((3, 3))[:3].T, axis=1))
    assert np.all(pool_objs >= oracle.solve(new)[1] - 1e-12)
    with pytest.raises(ValueError, match="solve_ratio"):
        SolutionPool(oracle, solve_ratio=1.5)


def test_solve_under_vmap_and_jit():
    oracle = ShortestPath((3, 3))
    costs = np.random.default_rng(5).uniform(size=(4, 7, 12))
    want_sols, want_objs = oracle.solve(costs)
    got_sols, got_objs = fr.vmap(oracle.solve)(costs)
    np.testing.assert_array_equal(got_sols, want_sols)
    np.testing.assert_allclose(got_objs, want_objs)
    jitted = fr.jit(lambda c: oracle.solve(c)[1])
    np.testing.assert_allclose(jitted(costs[0]), want_objs[0])
    np.testing.assert_allclose(jitted(costs[1]), want_objs[1])


def test_objective_gradient_is_the_solution():
    """Danskin: d z*(c) / dc = w*(c), checked against central differences."""
    oracle = ShortestPath((3, 3))
    c = np.random.default_rng(6).uniform(size=12)
    g = fr.grad(lambda c: oracle.solve(c)[1])(c)
    h = 1e-6
    fd = np.array([(oracle.solve(c + h * e)[1] - oracle.solve(c - h * e)[1]) / (2 * h)
                   for e in np.eye(12)])
    np.testing.assert_allclose(g, fd, atol=1e-8)
    np.testing.assert_array_equal(g, oracle.solve(c)[0])


def brute_tsp(costs, n):
    """Every tour through node 0 (n - 1)! / 2 of them, as edge-indicator rows."""
    index = {e: k for k, e in enumerate(itertools.combinations(range(n), 2))}
    tours = []
    for perm in itertools.permutations(range(1, n)):
        if perm[0] > perm[-1]:
            continue                       # each tour once, not in both directions
        cycle = (0, *perm, 0)
        row = np.zeros(len(index))
        for a, b in itertools.pairwise(cycle):
            row[index[(min(a, b), max(a, b))]] = 1.0
        tours.append(row)
    tours = np.array(tours)
    return tours, np.min(costs @ tours.T, axis=1)


@pytest.mark.parametrize("n", [3, 4, 6, 7])
@pytest.mark.parametrize("max_dp_nodes", [13, 0], ids=["held-karp", "cutting-planes"])
def test_tsp_matches_enumeration(n, max_dp_nodes):
    oracle = TSP(n, max_dp_nodes=max_dp_nodes)
    assert oracle.num_cost == n * (n - 1) // 2 and tsp_edges(n)[n - 1] == (1, 2)
    costs = np.random.default_rng(n).normal(2.0, 1.0, (10, oracle.num_cost))
    tours, best = brute_tsp(costs, n)
    sols, objs = oracle.solve(costs)
    np.testing.assert_allclose(objs, best, atol=1e-9)
    assert np.all(np.any(np.all(sols[:, None, :] == tours[None], axis=2), axis=1))


def test_tsp_cutting_planes_match_held_karp_past_its_default():
    _, costs = data.tsp(3, 10, 14, deg=2, noise=0.5, seed=0)
    costs = costs.astype(np.float64)
    cuts, dp = TSP(14), TSP(14, max_dp_nodes=14)
    assert not cuts.held_karp and dp.held_karp
    sols, objs = cuts.solve(costs)
    np.testing.assert_array_equal(np.sum(sols, axis=1), 14)
    np.testing.assert_allclose(objs, dp.solve(costs)[1], rtol=1e-12)
