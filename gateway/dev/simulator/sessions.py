"""Browser sessions: the cookies CoCalc sets when it signs a browser in, and reading them."""

from __future__ import annotations

import secrets

from flask import request

from .plumbing import sim

COOKIE = "remember_me"
TWELVE_HOURS = 12 * 3600


def signed_in_account() -> str | None:
    """The account whose sign-in cookie this request carries, if any."""
    return sim().state.session_account(request.cookies.get(COOKIE))


def sign_in_cookies(response, account_id: str, *, max_age: int = TWELVE_HOURS):
    """Set the cookies of a sign-in as CoCalc does (``/auth/impersonate``, sign-up).

    ``account_id`` is readable by scripts and has no SameSite; ``remember_me`` is HttpOnly,
    SameSite=Strict (None when the site setting ``samesite_remember_me`` says so), and
    Secure behind a proxy that says the request came over https.
    """
    config = sim().config
    session = sim().state.new_session(account_id)
    https = request.headers.get("X-Forwarded-Proto", request.scheme) == "https"
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
