"""Second-best link tolls on the Sioux Falls network: a Stackelberg congestion game whose
leader's gradient is taken three ways (unrolled dynamics, k-step look-ahead, implicit
function theorem) and checked against central differences.

Followers. Each OD pair w (demand d_w) splits over its K shortest paths (Yen's algorithm on
free-flow times). Path flows f give link flows v = Delta f (Delta: link-path incidence), BPR
link times t_a(v) = t0_a (1 + b_a (v_a / cap_a)^power_a) and path costs c = Delta^T (t + y)
with y the leader's tolls. Followers update by mirror descent with the entropy (imitative
logit dynamics, ILD, of Li et al., arXiv 2209.07618), here on the logit potential with
dispersion theta, in log-flows u = log f:

    u_p <- log d_w + z_p - log sum_{q in w} exp(z_q),   z = (1 - r / theta) u - r c(f).

Its fixed points are exactly the logit (stochastic user) equilibria f_p = d_w softmax_w(
-theta c)_p, whatever the step r; theta -> infinity gives the paper's ILD, whose fixed points
are Wardrop equilibria (equal costs on used paths). A finite theta makes the equilibrium
unique in path flows, so the implicit function theorem applies (with theta = infinity, path
flows that leave link flows unchanged would make I - dT/du singular).

Leader. Minimise the total system travel time S(y) = sum_a v_a t_a(v_a) (tolls excluded) at
the followers' equilibrium, over tolls y >= 0, by projected Adam. Its gradient:

  * unrolled: frechet.grad through T ILD steps from an even split (double loop, "DolMD");
  * look-ahead: a warm-started follower state s; frechet.grad through k ILD steps from s,
    which then becomes the new state (single loop, "SilMD"); an approximation: from an
    equilibrium state it is the k-term truncation of the implicit derivative;
  * implicit: the equilibrium solved in NumPy (ILD to tolerance), differentiated by
    frechet.implicit.custom_fixed_point on the ILD map with GMRES on (I - dT/du).

Data: examples/data/sioux_falls/ (TNTP files of bstabler/TransportationNetworks; its README
names the source): 24 nodes, 76 links, 528 OD pairs, 360,600 trips. --small keeps the OD pairs
with the largest demands and fewer paths and iterations.

Checks: Yen's path costs vs a brute-force enumeration of loopless paths; unrolled (many
steps) vs implicit; look-ahead error vs k (reported, shrinking); implicit vs central
differences of the equilibrium S; demand conservation per OD pair and at every node; the
logit equilibrium residual; tolls lower S. It reports S before and after tolling and the
seconds per leader iteration of each method. Run with --small for a quick run.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
from _common import Checks, options, picture, progress
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

import frechet
from frechet import implicit, optim

DATA = Path(__file__).resolve().parent / "data" / "sioux_falls"
THETA = 1.0      # logit dispersion, per unit of travel time (0.01 h, "minutes")
# The ILD step r. Near the equilibrium the step contracts log-flows by 1 - r (1 / theta +
# lambda) along each eigenvector of the flow-scaled path-cost Jacobian (lambda from 0, path
# flows that leave link flows unchanged, to about 22 on Sioux Falls): stable while
# r (1 / theta + lambda_max) < 2, and the slowest mode shrinks by 1 - r / theta per step.
STEP = 0.06
TOL = 1e-12      # equilibrium: largest change of a log path flow in one ILD step


# ---------------------------------------------------------------------------- TNTP files

def _metadata(text: str) -> tuple[dict, str]:
    """The <KEY> value lines before <END OF METADATA>, and the text after it."""
    head, sep, body = text.partition("<END OF METADATA>")
    if not sep:
        raise ValueError("not a TNTP file: no <END OF METADATA>")
    meta = {key.strip(): value.strip() for key, value in re.findall(r"<([^>]+)>([^<\n]*)", head)}
    return meta, body


def read_network(path: Path) -> dict:
    """Link fields of a TNTP network file, by the names of its '~' header line (init_node,
    term_node, capacity, length, free_flow_time, b, power, ...), each a float array."""
    meta, body = _metadata(path.read_text())
    rows, names = [], None
    for line in body.splitlines():
        line = line.strip().rstrip(";").strip()
        if line.startswith("~"):
            names = [name.lower() for name in line[1:].split()]
        elif line:
            rows.append([float(x) for x in line.split()])
    table = np.array(rows)
    if names is None or table.shape[1] != len(names):
        raise ValueError(f"{path.name}: the '~' header does not match the link rows")
    if len(table) != int(meta["NUMBER OF LINKS"]):
        raise ValueError(f"{path.name}: {len(table)} links, metadata says "
                         f"{meta['NUMBER OF LINKS']}")
    return {name: table[:, j] for j, name in enumerate(names)}


def read_trips(path: Path) -> np.ndarray:
    """The OD demand matrix (zones x zones, zone i at index i - 1) of a TNTP trips file."""
    meta, body = _metadata(path.read_text())
    zones = int(meta["NUMBER OF ZONES"])
    demand = np.zeros((zones, zones))
    for block in re.split(r"Origin", body)[1:]:
        origin, _, entries = block.partition("\n")
        for dest, amount in re.findall(r"(\d+)\s*:\s*([0-9.eE+-]+)", entries):
            demand[int(origin) - 1, int(dest) - 1] = float(amount)
    if not np.isclose(demand.sum(), float(meta["TOTAL OD FLOW"])):
        raise ValueError(f"{path.name}: trips sum to {demand.sum()}, metadata says "
                         f"{meta['TOTAL OD FLOW']}")
    return demand


# ---------------------------------------------------------------------------- paths

class Graph(NamedTuple):
    """A directed graph: link i runs tail[i] -> head[i] at cost[i]; link[(a, b)] is its index."""
    tail: np.ndarray
    head: np.ndarray
    cost: np.ndarray
    n_nodes: int
    link: dict

    def links_of(self, path: list) -> list:
        return [self.link[edge] for edge in itertools.pairwise(path)]


def _shortest(graph: Graph, src, dst, keep_link, keep_node):
    """Dijkstra (scipy.sparse.csgraph) over the kept links and nodes: a node list, or None."""
    keep = keep_link & keep_node[graph.tail] & keep_node[graph.head]
    matrix = csr_matrix((graph.cost[keep], (graph.tail[keep], graph.head[keep])),
                        shape=(graph.n_nodes, graph.n_nodes))
    dist, pred = dijkstra(matrix, indices=src, return_predecessors=True)
    if not np.isfinite(dist[dst]):
        return None
    path = [dst]
    while path[-1] != src:
        path.append(int(pred[path[-1]]))
    return path[::-1]


def k_shortest_paths(graph: Graph, src: int, dst: int, k: int) -> list:
    """Yen's algorithm: the k cheapest loopless paths src -> dst, as node lists."""
    every_link, every_node = np.ones(len(graph.tail), bool), np.ones(graph.n_nodes, bool)
    paths, candidates = [_shortest(graph, src, dst, every_link, every_node)], []
    while len(paths) < k:
        last = paths[-1]
        for i in range(len(last) - 1):
            root, keep_link, keep_node = last[:i + 1], every_link.copy(), every_node.copy()
            for p in paths:                     # no known path may leave the root the same way
                if p[:i + 1] == root:
                    keep_link[graph.link[p[i], p[i + 1]]] = False
            keep_node[root[:-1]] = False        # loopless: the spur avoids the root's nodes
            spur = _shortest(graph, last[i], dst, keep_link, keep_node)
            if spur is None or root[:-1] + spur in paths + [c for _, c in candidates]:
                continue
            new = root[:-1] + spur
            heapq.heappush(candidates, (graph.cost[graph.links_of(new)].sum(), new))
        if not candidates:
            break
        paths.append(heapq.heappop(candidates)[1])
    return paths


