"""Sign-in states that cost a stranger nothing: signed, not stored, spent once.

``/lti/login`` and ``/sso/<host>/login`` answer anyone. A state kept on the server would be
a row per request, and a budget to cap those rows would be one that strangers spend for
everybody (a few clients at a few requests a second kept a whole LMS's sign-ins at 429).
So a sign-in's state is what the gateway signs, not what it stores: the platform or
provider hands it back, the gateway checks its signature and age, and derives from it
what must stay secret (the ``nonce``, a PKCE verifier: HMACs under the gateway's key, which
no one who sees the state can compute). Nothing is written until a sign-in is verified:
then its state is **spent** (``UsedTokenId``, one row, in the transaction of what the
sign-in makes), so a replay finds it spent.

What ties a state to the browser that started it is, as before, a random binding value in
a ``__Host-`` cookie (and, for LTI, platform storage); the state carries its digest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..context import Gateway
from ..errors import GatewayError
from ..launches.links import spend_once
from ..launches.request import OneTime
from ..support.keys import digest


def _serializer(gw: Gateway, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(gw.settings["GATEWAY_SECRET_KEY"], salt="state:" + purpose)


def seal(gw: Gateway, purpose: str, data: dict) -> str:
    """A new state for ``purpose`` carrying ``data`` (signed, not secret: keep it small)."""
    return _serializer(gw, purpose).dumps({**data, "r": secrets.token_urlsafe(9)})


def unseal(gw: Gateway, purpose: str, state, lifetime: timedelta) -> dict | None:
    """The data of a state the gateway made for ``purpose`` less than ``lifetime`` ago."""
    if not isinstance(state, str) or not 20 <= len(state) <= 1024:
        return None
    try:
        data = _serializer(gw, purpose).loads(state, max_age=int(lifetime.total_seconds()))
    except BadSignature:  # a forged, altered or expired state
        return None
    return data if isinstance(data, dict) else None


def derived(gw: Gateway, purpose: str, state: str) -> str:
    """A secret value of this state (a nonce, a PKCE verifier): 43 URL-safe characters."""
    key = hashlib.sha256(b"cocalc-gateway state\0" + gw.settings["GATEWAY_SECRET_KEY"].encode())
    mac = hmac.new(key.digest(), f"{purpose}\0{state}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def spend(host, purpose: str, state: str, lifetime: timedelta, refusal: GatewayError) -> OneTime:
    """The one-time use of a verified state, recorded with what the sign-in makes."""
    until = datetime.now(UTC) + lifetime + timedelta(minutes=5)
    return spend_once(host, f"{purpose}:{digest(state)}", until, refusal)
