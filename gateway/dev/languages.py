"""The demo's own pages (the demo host site and the demo LMS) in the visitor's language.

They stand in for a host's site, which speaks its users' language itself; the gateway's
pages inside them then follow the launch. Their messages are a catalogue of their own,
``gateway/dev/translations`` (extracted by ``make catalogues`` with ``gateway/dev/babel.cfg``),
so the product's catalogues and the wheel hold none of them. Their language: ``?locale=``
(the demo host's language links; the demo LMS's course language, which it also sends as
``launch_presentation.locale``), else the browser's ``Accept-Language``, else English.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, request
from flask_babel import Babel

from ..support.languages import clean_tag, direction
from ..web.i18n import DEFAULT, LANGUAGES, catalogue_of

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
#: The language links of the demo host page, each named in its own language.
NAMES = {"en": "English", "de": "Deutsch", "es": "Español", "fr": "Français"}


def chosen_locale() -> str | None:
    """The language the visitor asked for in the URL, well formed, else None."""
    return clean_tag(request.args.get("locale"))


def visitor_language() -> str:
    return chosen_locale() or request.accept_languages.best_match(LANGUAGES) or DEFAULT


def speak(app: Flask) -> None:
    """Give a demo app the visitor's language: Flask-Babel on the demo's catalogues."""
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=lambda: catalogue_of(visitor_language()))

    @app.context_processor
    def language():
        tag, asked = visitor_language(), chosen_locale()
        return {
            "page_lang": tag,
            "page_dir": direction(tag),
            "language_names": NAMES,
            # Links between the demo's pages keep a language asked for in the URL.
            "locale_query": f"&locale={asked}" if asked else "",
        }