def simple_path_costs(graph: Graph, src: int, dst: int, bound: float) -> list:
    """The costs of every loopless path src -> dst costing at most bound, by depth-first
    search (brute force, pruned by cost): an independent check of Yen's algorithm."""
    costs, stack = [], [(src, 0.0, (src,))]
    while stack:
        node, cost, path = stack.pop()
        if node == dst:
            costs.append(cost)
            continue
        for i in np.flatnonzero(graph.tail == node):
            nxt, c = int(graph.head[i]), cost + graph.cost[i]
            if c <= bound + 1e-9 and nxt not in path:
                stack.append((nxt, c, path + (nxt,)))
    return sorted(costs)


# ---------------------------------------------------------------------------- the game

class Game(NamedTuple):
    """The network, its OD pairs with K paths each, and the link-path incidence."""
    t0: np.ndarray          # free-flow time per link
    b: np.ndarray           # BPR coefficient per link
    power: np.ndarray       # BPR power per link
    capacity: np.ndarray    # per link
    incidence: np.ndarray   # links x (OD pairs * K), Delta[a, p] = 1 if path p uses link a
    demand: np.ndarray      # per OD pair
    ods: np.ndarray         # (OD pairs, 2): origin and destination node (0-based)
    graph: Graph            # the links, costed by free-flow time


