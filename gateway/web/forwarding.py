"""Forwarding headers that no trusted proxy vouches for.

With ``GATEWAY_PROXY_FIX=0`` the gateway trusts no ``X-Forwarded-*``: the peer address is
the client. But a proxy on the same machine makes every client's peer address 127.0.0.1,
and a loopback exemption (``/metrics``, the full ``/readyz``) would then be granted to
anyone on the internet. So a request that carries forwarding headers while no proxy is
trusted gets no network exemption, and the gateway remembers (once per process) that it
saw one, for ``doctor`` to report.
"""

from __future__ import annotations

from flask import current_app, request

from ..context import Gateway
from ..store import state
from ..store.models import utcnow

HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP")


def untrusted_forwarding() -> str | None:
    """The forwarding header this request carries that no trusted proxy applied, if any."""
    if int(current_app.config.get("GATEWAY_PROXY_FIX") or 0):
        return None  # TrustedProxies applied or dropped them
    return next((name for name in HEADERS if name in request.headers), None)


def note(gw: Gateway, header: str) -> None:
    """Remember (once per process) that such a request came."""
    if gw.memo.get(state.FORWARDED_WITHOUT_PROXY):
        return
    gw.memo[state.FORWARDED_WITHOUT_PROXY] = True
    seen = {"header": header, "at": utcnow().isoformat(timespec="seconds")}
    state.save(gw.db, state.FORWARDED_WITHOUT_PROXY, seen)
