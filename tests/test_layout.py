"""The layout's rules: production code never loads dev tools, and modules stay small."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gateway"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60


def test_the_wsgi_target_never_imports_dev_tools():
    """gunicorn's ``gateway.wsgi:app`` loads no simulator, demo, dev server or baselines."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("COCALC_", "GATEWAY_"))},
        "COCALC_URL": "http://127.0.0.1:9",
        "COCALC_API_KEY": "sk_layout_test",
        "COCALC_API_DIALECT": "current",
        "GATEWAY_SECRET_KEY": "layout-test-secret-" + "x" * 32,
        "GATEWAY_PUBLIC_URL": "https://gateway.example.edu",
        "DATABASE_URL": "sqlite://",
    }
    code = (
        "import json, sys; import gateway.wsgi;"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('gateway'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout.splitlines()[-1])
    assert "gateway.web" in loaded and "gateway.launches.embed" in loaded
    assert not [m for m in loaded if m.startswith("gateway.dev")]


def modules():
    return [p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts]


def test_no_module_is_long():
    long = {
        str(p.relative_to(ROOT)): n
        for p in modules()
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these modules (over {MAX_MODULE_LINES} lines): {long}"


def test_no_function_is_long():
    long = {}
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.name}"] = lines
    assert not long, f"split these functions (over {MAX_FUNCTION_LINES} lines): {long}"


def test_no_module_imports_a_layer_above_its_own():
    """The product's layers point one way (``tests/import_graph.LAYERS``): a lower layer
    never imports a higher one, not even lazily inside a function."""
    from tests.import_graph import graph, upward_edges

    assert upward_edges(graph()) == []


def test_there_are_no_import_cycles():
    from tests.import_graph import cycles, graph

    assert cycles(graph()) == []


def test_the_store_support_and_context_import_no_flask():
    """Below the web layer the services take a ``Gateway``; only the web layer, the views,
    the composition root and the CLI know Flask."""
    flask_users = []
    for path in modules():
        name = str(path.relative_to(PACKAGE))
        if name.startswith(("store/", "support/", "cocalc/")) or name in (
            "context.py",
            "errors.py",
        ):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    names = (
                        [a.name for a in node.names]
                        if isinstance(node, ast.Import)
                        else [node.module or ""]
                    )
                    if any(n == "flask" or n.startswith("flask.") for n in names):
                        flask_users.append(name)
    assert flask_users == []


def test_the_graph_sees_an_upward_import():
    """The check can fail: a store module that imported a view would be caught."""
    from tests.import_graph import layer_of

    assert layer_of("gateway.store.models") < layer_of("gateway.launches.views")
    assert layer_of("gateway.ways_in.lti.views") > layer_of("gateway.web.urls")
    assert layer_of("gateway.support.keys") < layer_of("gateway.store.database")


def test_a_migration_imports_only_alembic_sqlalchemy_and_the_standard_library():
    """A frozen migration stands alone: replaying it later applies the rules it had then,
    and moving a module of the product never breaks ``db upgrade``."""
    allowed = {"alembic", "sqlalchemy", *sys.stdlib_module_names}
    versions = PACKAGE / "store" / "migrations" / "versions"
    found = {}
    for path in versions.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or "."] if node.level == 0 else ["."]
            for name in names:
                if name.split(".")[0] not in allowed:
                    found.setdefault(path.name, []).append(name)
    assert found == {}
    assert len(list(versions.glob("*.py"))) >= 11  # the check saw the migrations
