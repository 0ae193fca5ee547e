"""Imports in frechet/_src go downward only (DESIGN.md, "Layering rule").

The layers, bottom to top (each module may import its own layer and those below):

    core          core/, and the root helpers config, errors, warn, tree
    ir            ir/            (program, passes, simplify, codegen, fusion, buffers, ...)
    interpreters  interpreters/  (ad = jvp/linearize/transpose, batching, staging, jet, collapsed)
    prims         prims/         (primitive families and all their rules)
    lax           lax/           (control flow, loops, checkpoint, custom rules, solves, ...)
    numpy         numpy/         (the NumPy and SciPy front ends)
    api           api/           (grad and Jacobians, vmap, jit, LinearMap)
    libraries     bounds/, optimize, testing
    tools         bench/, coverage, tour (measure or tour the whole library; they alone may
                  import the public facade `frechet`)

A module's layer is its folder (or, at the root of _src, its name). An import from a higher layer
fails, at module level or inside a function. A function-local import of the same or a lower layer
must carry `# lazy: <reason>` on its statement (a cycle that is lazy by design); otherwise it belongs
at module level. The allow-lists below are for debt: each entry says why, and the test fails
when an entry is no longer needed, so they only shrink.
"""

from __future__ import annotations

import ast
import pathlib
import sys

SRC = pathlib.Path(__file__).resolve().parent.parent / "frechet" / "_src"

LAYERS = ("core", "ir", "interpreters", "prims", "lax", "numpy", "api", "libraries", "tools")
FOLDERS = {"core": "core", "ir": "ir", "interpreters": "interpreters", "prims": "prims",
           "lax": "lax", "numpy": "numpy", "api": "api", "bounds": "libraries",
           "bench": "tools"}
ROOT_MODULES = {"config": "core", "errors": "core", "warn": "core", "tree": "core",
                "optimize": "libraries", "testing": "libraries", "coverage": "tools",
                "tour": "tools"}

# (importing module, imported module) -> why an upward import is still there (empty since
# issue 14). Rather than adding one, restructure: the higher layer registers a hook into a
# lower-layer table at import (core.registry.set_front_end, batching.COLLECTIVE_RULES).
UPWARD_ALLOWED: dict[tuple[str, str], str] = {}

# File -> how many function-local frechet imports of the same or a lower layer it may have
# without a `# lazy:` reason (empty since issue 14: each moved to module level or gives its
# reason). For debt only; lower a count when you fix one.
LOCAL_BUDGET: dict[str, int] = {}


def _layer(module: str) -> str:
    """The layer of a dotted module path relative to frechet._src ("" is the package)."""
    head = module.split(".")[0]
    if head in FOLDERS:
        return FOLDERS[head]
    if head in ROOT_MODULES:
        return ROOT_MODULES[head]
    raise AssertionError(f"Assign frechet._src.{module} a layer in tests/test_layering.py "
                         "(FOLDERS or ROOT_MODULES).")


def _module(path: pathlib.Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _targets(node) -> list[str]:
    """The frechet._src modules an import statement names, relative to frechet._src."""
    prefix = "frechet._src"
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    elif node.level == 0 and node.module:
        base = node.module
        names = [base] if base != prefix else [f"{prefix}.{a.name}" for a in node.names]
        if base.count(".") == 2 and base.startswith(prefix + "."):  # from frechet._src.lax import loop
            names = [f"{base}.{a.name}" for a in node.names] if base[13:] in FOLDERS else names
    else:
        raise AssertionError("Use absolute imports in frechet/_src (found a relative one).")
    return [n[len(prefix) + 1:] for n in names if n.startswith(prefix + ".")]


def _imports(path: pathlib.Path):
    """Yield (node, target module, is_function_local) for each frechet._src import."""
    tree = ast.parse(path.read_text())
    local = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            local.update(id(n) for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom)))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if isinstance(node, ast.Import) and any(a.name == "frechet" or (
                    a.name.startswith("frechet.") and not a.name.startswith("frechet._src"))
                    for a in node.names) or isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                    node.module == "frechet" or node.module.startswith("frechet.")
                    and not node.module.startswith("frechet._src")):
                yield node, "<facade>", id(node) in local
            for target in _targets(node):
                yield node, target, id(node) in local


def _scan():
    upward, unexplained, used = [], {}, set()
    for path in sorted(SRC.rglob("*.py")):
        me = _module(path)
        if not me:
            continue
        rank = LAYERS.index(_layer(me))
        lines = path.read_text().splitlines()
        for node, target, is_local in _imports(path):
            where = f"{path.relative_to(SRC)}:{node.lineno}"
            if target == "<facade>":
                if rank < LAYERS.index("tools"):
                    upward.append(f"{where}: frechet._src.{me} imports the public facade")
                continue
            if LAYERS.index(_layer(target)) > rank:
                key = (me, ".".join(target.split(".")[:2]))
                if key in UPWARD_ALLOWED:
                    used.add(key)
                else:
                    upward.append(f"{where}: {me} ({_layer(me)}) imports {target} "
                                  f"({_layer(target)})")
            elif is_local and not any("# lazy:" in line
                                      for line in lines[node.lineno - 1:node.end_lineno]):
                file = str(path.relative_to(SRC))
                unexplained.setdefault(file, []).append(where)
    return upward, unexplained, used


def test_no_upward_imports():
    upward, _, used = _scan()
    assert not upward, ("Import downward only (see the layer table in tests/test_layering.py): "
                        "move the code down, or let the higher layer register a hook into a "
                        "lower-layer table at import.\n" + "\n".join(upward))
    stale = sorted(set(UPWARD_ALLOWED) - used)
    assert not stale, f"Remove these fixed entries from UPWARD_ALLOWED: {stale}"


def test_function_local_imports_have_a_reason():
    _, unexplained, _ = _scan()
    over = {f: sites for f, sites in unexplained.items() if len(sites) > LOCAL_BUDGET.get(f, 0)}
    assert not over, ("Move these function-local imports to module level, or, where they break "
                      "an import cycle by design, add `# lazy: <reason>` on the line:\n"
                      + "\n".join(s for sites in over.values() for s in sites))
    stale = {f: len(unexplained.get(f, ())) for f, n in LOCAL_BUDGET.items()
             if len(unexplained.get(f, ())) < n}
    assert not stale, f"Lower these LOCAL_BUDGET counts to: {stale}"


def test_every_module_has_a_layer():
    for path in SRC.rglob("*.py"):
        if _module(path):
            assert _layer(_module(path)) in LAYERS


def test_the_check_catches_violations(tmp_path, monkeypatch):
    """The walk itself: an upward import, a function-local one without a reason, and one with."""
    for folder in ("core", "api"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "api" / "a.py").write_text("X = 1\n")
    (tmp_path / "core" / "low.py").write_text("Y = 2\n")
    (tmp_path / "core" / "c.py").write_text(
        "from frechet._src.api.a import X\n"
        "def f():\n"
        "    from frechet._src.core.low import Y\n"
        "    from frechet._src.core import low  # lazy: a test\n"
        "    return X, Y, low\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path)
    upward, unexplained, _ = _scan()
    assert upward == ["core/c.py:1: core.c (core) imports api.a (api)"]
    assert unexplained == {"core/c.py": ["core/c.py:3"]}
