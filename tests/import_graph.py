"""The product code's import graph, its layers, and what breaks the layering.

Run ``python -m tests.import_graph`` for the figures the README's layout section gives:
modules, import edges, edges that point up a layer, and import cycles. ``gateway/dev/``
(tools, never imported by the product) is left out; so are the frozen migrations.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gateway"

#: Bottom to top: a module may import its own layer and those below, never one above.
#: Views (the HTTP blueprints beside each feature's services) sit above the web helpers;
#: the composition root (the app factory) above them, and the entry points that build the
#: app (the CLI, the WSGI target) on top.
LAYERS = (
    ("foundation", ("gateway.errors", "gateway.config")),
    ("support", ("gateway.support",)),
    ("store", ("gateway.store",)),
    ("cocalc", ("gateway.cocalc",)),
    ("context", ("gateway.context",)),
    ("provisioning", ("gateway.provisioning",)),
    ("hosts", ("gateway.hosts",)),
    ("launches", ("gateway.launches",)),
    ("ways_in", ("gateway.ways_in",)),
    ("operator", ("gateway.operator",)),
    ("web", ("gateway.web",)),
    ("views", ()),  # every module named views, whatever its package
    ("root", ("gateway.app",)),
    ("entry points", ("gateway.cli", "gateway.wsgi", "gateway.gunicorn_conf", "gateway")),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        if name.startswith("gateway.dev") or ".migrations" in name:
            continue
        found[name] = path
    return found


def layer_of(module: str) -> int:
    if module.rsplit(".", 1)[-1] == "views":
        return next(i for i, (name, _) in enumerate(LAYERS) if name == "views")
    best, best_length = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_length:
                best, best_length = index, len(prefix)
    if best is None:
        raise ValueError(f"{module} is in no layer")
    return best


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The product modules ``module`` imports, lazily (inside functions) or not."""
    tree = ast.parse(path.read_text())
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node)
            # "from . import x" names a module; "from .m import f" names a name of module m.
            # (A package's __init__ runs for any of its modules: not counted as an edge.)
            submodules = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known]
            names = len(submodules) < len(node.names)
            targets = submodules + ([base] if names else [])
        else:
            continue
        for target in targets:
            if target.startswith("gateway.dev"):
                continue  # dev tools: test_layout checks the product never loads them
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != module and target.startswith("gateway"):
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    modules = product_modules()
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def upward_edges(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted(
        (a, b)
        for a, targets in edges.items()
        for b in targets
        # a package's __init__ may gather what is below it; a module may import its package
        if layer_of(b) > layer_of(a) and not b.startswith(a + ".")
    )


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def main() -> None:
    edges = graph()
    up = upward_edges(edges)
    loops = cycles(edges)
    print(f"modules {len(edges)}, import edges {sum(map(len, edges.values()))}")
    print(f"upward imports {len(up)}")
    for a, b in up:
        print(f"  {a} -> {b}")
    print(f"import cycles {len(loops)}")
    for loop in loops:
        print("  " + " <-> ".join(loop))


if __name__ == "__main__":
    main()
