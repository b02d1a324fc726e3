"""The one way the gateway sets a cookie: every attribute named by the caller.

A cookie that decides who may sign in must be ``Secure`` and ``HttpOnly`` and have the
right ``SameSite``, ``Partitioned`` and path; a way in that forgot one attribute would
weaken it without any test noticing. So no view calls ``response.set_cookie`` itself: each
says here what it wants, with no defaults to forget.
"""

from __future__ import annotations

from typing import Literal

from flask import Response


def set_cookie(
    response: Response,
    name: str,
    value: str,
    *,
    max_age: int,
    path: str,
    samesite: Literal["Strict", "Lax", "None"],
    partitioned: bool,
    secure: bool = True,
    httponly: bool = True,
) -> None:
    """Set (``max_age`` > 0) or clear (``max_age`` 0, empty value) one cookie."""
    if samesite == "None" and not secure:
        raise ValueError("a SameSite=None cookie must be Secure")
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        secure=secure,
        httponly=httponly,
        samesite=samesite,
        partitioned=partitioned,
    )


def clear_cookie(response: Response, name: str, *, path: str, samesite, partitioned: bool):
    """Clear a cookie set with the same name, path and attributes."""
    set_cookie(response, name, "", max_age=0, path=path, samesite=samesite, partitioned=partitioned)
