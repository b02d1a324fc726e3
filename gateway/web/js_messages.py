"""The messages the page scripts show (the embed page, the hand-in and grade bars), from
the same gettext catalogues as the templates, handed to the page in its settings.

A script names a message by its key and fills its ``%(name)s`` places itself (``t()`` in
``static/messaging.js``). The SDK on the host's page shows no text of its own.
"""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

MESSAGES = {
    "fullWindow": _l("Opening the notebook in the full window…"),
    "reasonCommHosts": _l(
        "CoCalc's site setting iframe_comm_hosts must list this gateway's host name (%(host)s)."
    ),
    "reasonHttps": _l("CoCalc answers only pages served over https on port 443."),
    "reasonHttpsHere": _l(
        "CoCalc answers only pages served over https on port 443; this page is %(origin)s."
    ),
    "reasonCookie": _l(
        "CoCalc's sign-in cookie must be allowed in a cross-site frame (CoCalc's "
        "samesite_remember_me set to none), unless the host site, the gateway and CoCalc "
        "share one site."
    ),
    "couldNotOpenTitle": _l("CoCalc could not open the file"),
    "cocalcSaid": _l("CoCalc said: %(message)s"),
    "didNotOpenTitle": _l("CoCalc did not open the file"),
    "didNotOpenText": _l(
        "CoCalc answered this page but did not finish opening the file in time, even after "
        "the project was started again. CoCalc may be overloaded, or the project may not start."
    ),
    "silent": _l(
        "CoCalc is shown but does not answer commands from this page, so the host page cannot "
        "control it (see the operator notes on iframe_comm_hosts)."
    ),
    "noAnswerTitle": _l("CoCalc did not answer"),
    "noAnswerText": _l("The embedded CoCalc page never replied. This usually means:"),
    "expiredTitle": _l("This session has expired"),
    "expiredText": _l("Reload the page you came from to continue."),
    "refusedTitle": _l("This page opens inside the site you came from"),
    "refusedText": _l("Go back to that site and open the notebook from there."),
    "handingIn": _l("Handing in…"),
    "handedIn": _l("Handed in at %(time)s: your instructor can grade it now."),
    "handInAgain": _l("Hand in again"),
    "notHandedIn": _l("Not handed in: %(reason)s"),
    "saving": _l("Saving…"),
    "gradeUnchanged": _l("This grade is in the gradebook already."),
    "gradeSaved": _l("Saved to the gradebook (the LMS answered %(status)s)."),
    "notSaved": _l("Not saved: %(reason)s"),
    "httpError": _l("error %(status)s"),
}


_TRANSLATED: dict[str, dict[str, str]] = {}


def for_page() -> dict[str, str]:
    """The messages in the page's language (call inside a request), translated once per
    catalogue and process: they are the same for every page (callers must not change them)."""
    catalogue = str(get_locale())
    found = _TRANSLATED.get(catalogue)
    if found is None:
        found = _TRANSLATED[catalogue] = {key: str(text) for key, text in MESSAGES.items()}
    return found
