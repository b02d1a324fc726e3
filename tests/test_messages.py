"""Every message a person reads is a translatable id: a rule of the code, checked like the
layout rules. A gateway error (any subclass of ``GatewayError``, found by reading the code)
is raised with ``N_("…")``, with a module constant that is one, or with another error's
``message_id``; an f-string or a plain string would reach the page in English whatever the
user's language, because the catalogues never see it. ``tests/test_catalogues.py`` then
checks that every extracted id is translated in every language."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = [
    p
    for p in sorted((ROOT / "gateway").rglob("*.py"))
    if "dev" not in p.relative_to(ROOT / "gateway").parts and "migrations" not in p.parts
]


def _trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(), str(path)) for path in PRODUCT}


def _error_classes(trees) -> set[str]:
    """GatewayError and every class that derives from it, by name, to a fixed point."""
    found = {"GatewayError"}
    while True:
        more = {
            node.name
            for tree in trees.values()
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef)
            and any(
                (b.id if isinstance(b, ast.Name) else getattr(b, "attr", None)) in found
                for b in node.bases
            )
        }
        if more <= found:
            return found
        found |= more


def _is_id(node) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "N_"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def _constants(tree) -> set[str]:
    """Module-level names bound to a message id."""
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign) and _is_id(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _acceptable(node, constants: set[str]) -> bool:
    if _is_id(node):
        return True
    if isinstance(node, ast.IfExp):  # one id or another
        return _acceptable(node.body, constants) and _acceptable(node.orelse, constants)
    if isinstance(node, ast.Name):
        return node.id in constants
    return isinstance(node, ast.Attribute) and node.attr == "message_id"


def test_every_gateway_error_is_raised_with_a_translatable_id():
    trees = _trees()
    classes = _error_classes(trees)
    assert {"BadRequest", "Forbidden", "Refused"} <= classes  # the scan sees the tree
    plain = []
    for path, tree in trees.items():
        constants = _constants(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in classes and not _acceptable(node.args[0], constants):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                plain.append(f"{where}: {name}({ast.unparse(node.args[0])[:70]})")
    assert not plain, "raise these with N_(…) and %(name)s parameters:\n" + "\n".join(plain)


def test_a_message_id_is_a_plain_literal():
    """``N_(f"…")`` or ``N_(a + b)`` cannot be extracted: only one string literal."""
    bad = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path, tree in _trees().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "N_"
        and not _is_id(node)
    ]
    assert not bad, bad


def test_the_check_catches_what_it_should():
    """The rule refuses an f-string, a plain string and a name that is no message id."""
    tree = ast.parse(
        "ID = N_('known')\nOTHER = 'plain'\n"
        "raise BadRequest(f'bad {x}')\nraise BadRequest('bad')\nraise BadRequest(OTHER)\n"
        "raise BadRequest(ID)\nraise BadRequest(N_('good %(x)s'), x=1)\n"
    )
    constants = _constants(tree)
    verdicts = [
        _acceptable(node.exc.args[0], constants)
        for node in tree.body
        if isinstance(node, ast.Raise)
    ]
    assert verdicts == [False, False, False, True, True]
