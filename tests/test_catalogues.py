"""The shipped catalogues hold every message of the code and the templates, translated, with
the same placeholders, and the build compiled them: a new message without a translation in
each language fails here (``make catalogues`` adds its empty entry).

Two catalogues: the product's (``gateway/translations``, extracted with ``babel.cfg``, in
the wheel) and the demo pages' (``gateway/dev/translations``, extracted with
``gateway/dev/babel.cfg``, left out of the wheel with the rest of ``gateway/dev``)."""

from __future__ import annotations

import functools
import re
from configparser import ConfigParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from gateway.web.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
SHIPPED = [lang for lang in LANGUAGES if lang != "en"]
#: Each catalogue: its directory, the extraction's configuration, how many messages at least.
CATALOGUES = {
    "product": ("gateway/translations", "babel.cfg", 100),
    "demo": ("gateway/dev/translations", "gateway/dev/babel.cfg", 30),
}
BOTH = [(name, lang) for name in CATALOGUES for lang in SHIPPED]


def _method_map(config: str) -> list[tuple[str, str]]:
    """The ``[method: pattern]`` sections of a Babel extraction configuration."""
    parser = ConfigParser()
    parser.read(ROOT / config)
    return [
        (pattern.strip(), method.strip())
        for method, pattern in (section.split(":", 1) for section in parser.sections())
    ]


@functools.cache  # one extraction of the tree per catalogue, not one per test
def _in_the_code(name: str) -> frozenset:
    """The messages the catalogue's extraction finds (what ``make catalogues`` extracts)."""
    _directory, config, _least = CATALOGUES[name]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "N_": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), _method_map(config), keywords=keywords
    ):
        found.add(message)
    return frozenset(found)


def _catalogue(name: str, lang: str):
    directory = CATALOGUES[name][0]
    with (ROOT / f"{directory}/{lang}/LC_MESSAGES/messages.po").open("rb") as po:
        return read_po(po, locale=lang)


def test_the_extractions_are_the_configurations_make_catalogues_uses():
    assert _method_map("babel.cfg") == [
        ("gateway/**.py", "python"),
        ("templates/**.html", "jinja2"),
    ]
    assert _method_map("gateway/dev/babel.cfg") == [("gateway/dev/templates/**.html", "jinja2")]
    makefile = (ROOT / "Makefile").read_text()
    assert "-F babel.cfg" in makefile and "-F gateway/dev/babel.cfg" in makefile


def test_the_demo_s_messages_stay_out_of_the_product_s_catalogue():
    demo_only = _in_the_code("demo") - _in_the_code("product")
    product = _catalogue("product", "de")
    assert demo_only and not any(product.get(m) for m in demo_only)


@pytest.mark.parametrize("name", CATALOGUES)
def test_every_language_with_a_catalogue_is_offered_and_the_other_way_round(name):
    directory = CATALOGUES[name][0]
    on_disk = {p.parts[-3] for p in ROOT.glob(f"{directory}/*/LC_MESSAGES/messages.po")}
    assert on_disk == set(SHIPPED)


@pytest.mark.parametrize(("name", "lang"), BOTH)
def test_every_message_has_a_translation_with_the_same_placeholders(name, lang):
    code = _in_the_code(name)
    assert len(code) > CATALOGUES[name][2]  # the extraction found the messages (not none)
    catalogue = _catalogue(name, lang)
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
    catalogue = _catalogue("product", lang)
    plurals = [m for m in catalogue if isinstance(m.id, tuple)]
    assert plurals and all(len(m.string) == catalogue.num_plurals for m in plurals)


@pytest.mark.parametrize(("name", "lang"), BOTH)
def test_the_build_compiled_the_catalogue_as_it_is(name, lang):
    mo_path = ROOT / f"{CATALOGUES[name][0]}/{lang}/LC_MESSAGES/messages.mo"
    assert mo_path.exists(), "the .mo files are made by `make install` (or the build)"
    with mo_path.open("rb") as mo:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(mo) if m.id}
    source = {_key(m.id): _key(m.string) for m in _catalogue(name, lang) if m.id and not m.fuzzy}
    assert compiled == source, "the .mo is older than its .po: run make install"


def _as_list(value) -> list:
    return list(value) if isinstance(value, tuple | list) else [value]


def _key(value):
    return tuple(_as_list(value))
