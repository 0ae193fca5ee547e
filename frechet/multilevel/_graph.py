"""The problem graph: validation, uppers/lowers of each problem, topological order."""

from __future__ import annotations


def _check_edges(kind: str, edges, names: set):
    if edges is None:
        return {}
    if not isinstance(edges, dict):
        raise TypeError(f"pass {kind} as a dict of problem name -> list of problem names; "
                        f"got {type(edges).__name__}.")
    known = sorted(names)
    out = {}
    for key, targets in edges.items():
        if isinstance(targets, str):
            raise TypeError(f"pass {kind}[{key!r}] as a list of names, e.g. [{targets!r}]; "
                            f"got the string {targets!r}.")
        targets = list(targets)
        for n in [key, *targets]:
            if n not in names:
                raise ValueError(f"use one of the problem names {known} in {kind}; {n!r} is "
                                 f"not the name of any Problem passed to Engine.")
        if key in targets:
            raise ValueError(f"remove {key!r} from its own list in {kind}: a problem cannot "
                             f"be its own upper or lower.")
        if len(set(targets)) != len(targets):
            raise ValueError(f"list each name once in {kind}[{key!r}]; got {targets}.")
        out[key] = targets
    return out


def _find_cycle(children: dict):
    """A cycle (list of names, first == last) in the upper -> lower graph, or None."""
    state = dict.fromkeys(children, 0)       # 0 unseen, 1 on the stack, 2 done
    stack: list = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for c in children[n]:
            if state[c] == 1:
                return stack[stack.index(c):] + [c]
            if state[c] == 0:
                found = visit(c)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in children:
        if state[n] == 0:
            found = visit(n)
            if found:
                return found
    return None


class Graph:
    """Uppers and lowers of every problem (in the order the dicts list them), the
    topological order (uppers before lowers) and each problem's descendants."""

    def __init__(self, names: list, upper_to_lower, lower_to_upper):
        nameset = set(names)
        u2l = _check_edges("upper_to_lower", upper_to_lower, nameset)
        l2u = _check_edges("lower_to_upper", lower_to_upper, nameset)
        self.lowers = {n: u2l.get(n, []) for n in names}
        self.uppers = {n: l2u.get(n, []) for n in names}
        children = {n: list(self.lowers[n]) for n in names}
        for low, ups in l2u.items():
            for up in ups:
                if low not in children[up]:
                    children[up].append(low)
        cycle = _find_cycle(children)
        if cycle:
            path = " -> ".join(cycle)
            raise ValueError(f"remove an edge of the cycle {path} from upper_to_lower / "
                             f"lower_to_upper: a problem cannot be (indirectly) a lower of "
                             f"itself; the graph must be acyclic.")
        self.children = children
        self.order = self._topological(names)
        self.descendants = {n: self._below(n) for n in names}

    def _topological(self, names):
        indeg = dict.fromkeys(names, 0)
        for n in names:
            for c in self.children[n]:
                indeg[c] += 1
        ready = [n for n in names if indeg[n] == 0]
        order = []
        while ready:
            n = ready.pop(0)
            order.append(n)
            for c in self.children[n]:
                indeg[c] -= 1
                if indeg[c] == 0:
                    ready.append(c)
        return order

    def _below(self, name):
        seen, todo = set(), list(self.children[name])
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(self.children[n])
        return [n for n in self.order if n in seen]
