"""Browser sessions: the cookies CoCalc sets when it signs a browser in, and reading them."""

from __future__ import annotations

import secrets

from flask import request

from .plumbing import sim

COOKIE = "remember_me"
TWELVE_HOURS = 12 * 3600


def signed_in_account() -> str | None:
    """The account whose sign-in cookie this request carries, if any (what the server's
    API goes by)."""
    return sim().state.session_account(request.cookies.get(COOKIE))


def front_end_account() -> str | None:
    """The account CoCalc's front end (the app, a kiosk page) is signed in as. The current
    front end goes by the ``account_id`` cookie as well (``frontend/client/client.ts``):
    without it, it shows its sign-in screen, whatever ``remember_me`` says. That cookie has
    no SameSite (Lax), so a frame under another site never gets it. API v1's front end had
    no such cookie, and went by ``remember_me`` alone (section 7d)."""
    account_id = signed_in_account()
    if account_id is None or sim().config.dialect == "v1":
        return account_id
    return account_id if request.cookies.get("account_id") == account_id else None


def sign_in_cookies(response, account_id: str, *, max_age: int = TWELVE_HOURS):
    """Set the cookies of a sign-in as CoCalc does (``/auth/impersonate``, sign-up).

    Current CoCalc (``server/auth/set-sign-in-cookies.ts``): ``account_id`` readable by
    scripts, with no SameSite and not Secure; ``remember_me`` HttpOnly, SameSite=Strict
    (None when the site setting ``samesite_remember_me`` says so), and Secure behind a
    proxy that says the request came over https. The v1-era build had no setting and no
    ``account_id`` cookie: ``remember_me`` was always ``SameSite=None; Secure``.
    """
    config = sim().config
    session = sim().state.new_session(account_id)
    https = request.headers.get("X-Forwarded-Proto", request.scheme) == "https"
    if config.dialect == "v1":
        response.set_cookie(
            COOKIE, session, path="/", max_age=max_age, httponly=True, samesite="None", secure=True
        )
        return session_cookie(response)
    same_site = "None" if config.samesite_remember_me == "none" else "Strict"
    response.set_cookie("account_id", account_id, path="/", max_age=max_age)
    response.set_cookie(
        COOKIE,
        session,
        path="/",
        max_age=max_age,
        httponly=True,
        samesite=same_site,
        secure=https or same_site == "None",
    )
    session_cookie(response)
    return response


def session_cookie(response):
    """The Express session cookie CoCalc sets on these pages, signed in or not."""
    response.set_cookie("connect.sid", "s%3A" + secrets.token_urlsafe(24), path="/", httponly=True)
    return response
