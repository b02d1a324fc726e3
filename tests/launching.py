"""Helpers for tests that launch users: signing tokens the way a host does."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from unittest import mock

import requests
from joserfc import jwt
from joserfc.jwk import OctKey
from sqlalchemy import func, select

from gateway.support import concurrency

HOST_ORIGIN = "https://lms.example.edu"
#: What a request of the embed page's own script sends (its actions are same-origin only).
OWN_PAGE = {"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1"}


def claims(host_id: str, **overrides) -> dict:
    now = int(time.time())
    base = {
        "iss": host_id,
        "sub": f"user-{uuid.uuid4().hex[:8]}",
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "path": "work/notes.md",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def mint(host_id: str, secret: str, **overrides) -> str:
    return jwt.encode({"alg": "HS256"}, claims(host_id, **overrides), _key(secret))


def _key(secret: str) -> OctKey:
    # Short test secrets (a wrong key on purpose) make joserfc warn; the gateway's never do.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return OctKey.import_key(secret.encode())


def unsigned(host_id: str, **overrides) -> str:
    """A token with ``alg: none`` and no signature."""

    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims(host_id, **overrides))}."


def rows(gw, model):
    with gw.db.begin() as session:
        return session.scalar(select(func.count()).select_from(model))


def launch(client, token):
    return client.post("/launch", data={"token": token})


def page_settings(html: str) -> dict:
    """The settings an embed page's script reads (its JSON script element)."""
    match = re.search(r'<script id="settings" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def iframe_src(html: str, element_id: str, attribute: str = "src") -> str:
    match = re.search(rf'<iframe id="{element_id}"[^>]*?\s{attribute}="([^"]*)"', html, re.S)
    return unescape(match.group(1)) if match else None


# -- the server-to-server API ----------------------------------------------------------------------
def api(client, secret, body, **headers):
    return client.post(
        "/api/v1/launches", json=body, headers={"Authorization": f"Bearer {secret}", **headers}
    )


@contextmanager
def calls_waited_on(base_url: str) -> Iterator[list[str]]:
    """Record the paths of the calls to ``base_url`` that a request itself makes, that is
    every call not made by the gateway's background workers (a refill, a revocation).

    "The warm launch makes no CoCalc call" means the launch never waits on CoCalc; the
    spare token it hands off is refilled in the background, at a moment no count taken
    from the simulator can tell from the launch's own.
    """
    seen: list[str] = []
    send = requests.Session.send

    def recording(session, request, **kwargs):
        background = threading.current_thread().name.startswith(concurrency.WORKER_NAME)
        if request.url.startswith(base_url) and not background:
            seen.append(request.path_url.split("?")[0])
        return send(session, request, **kwargs)

    with mock.patch.object(requests.Session, "send", recording):
        yield seen


def waiting_token(gw, user_id: int) -> str | None:
    """The token waiting for the user's next page: a spare (revocation), or the shared one."""
    from gateway.store.models import CachedToken, SpareToken

    with gw.db.read() as session:
        for model in (SpareToken, CachedToken):
            row = session.scalar(select(model).where(model.user_id == user_id))
            if row is not None:
                return gw.box.decrypt(row.token_encrypted)
    return None


def forget_waiting_tokens(gw) -> None:
    """No token waits for anyone (the next page must ask CoCalc for one)."""
    from sqlalchemy import delete

    from gateway.store.models import CachedToken, SpareToken

    with gw.db.begin() as session:
        session.execute(delete(CachedToken))
        session.execute(delete(SpareToken))
