"""The shipped catalogues hold every message of the code and the templates, translated, with
the same placeholders, and the build compiled them: a new message without a translation in
each language fails here (``make catalogues`` adds its empty entry)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from gateway.web.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
SHIPPED = [lang for lang in LANGUAGES if lang != "en"]


def _in_the_code() -> set:
    """The messages babel.cfg's extraction finds (what ``make catalogues`` extracts)."""
    method_map = [("gateway/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "N_": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, keywords=keywords
    ):
        found.add(message)
    return found


def _catalogue(lang: str):
    with (ROOT / f"gateway/translations/{lang}/LC_MESSAGES/messages.po").open("rb") as po:
        return read_po(po, locale=lang)


def test_the_extraction_is_babel_cfg_s():
    config = (ROOT / "babel.cfg").read_text()
    assert "[python: gateway/**.py]" in config and "[jinja2: templates/**.html]" in config


def test_every_language_with_a_catalogue_is_offered_and_the_other_way_round():
    on_disk = {p.parts[-3] for p in ROOT.glob("gateway/translations/*/LC_MESSAGES/messages.po")}
    assert on_disk == set(SHIPPED)


@pytest.mark.parametrize("lang", SHIPPED)
def test_every_message_has_a_translation_with_the_same_placeholders(lang):
    code = _in_the_code()
    assert len(code) > 100  # the extraction found the messages (not an empty match)
    catalogue = _catalogue(lang)
    missing, wrong = [], []
    for message in sorted(code, key=str):
        entry = catalogue.get(message[0] if isinstance(message, tuple) else message)
        if entry is None or entry.fuzzy or not all(_as_list(entry.string)):
            missing.append(message)
            continue
        wanted = set(PLACEHOLDER.findall(_as_list(entry.id)[-1]))
        if any(set(PLACEHOLDER.findall(s)) != wanted for s in _as_list(entry.string)):
            wrong.append(message)
    assert not missing, f"{lang}: no translation of {missing} (make catalogues, then translate)"
    assert not wrong, f"{lang}: placeholders differ in {wrong}"


@pytest.mark.parametrize("lang", SHIPPED)
def test_plural_forms_are_the_language_s(lang):
    catalogue = _catalogue(lang)
    plurals = [m for m in catalogue if isinstance(m.id, tuple)]
    assert plurals and all(len(m.string) == catalogue.num_plurals for m in plurals)


@pytest.mark.parametrize("lang", SHIPPED)
def test_the_build_compiled_the_catalogue_as_it_is(lang):
    mo_path = ROOT / f"gateway/translations/{lang}/LC_MESSAGES/messages.mo"
    assert mo_path.exists(), "the .mo files are made by `make install` (or the build)"
    with mo_path.open("rb") as mo:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(mo) if m.id}
    source = {_key(m.id): _key(m.string) for m in _catalogue(lang) if m.id and not m.fuzzy}
    assert compiled == source, "the .mo is older than its .po: run make install"


def _as_list(value) -> list:
    return list(value) if isinstance(value, tuple | list) else [value]


def _key(value):
    return tuple(_as_list(value))