def build_game(n_paths: int, n_ods: int | None) -> Game:
    """Sioux Falls with n_paths paths per OD pair, for all OD pairs with positive demand or
    for the n_ods with the largest demands."""
    links = read_network(DATA / "SiouxFalls_net.tntp")
    trips = read_trips(DATA / "SiouxFalls_trips.tntp")
    tail, head = links["init_node"].astype(int) - 1, links["term_node"].astype(int) - 1
    n = int(max(tail.max(), head.max())) + 1
    ods = np.argwhere(trips > 0)
    if n_ods is not None:
        ods = ods[np.sort(np.argsort(-trips[ods[:, 0], ods[:, 1]], kind="stable")[:n_ods])]
    graph = Graph(tail, head, links["free_flow_time"], n,
                  {(int(a), int(c)): i for i, (a, c) in enumerate(zip(tail, head))})
    incidence = np.zeros((len(tail), len(ods) * n_paths))
    for w, (o, d) in enumerate(progress(ods, len(ods), "k shortest paths")):
        paths = k_shortest_paths(graph, o, d, n_paths)
        if len(paths) < n_paths:
            raise ValueError(f"OD pair {o + 1} -> {d + 1} has only {len(paths)} paths")
        for j, p in enumerate(paths):
            incidence[graph.links_of(p), w * n_paths + j] = 1.0
    return Game(links["free_flow_time"], links["b"], links["power"], links["capacity"],
                incidence, trips[ods[:, 0], ods[:, 1]], ods, graph)


def link_time(game: Game, v):
    """BPR travel time per link (no toll)."""
    return game.t0 * (1.0 + game.b * (v / game.capacity) ** game.power)


def link_flows(game: Game, u):
    return game.incidence @ np.exp(u).reshape(-1)


def path_costs(game: Game, u, toll):
    """Travel time plus tolls along every path, shaped (OD pairs, K)."""
    cost = game.incidence.T @ (link_time(game, link_flows(game, u)) + toll)
    return cost.reshape(u.shape)


def ild_step(game: Game, u, toll):
    """One mirror-descent (imitative logit) step on log path flows u, shaped (OD pairs, K)."""
    z = (1.0 - STEP / THETA) * u - STEP * path_costs(game, u, toll)
    z = z - frechet.stop_gradient(np.max(z, axis=1, keepdims=True))   # exact: shift-invariant
    return np.log(game.demand)[:, None] + z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))


def system_time(game: Game, u):
    """The leader's objective: total travel time sum_a v_a t_a(v_a), tolls excluded."""
    v = link_flows(game, u)
    return v @ link_time(game, v)


def even_split(game: Game) -> np.ndarray:
    k = game.incidence.shape[1] // len(game.demand)
    return np.log(np.repeat(game.demand[:, None] / k, k, axis=1))


def solve_followers(game: Game, u, toll, maxiter: int = 100_000):
    """The logit equilibrium by ILD steps in NumPy, from u, until no log-flow moves TOL."""
    for _ in range(maxiter):
        u_next = ild_step(game, u, toll)
        if np.max(np.abs(u_next - u)) < TOL:
            return u_next
        u = u_next
    raise RuntimeError(f"ILD did not reach {TOL} in {maxiter} steps")


def equilibrium_map(game: Game):
    """u0, toll -> the equilibrium log path flows, differentiable in toll by the implicit
    function theorem on u = ILD(u, toll) (GMRES on I - dILD/du)."""
    @implicit.custom_fixed_point(functools.partial(ild_step, game),
                                 solve=implicit.GMRES(tol=1e-12))
    def equilibrium(u0, toll):
        return solve_followers(game, u0, toll)
    return equilibrium


# ---------------------------------------------------------------------------- the leader

class Method(NamedTuple):
    """A way to make the followers' flows a differentiable function of the tolls:
    follow(state, toll) -> log path flows; the flows reached become the next state."""
    name: str
    follow: Callable


def unrolled(game: Game, steps: int) -> Method:
    """ILD steps from the even split, every time (the double loop)."""
    start = even_split(game)
    step = functools.partial(ild_step, game)
    return Method(f"unrolled (T = {steps})",
                  lambda state, toll: optim.unroll(step, start, steps, args=(toll,)))


def look_ahead(game: Game, k: int) -> Method:
    """k ILD steps from the follower's current state (the single loop)."""
    step = functools.partial(ild_step, game)
    return Method(f"look-ahead (k = {k})",
                  lambda state, toll: optim.unroll(step, state, k, args=(toll,)))


def implicit_ft(game: Game) -> Method:
    """The equilibrium, warm-started from the state, by the implicit function theorem."""
    return Method("implicit (IFT)", equilibrium_map(game))


