"""Calls from the gateway to an LMS: its key set, token endpoint and services.

Bounded like every outbound call (timeouts, a size limit), cookieless, and failures become
``BadGateway`` with a message naming what failed, never the platform's reply.
"""

from __future__ import annotations

import json
import logging

import requests

from ...cocalc.transport import NoCookies
from ...errors import BadGateway

log = logging.getLogger(__name__)

TIMEOUT = (3.05, 10)
MAX_BYTES = 2 * 1024 * 1024


def session() -> requests.Session:
    http = requests.Session()
    http.cookies.set_policy(NoCookies())
    http.headers["User-Agent"] = "cocalc-gateway (LTI tool)"
    return http


_SESSION = session()


def _body(reply: requests.Response, what: str) -> bytes:
    length = reply.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > MAX_BYTES:
        raise BadGateway(f"the platform's {what} answered with too large a reply")
    body = reply.raw.read(MAX_BYTES + 1, decode_content=True)
    if len(body) > MAX_BYTES:
        raise BadGateway(f"the platform's {what} answered with too large a reply")
    return body


def call(method: str, url: str, what: str, *, ok=(200,), **kwargs):
    """Send one request; return (reply, body), or raise BadGateway."""
    try:
        reply = _SESSION.request(method, url, timeout=TIMEOUT, stream=True, **kwargs)
    except requests.RequestException as exc:
        log.warning("LTI platform call failed: %s %s: %s", what, url, type(exc).__name__)
        raise BadGateway(f"the platform's {what} could not be reached") from None
    with reply:
        body = _body(reply, what)
    if reply.status_code not in ok:
        log.warning("LTI platform call refused: %s %s: HTTP %s", what, url, reply.status_code)
        raise BadGateway(f"the platform's {what} answered HTTP {reply.status_code}")
    return reply, body


def get_json(url: str, what: str, **kwargs):
    _, body = call("GET", url, what, **kwargs)
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise BadGateway(f"the platform's {what} did not answer with JSON") from None
