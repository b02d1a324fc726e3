"""Language tags as the ways in give them, checked (no Flask here: the web layer's
``web.i18n`` chooses a page's language from them)."""

from __future__ import annotations

import re

from ..errors import N_, BadRequest

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