def leader_gradient(game: Game, method: Method, state, toll):
    """d S / d toll through the method's follower response, and the flows it reached."""
    def objective(toll):
        u = method.follow(state, toll)
        return system_time(game, u), u
    return frechet.grad(objective, has_aux=True)(toll)


def lead(game: Game, method: Method, iterations: int, learning_rate: float):
    """Projected Adam on the tolls (y >= 0). Returns the tolls, the seconds per iteration
    and S at the exact equilibrium after each iteration."""
    opt, toll = optim.adam(learning_rate), np.zeros(len(game.t0))
    opt_state, state, exact = opt.init(toll), even_split(game), even_split(game)
    seconds, history = [], [system_time(game, solve_followers(game, exact, toll))]
    for _ in progress(range(iterations), iterations, method.name):
        start = time.perf_counter()
        g, state = leader_gradient(game, method, state, toll)
        updates, opt_state = opt.update(g, opt_state, toll)
        toll = np.maximum(optim.apply_updates(toll, updates), 0.0)
        seconds.append(time.perf_counter() - start)
        exact = solve_followers(game, exact, toll)          # for the report, not the leader
        history.append(system_time(game, exact))
    return toll, np.array(seconds), np.array(history)


# ---------------------------------------------------------------------------- checks

def relative_error(g, reference) -> float:
    return float(np.max(np.abs(g - reference)) / np.max(np.abs(reference)))


def compare_gradients(game: Game, toll, unrolled_steps: int, ks, checks: Checks):
    """The three gradients at one toll vector, the look-ahead from the equilibrium there."""
    u_star = solve_followers(game, even_split(game), toll)
    ift, many_steps = (leader_gradient(game, method, u_star, toll)[0]
                       for method in (implicit_ft(game), unrolled(game, unrolled_steps)))
    look_errors = [relative_error(leader_gradient(game, look_ahead(game, k), u_star, toll)[0],
                                  ift) for k in ks]
    print("  look-ahead from the equilibrium vs implicit (max abs error / max abs):")
    for k, error in zip(ks, look_errors):
        print(f"    k = {k:4d}: {error:.2e}")
    checks.check(f"unrolled (T = {unrolled_steps}) vs implicit gradient",
                 relative_error(many_steps, ift), 1e-6)
    checks.check(f"look-ahead error at k = {ks[-1]}", look_errors[-1], 1e-6)
    checks.check("look-ahead error shrinks with k (largest ratio of successive errors)",
                 max(b / a for a, b in itertools.pairwise(look_errors)), 1.0)
    return ift, u_star


def central_differences(game: Game, toll, u_star, coordinates, h: float = 1e-3):
    """d S / d toll_a by central differences of S at the equilibrium (ILD to TOL)."""
    fd = []
    for a in coordinates:
        e = np.zeros_like(toll)
        e[a] = h
        up, down = (system_time(game, solve_followers(game, u_star, toll + s * e))
                    for s in (1, -1))
        fd.append((up - down) / (2 * h))
    return np.array(fd)


def check_paths(game: Game, n_check: int, checks: Checks):
    """Yen's paths of the first n_check OD pairs against a brute-force enumeration."""
    k = game.incidence.shape[1] // len(game.demand)
    yen = (game.incidence.T @ game.t0).reshape(-1, k)
    worst = 0.0
    for w, (o, d) in enumerate(game.ods[:n_check]):
        brute = simple_path_costs(game.graph, o, d, yen[w].max())[:k]
        worst = max(worst, float(np.max(np.abs(np.sort(yen[w]) - brute))))
    checks.check(f"Yen's {k} path costs vs brute-force enumeration ({n_check} OD pairs)",
                 worst, 1e-9)


def check_equilibrium(game: Game, u, toll, checks: Checks):
    """Demand conservation per OD pair and at every node; the logit condition."""
    f = np.exp(u)
    checks.check("OD demand conservation (max |sum_paths f - d| / d)",
                 float(np.max(np.abs(f.sum(axis=1) - game.demand) / game.demand)), 1e-12)
    v, graph = link_flows(game, u), game.graph
    imbalance = np.zeros(graph.n_nodes)       # inflow - outflow - (trips ending - starting)
    np.add.at(imbalance, graph.head, v)
    np.add.at(imbalance, graph.tail, -v)
    np.add.at(imbalance, game.ods[:, 1], -game.demand)
    np.add.at(imbalance, game.ods[:, 0], game.demand)
    checks.check("node conservation (max |inflow - outflow - net demand| / total demand)",
                 float(np.max(np.abs(imbalance)) / game.demand.sum()), 1e-12)
    c = path_costs(game, u, toll)
    logit = np.exp(-THETA * (c - c.min(axis=1, keepdims=True)))
    logit *= (game.demand / logit.sum(axis=1))[:, None]
    checks.check("logit equilibrium residual (max |f - d softmax(-theta c)| / d)",
                 float(np.max(np.abs(f - logit) / game.demand[:, None])), 1e-9)
    gap = np.sum(f * c) / np.sum(game.demand * c.min(axis=1)) - 1.0
    print(f"  Wardrop relative gap of the logit equilibrium: {gap:.2e}")


