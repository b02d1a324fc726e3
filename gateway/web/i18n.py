"""The user's language: which one a page speaks, and the catalogues it speaks it from.

The language of a page comes from, in order: the launch (``locale`` in a signed launch
token or the server API's request, LTI's ``launch_presentation.locale``, the OpenID
Connect ``locale`` claim or the ``ui_locales`` the sign-in link asked for), kept with the
page; then the host's default (``hosts add --language``); then the browser's
``Accept-Language``. ``<html lang>`` and ``dir`` follow it, right-to-left included, even
for a language without a catalogue (the text then falls back to English).

The messages go through Flask-Babel from gettext catalogues in ``gateway/translations``
(compiled to ``.mo`` by the build: ``make install`` and the wheel's build hook). The
embed page's and the bars' scripts get their messages from the same catalogues, in the
page (``js_messages``).
"""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from flask import Flask, g, has_request_context, request
from flask_babel import Babel, get_locale, get_translations, refresh
from jinja2 import pass_context
from markupsafe import Markup

from ..errors import Phrase
from ..support.languages import DEFAULT, LANGUAGES, catalogue_of, direction


def speak(launch_locale: str | None = None, host_language: str | None = None) -> None:
    """What this request knows of the user's language: the launch's, and the host's."""
    g.launch_locale = launch_locale
    g.host_language = host_language
    # Whatever was looked up before this is in the language known before it.
    g.pop("catalogue", None)
    refresh()


def catalogue():
    """This request's catalogue, looked up once: Flask-Babel looks it up again for every
    message (a dozen context lookups each), which was most of a page view's time."""
    found = g.get("catalogue")
    if found is None:
        found = g.catalogue = get_translations()
    return found


@pass_context
def _template_gettext(context, message: str, **params) -> str:
    """Jinja's new-style ``_()``/``gettext``: translated, marked safe where the template
    escapes, then filled (what ``install_gettext_callables(newstyle=True)`` does)."""
    text = catalogue().ugettext(message)
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 (our own catalogue; Jinja does the same)
    return text % params


@pass_context
def _template_ngettext(context, singular: str, plural: str, n: int, **params) -> str:
    text = catalogue().ungettext(singular, plural, n)
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 (our own catalogue; Jinja does the same)
    return text % {"num": n, **params}


def page_language() -> str:
    """The tag the page speaks: the launch's, the host's, the browser's, else English."""
    if has_request_context():
        for chosen in (g.get("launch_locale"), g.get("host_language")):
            if chosen:
                return chosen
        best = request.accept_languages.best_match(LANGUAGES)
        if best:
            return best
    return DEFAULT


def _catalogue_locale() -> str:
    """Flask-Babel's choice: the catalogue nearest to the page's language."""
    return catalogue_of(page_language())


def babel_locale() -> Locale:
    """For dates and numbers: the page's language where Babel knows it, else the catalogue's."""
    try:
        return Locale.parse(page_language(), sep="-")
    except (UnknownLocaleError, ValueError):
        return get_locale() or Locale.parse(DEFAULT)


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    Babel(app, locale_selector=_catalogue_locale)
    # Replaces Flask-Babel's own template callables (same behaviour, one lookup a request).
    app.jinja_env.globals.update(gettext=_template_gettext, ngettext=_template_ngettext)
    app.jinja_env.globals["_"] = _template_gettext

    @app.context_processor
    def language():
        tag = page_language()
        return {"page_lang": tag, "page_dir": direction(tag)}


def translated(message: str, params: dict | None = None) -> str:
    """A message id in the page's language, its parameters filled in: a ``Phrase``
    parameter (a reason inside the sentence) is translated too."""
    params = params or {}
    filled = {
        name: translated(value.id, value.params) if isinstance(value, Phrase) else value
        for name, value in params.items()
    }
    text = catalogue().ugettext(message)
    return text % filled if filled else text
