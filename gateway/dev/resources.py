"""The dev tools' own templates and static files: they ship with the tools, not the product."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATES = str(HERE / "templates")
STATIC = str(HERE / "static")