def draw_tolls(results: dict):
    def draw(plt):
        fig, (ax, bx) = plt.subplots(2, 1, figsize=(9, 7))
        width = 0.8 / len(results)
        for j, (name, (toll, _, history)) in enumerate(results.items()):
            ax.bar(np.arange(1, len(toll) + 1) + (j - 1) * width, toll, width, label=name)
            bx.plot(history / 1e6, ("-", ":", "--")[j % 3], label=name)
        ax.set_xlabel("link (TNTP order)")
        ax.set_ylabel("toll (free-flow time units)")
        ax.set_title("Sioux Falls second-best tolls")
        ax.legend()
        bx.set_xlabel("leader iteration")
        bx.set_ylabel("system travel time at equilibrium (1e6)")
        bx.legend()
        fig.tight_layout()
        return fig
    return draw


def report_leaders(game: Game, results: dict, checks: Checks):
    """S before and after, seconds per leader iteration, and where the tolls went."""
    before = results["implicit (IFT)"][2][0]
    print(f"\n  {'method':24s} {'s / iteration':>14s} {'S after':>14s} {'change':>8s}")
    print(f"  {'(no tolls)':24s} {'':14s} {before:14,.0f}")
    for name, (toll, seconds, history) in results.items():
        print(f"  {name:24s} {np.median(seconds):14.3f} {history[-1]:14,.0f} "
              f"{history[-1] / before - 1:8.2%}")
    for name, (toll, seconds, history) in results.items():
        checks.check(f"{name}: tolls lower the system travel time (after / before)",
                     history[-1] / before, 1.0 - 1e-3)
    tolls = {name: result[0] for name, result in results.items()}
    ift = tolls.pop("implicit (IFT)")
    for name, toll in tolls.items():
        print(f"  max |toll - implicit's toll|, {name}: {np.max(np.abs(toll - ift)):.2e}")
    top = np.argsort(-ift)[:5]
    print(f"  {np.count_nonzero(ift)} links tolled by the implicit method; largest: " + ", ".join(
        f"{game.graph.tail[a] + 1}->{game.graph.head[a] + 1}: {ift[a]:.2f}" for a in top))


def main() -> int:
    args = options(__doc__.splitlines()[0])
    n_paths, n_ods, steps, iterations = (3, 120, 250, 8) if args.small else (4, None, 400, 40)
    game = build_game(n_paths, n_ods)
    print(f"Sioux Falls: {len(game.t0)} links, {len(game.demand)} OD pairs with "
          f"{game.demand.sum():,.0f} trips, {n_paths} paths each ({game.incidence.shape[1]} "
          f"paths); logit dispersion theta = {THETA}, ILD step r = {STEP}")
    checks, toll0 = Checks(), np.zeros(len(game.t0))
    check_paths(game, 10 if args.small else 40, checks)

    print("\nleader gradient at zero tolls:")
    ift, u_star = compare_gradients(game, toll0, steps, [1, 5, 25, 125, steps], checks)
    coordinates = np.argsort(-np.abs(ift))[:8] if args.small else np.arange(len(toll0))
    fd = central_differences(game, toll0, u_star, coordinates)
    checks.check(f"implicit gradient vs central differences ({len(coordinates)} tolls)",
                 relative_error(ift[coordinates], fd), 1e-6)

    print(f"\nleader: projected Adam on the {len(toll0)} link tolls, {iterations} iterations")
    results = {method.name: lead(game, method, iterations, learning_rate=1.0)
               for method in (unrolled(game, steps), look_ahead(game, 5), implicit_ft(game))}
    report_leaders(game, results, checks)

    toll = results["implicit (IFT)"][0]
    print("\nfollowers' equilibrium at the implicit method's tolls:")
    check_equilibrium(game, solve_followers(game, u_star, toll), toll, checks)
    picture(args.png_dir, "stackelberg_tolls.png", draw_tolls(results))
    return checks.done()


if __name__ == "__main__":
    sys.exit(main())
