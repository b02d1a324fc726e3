"""The documentation: the README stays a first screen with links that resolve, and the
accessibility conformance report's table holds every WCAG 2.2 A and AA success criterion
exactly once (the vocabulary written here from the specification, not from the table).
The site itself is built with ``mkdocs build --strict`` by ``make test`` (make docs-check)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: WCAG 2.2, levels A and AA (4.1.1 Parsing was removed in 2.2).
WCAG_22_A = [
    "1.1.1",
    "1.2.1",
    "1.2.2",
    "1.2.3",
    "1.3.1",
    "1.3.2",
    "1.3.3",
    "1.4.1",
    "1.4.2",
    "2.1.1",
    "2.1.2",
    "2.1.4",
    "2.2.1",
    "2.2.2",
    "2.3.1",
    "2.4.1",
    "2.4.2",
    "2.4.3",
    "2.4.4",
    "2.5.1",
    "2.5.2",
    "2.5.3",
    "2.5.4",
    "3.1.1",
    "3.2.1",
    "3.2.2",
    "3.2.6",
    "3.3.1",
    "3.3.2",
    "3.3.7",
    "4.1.2",
]
WCAG_22_AA = [
    "1.2.4",
    "1.2.5",
    "1.3.4",
    "1.3.5",
    "1.4.3",
    "1.4.4",
    "1.4.5",
    "1.4.10",
    "1.4.11",
    "1.4.12",
    "1.4.13",
    "2.4.5",
    "2.4.6",
    "2.4.7",
    "2.4.11",
    "2.5.7",
    "2.5.8",
    "3.1.2",
    "3.2.3",
    "3.2.4",
    "3.3.3",
    "3.3.4",
    "3.3.8",
    "4.1.3",
]


def _conformance():
    spec = importlib.util.spec_from_file_location("conformance", ROOT / "docs/hooks/conformance.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_conformance_report_covers_wcag_22_a_and_aa_exactly():
    module = _conformance()
    found = [(number, level) for number, _, level, _, _ in module.CRITERIA]
    assert sorted(found) == sorted([(n, "A") for n in WCAG_22_A] + [(n, "AA") for n in WCAG_22_AA])
    verdicts = {
        module.SUPPORTS,
        module.PARTIAL,
        module.NOT_APPLICABLE,
        module.NOT_EVALUATED,
        "Does Not Support",
    }
    assert all(verdict in verdicts and how for *_, verdict, how in module.CRITERIA)
    page = module.page()
    assert "Not in scope: CoCalc's" in page and page.count("\n| ") == len(module.CRITERIA) + 1


def test_the_readme_is_a_first_screen_whose_links_resolve():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    assert "make demo" in readme and "make test" in readme and "Which way in is mine" in readme
    targets = re.findall(r"\]\(((?:docs/)[^)#\s]+)", readme)
    assert targets
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert not missing, missing
