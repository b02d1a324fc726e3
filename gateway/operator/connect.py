"""``cocalc-gateway connect``: get an API key by signing in, the way the server supports.

Current CoCalc: ``/api/v2/auth/sign-in`` (e-mail and password; it sets the sign-in cookie),
then ``/api/v2/api-keys`` ``{"action": "create"}`` with that cookie, which answers the new
key's secret once (``next/pages/api/v2/api-keys.ts``, ``server/api/manage.ts``). A server
without those endpoints (the API v1 era) gets the seed documents' way: the sign-in of
``/app?get_api_key=cocalc-gateway``, whose answer redirects to
``https://authenticated/?api_key=…`` (read from the ``Location`` header, never followed).

Only this command's own session holds the cookie; nothing is stored. The operator's
password goes only to the origin of ``--url``, over https (plain http only on this
machine), and never along a redirect: a page or a redirect that names another site gets
an error, not the credentials.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

APP_NAME = "cocalc-gateway"
TIMEOUT = 20
PATIENT_TIMEOUT = 60


class ConnectError(Exception):
    """Signing in or getting the key failed; the message says why (no secret in it)."""


@dataclass(frozen=True)
class Connected:
    api_key: str
    how: str  # "api-keys" (current) or "get_api_key" (v1 era)


def _json(reply: requests.Response):
    try:
        return reply.json()
    except ValueError:
        return None


def _origin(url: str) -> tuple:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _patiently(send):
    """Send once; after a read timeout, once more with a longer one (a hub that just
    restarted may not answer its first request in time; signing in twice is harmless)."""
    try:
        return send(TIMEOUT)
    except requests.exceptions.ReadTimeout:
        return send(PATIENT_TIMEOUT)


def _post(http: requests.Session, url: str, **kwargs) -> requests.Response:
    """POST credentials (or a session that holds them) without following any redirect."""
    reply = _patiently(lambda t: http.post(url, allow_redirects=False, timeout=t, **kwargs))
    if reply.is_redirect:
        raise ConnectError(
            f"{url} answered with a redirect; give --url CoCalc's own address "
            "(the password is never sent on along a redirect)"
        )
    return reply


def check_base(base_url: str) -> str:
    """The base URL the password may go to: https, or plain http on this machine."""
    base = base_url.rstrip("/")
    parts = urlsplit(base)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ConnectError("--url must be https (plain http only on this machine)")
    return base


def _current(http: requests.Session, base: str, email: str, password: str):
    """The current API's way; None when the server has no such endpoints."""
    reply = _post(http, f"{base}/api/v2/auth/sign-in", json={"email": email, "password": password})
    answer = _json(reply)
    if reply.status_code == 404 or not isinstance(answer, dict):
        return None
    if answer.get("error"):
        raise ConnectError(f"CoCalc refused the sign-in: {answer['error']}")
    made = _post(http, f"{base}/api/v2/api-keys", json={"action": "create", "name": APP_NAME})
    answer = _json(made)
    if made.status_code == 404 or not isinstance(answer, dict):
        return None
    if answer.get("error"):
        raise ConnectError(f"CoCalc did not make a key: {answer['error']}")
    try:
        return Connected(answer["response"][0]["secret"], "api-keys")
    except (KeyError, IndexError, TypeError):
        raise ConnectError("CoCalc's answer held no key") from None


FORM = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]+)"', re.I)


def _get_api_key(http: requests.Session, base: str, email: str, password: str) -> Connected:
    page = _patiently(
        lambda t: http.get(f"{base}/app", params={"get_api_key": APP_NAME}, timeout=t)
    )
    found = FORM.search(page.text) if page.status_code == 200 else None
    if found is None:
        raise ConnectError("this CoCalc offers neither /api/v2/api-keys nor a get_api_key sign-in")
    action = urljoin(page.url, unescape(found.group(1)))
    if _origin(page.url) != _origin(base) or _origin(action) != _origin(base):
        raise ConnectError(
            f"CoCalc's sign-in form posts to {_origin(action)[1]}, not to {_origin(base)[1]}: "
            "the password goes only to --url's own site"
        )
    # The answer is a redirect to https://authenticated/?api_key=…: read, never followed.
    reply = http.post(
        action, data={"email": email, "password": password}, allow_redirects=False, timeout=TIMEOUT
    )
    location = reply.headers.get("Location", "")
    if urlsplit(location).netloc != "authenticated":
        raise ConnectError("CoCalc refused the sign-in (no key in its answer)")
    key = parse_qs(urlsplit(location).query).get("api_key", [""])[0]
    if not key:
        raise ConnectError("CoCalc's answer held no key")
    return Connected(key, "get_api_key")


def obtain_key(base_url: str, email: str, password: str) -> Connected:
    base = check_base(base_url)
    with requests.Session() as http:
        try:
            return _current(http, base, email, password) or _get_api_key(
                http, base, email, password
            )
        except requests.RequestException as exc:
            raise ConnectError(f"{base} cannot be reached ({type(exc).__name__})") from None
