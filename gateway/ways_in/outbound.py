"""Calls from the gateway to a host's services: an LMS or an identity provider (key sets,
token endpoints, grades, rosters, configuration documents).

Bounded like every outbound call (timeouts, a size limit), cookieless, and failures become
``BadGateway`` with a message naming what failed, never the other side's reply.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from urllib.parse import urlsplit

import requests

from ..cocalc.transport import NoCookies
from ..errors import BadGateway, BadRequest

log = logging.getLogger(__name__)

MAX_URL = 2048
LOOPBACK_NAMES = ("localhost",)


def _is_loopback(hostname: str) -> bool:
    if hostname in LOOPBACK_NAMES or hostname.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def check_url(url, name: str) -> str:
    """An absolute https URL (http only on a loopback address, for local testing)."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise BadRequest(f"{name} must be a URL of at most {MAX_URL} characters", field=name)
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in ("https", "http") or parts.username:
        raise BadRequest(f"{name} must be an absolute https URL", field=name)
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise BadRequest(f"{name} must use https (http only on localhost)", field=name)
    return url


TIMEOUT = (3.05, 10)
MAX_BYTES = 2 * 1024 * 1024


def session() -> requests.Session:
    http = requests.Session()
    http.cookies.set_policy(NoCookies())
    http.headers["User-Agent"] = "cocalc-gateway"
    return http


_SESSION = session()


def _body(reply: requests.Response, what: str) -> bytes:
    length = reply.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > MAX_BYTES:
        raise BadGateway(f"the other side's {what} answered with too large a reply")
    body = reply.raw.read(MAX_BYTES + 1, decode_content=True)
    if len(body) > MAX_BYTES:
        raise BadGateway(f"the other side's {what} answered with too large a reply")
    return body


def call(method: str, url: str, what: str, *, ok=(200,), **kwargs):
    """Send one request; return (reply, body), or raise BadGateway."""
    try:
        reply = _SESSION.request(method, url, timeout=TIMEOUT, stream=True, **kwargs)
    except requests.RequestException as exc:
        log.warning("outbound call failed: %s %s: %s", what, url, type(exc).__name__)
        raise BadGateway(f"the other side's {what} could not be reached") from None
    with reply:
        body = _body(reply, what)
    if reply.status_code not in ok:
        log.warning("outbound call refused: %s %s: HTTP %s", what, url, reply.status_code)
        raise BadGateway(f"the other side's {what} answered HTTP {reply.status_code}")
    return reply, body


def get_json(url: str, what: str, **kwargs):
    _, body = call("GET", url, what, **kwargs)
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise BadGateway(f"the other side's {what} did not answer with JSON") from None
