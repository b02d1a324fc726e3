"""Find the shipped ``static/`` and ``templates/`` folders, in a checkout or an installed wheel."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def resource_dir(name: str) -> str:
    """Return the folder ``name``: inside the package when installed, else the repository's."""
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return str(candidate)
    raise RuntimeError(f"the gateway's {name}/ folder is missing from the installation")
