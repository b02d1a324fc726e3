"""The build compiles the gettext catalogues (``gateway/translations/<lang>/LC_MESSAGES/
messages.po``) into the ``.mo`` files Flask-Babel reads, for every build, editable or not.

The ``.mo`` files are build output (git ignores them, so hatch would leave them out): a
wheel gets them through ``force_include``; an editable install reads them in the checkout.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def compile_catalogues(root: Path) -> list[Path]:
    """Write each catalogue's ``.mo`` next to its ``.po``; return the ``.mo`` paths."""
    written = []
    for po in sorted(root.glob("gateway/translations/*/LC_MESSAGES/messages.po")):
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parts[-3])
        mo = po.with_suffix(".mo")
        with mo.open("wb") as target:
            write_mo(target, catalog)  # fuzzy entries stay out, as msgfmt does
        written.append(mo)
    return written


class CataloguesHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        root = Path(self.root)
        for mo in compile_catalogues(root):
            if version != "editable":
                build_data["force_include"][str(mo)] = mo.relative_to(root).as_posix()
