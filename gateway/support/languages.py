"""Language tags as the ways in give them, checked, and the catalogues the gateway
speaks (no Flask here: the web layer's ``web.i18n`` chooses a page's language from them;
``translated_in`` serves text written outside any request)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from babel import support

from ..errors import N_, BadRequest

#: The languages with a catalogue (English is the source language).
LANGUAGES = ("en", "de", "es", "fr")
DEFAULT = "en"
CATALOGUES = Path(__file__).resolve().parent.parent / "translations"

#: A language tag as BCP 47 writes it (``pt-BR``, ``zh-Hant-TW``), or gettext (``pt_BR``).
TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}$")
MAX_TAG = 35
#: Scripts written right to left, by language: ``dir="rtl"`` even before a catalogue exists.
RIGHT_TO_LEFT = frozenset({"ar", "he", "fa", "ur", "yi", "ps", "sd", "ug", "dv", "ckb"})


def clean_tag(value) -> str | None:
    """A well-formed language tag in BCP 47 form, or None (a bad one is no choice)."""
    if not isinstance(value, str) or len(value) > MAX_TAG or not TAG.match(value.strip()):
        return None
    first, *rest = value.strip().replace("_", "-").split("-")
    return "-".join([first.lower(), *(p.upper() if len(p) == 2 else p for p in rest)])


def first_tag(value) -> str | None:
    """The first well-formed tag of a space-separated list (OpenID Connect's ``ui_locales``)."""
    if not isinstance(value, str):
        return None
    return next((tag for tag in map(clean_tag, value.split()[:10]) if tag), None)


def required_tag(value, field: str = "language") -> str:
    """A tag an operator or a host gives on purpose: a bad one is an error, not ignored."""
    tag = clean_tag(value)
    if tag is None:
        raise BadRequest(
            N_("%(field_name)s must be a language tag such as de or pt-BR"),
            field=field,
            field_name=field,
        )
    return tag


def direction(tag: str) -> str:
    return "rtl" if tag.split("-")[0].lower() in RIGHT_TO_LEFT else "ltr"


def catalogue_of(tag: str) -> str:
    """The catalogue nearest to a language tag: its base language's, else English's."""
    base = tag.split("-")[0]
    return base if base in LANGUAGES else DEFAULT


def translated_in(tag: str | None, message: str, params: dict | None = None) -> str:
    """A message id in a language named outside any request (a file the gateway writes
    for a user in the background), its parameters filled in."""
    text = _catalogue(catalogue_of(tag or DEFAULT)).ugettext(message)
    return text % params if params else text


@cache
def _catalogue(language: str) -> support.NullTranslations:
    return support.Translations.load(str(CATALOGUES), [language])
