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
