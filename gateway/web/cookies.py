"""The one way the gateway sets a cookie: ``__Host-`` names, every other attribute named.

Every cookie the gateway sets binds something to one browser (a page, a sign-in in
progress, a signed-in session). A cookie without the ``__Host-`` prefix can be set for the
gateway by any host of the same site (``Domain=example.edu`` from a student's web space,
another app, any XSS there: "cookie tossing"), and the victim's browser would then present
the attacker's binding. A ``__Host-`` cookie is accepted by browsers only when it is
``Secure``, has ``Path=/`` and no ``Domain``: only the gateway's own origin can set it. So
this helper refuses any other name, and sets ``Secure`` and ``Path=/`` itself.

Browsers treat ``http://localhost`` and ``http://127.0.0.1`` as secure: a development
gateway on loopback gets its cookies over plain http. Under any other plain-http name a
browser drops them, and nothing that needs one works (``config`` says so at start-up).
"""

from __future__ import annotations

from typing import Literal

from flask import Response

PREFIX = "__Host-"


def set_cookie(
    response: Response,
    name: str,
    value: str,
    *,
    max_age: int,
    samesite: Literal["Strict", "Lax", "None"],
    partitioned: bool,
    httponly: bool = True,
) -> None:
    """Set (``max_age`` > 0) or clear (``max_age`` 0, empty value) one ``__Host-`` cookie."""
    if not name.startswith(PREFIX):
        raise ValueError(f"the gateway's cookies are {PREFIX} cookies, not {name!r}")
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=True,
        httponly=httponly,
        samesite=samesite,
        partitioned=partitioned,
    )


def clear_cookie(response: Response, name: str, *, samesite, partitioned: bool) -> None:
    """Clear a cookie set with the same name and attributes."""
    set_cookie(response, name, "", max_age=0, samesite=samesite, partitioned=partitioned)
