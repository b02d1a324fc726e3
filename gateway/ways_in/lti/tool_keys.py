"""The tool's own RSA keys: the newest signs, every kept key is published at ``/lti/jwks``.

Rotation without downtime: ``rotate`` adds a new key, which signs from then on (first in
the key set); the old key stays published, so anything it signed still verifies, until
``remove`` drops it. Private keys are encrypted at rest with the gateway's secret box.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from joserfc.jwk import RSAKey
from sqlalchemy import delete, select

from ...context import Gateway
from ...errors import N_, BadRequest, NotFound
from ...store.lti_tables import LtiToolKey
from ...store.models import utcnow

KEY_BITS = 2048
ALGORITHM = "RS256"
#: How long a process keeps the keys it read; a rotation elsewhere shows within this time.
CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class ToolKeys:
    signing: RSAKey  # the newest key
    published: tuple[RSAKey, ...]  # newest first


def _parameters(kid: str) -> dict:
    return {"kid": kid, "alg": ALGORITHM, "use": "sig"}


def _new_row(gw: Gateway) -> LtiToolKey:
    key = RSAKey.generate_key(KEY_BITS, parameters={"alg": ALGORITHM, "use": "sig"})
    kid = key.thumbprint()
    pem = key.as_pem(private=True).decode()
    return LtiToolKey(kid=kid, private_key_encrypted=gw.box.encrypt(pem), created_at=utcnow())


def _load(gw: Gateway) -> ToolKeys:
    with gw.db.read() as session:
        rows = list(session.scalars(select(LtiToolKey).order_by(LtiToolKey.created_at.desc())))
    if not rows:
        # The first use makes the first key. Two processes doing so at once each add one:
        # both are published, and the newer signs.
        with gw.db.begin() as session:
            session.add(_new_row(gw))
        return _load(gw)
    keys = tuple(
        RSAKey.import_key(gw.box.decrypt(r.private_key_encrypted), parameters=_parameters(r.kid))
        for r in rows
    )
    return ToolKeys(signing=keys[0], published=keys)


def current(gw: Gateway) -> ToolKeys:
    memo = gw.memo.setdefault("lti_tool_keys", {})
    cached = memo.get("keys")
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    keys = _load(gw)
    memo["keys"] = (time.monotonic(), keys)
    return keys


def forget_cached(gw: Gateway) -> None:
    gw.memo.setdefault("lti_tool_keys", {}).pop("keys", None)


def key_set(gw: Gateway) -> dict:
    """The public JWKS document: every kept key, the signing key first."""
    return {"keys": [k.as_dict(private=False) for k in current(gw).published]}


def rotate(gw: Gateway) -> str:
    """Add a new key that signs from now on; return its kid."""
    row = _new_row(gw)
    with gw.db.begin() as session:
        session.add(row)
    forget_cached(gw)
    return row.kid


def remove(gw: Gateway, kid: str) -> None:
    """Stop publishing a key. The newest key is the one that signs: rotate first."""
    with gw.db.begin() as session:
        newest = session.scalar(select(LtiToolKey.kid).order_by(LtiToolKey.created_at.desc()))
        if kid == newest:
            raise BadRequest(N_("this key signs now; run `lti keys rotate` before removing it"))
        if session.execute(delete(LtiToolKey).where(LtiToolKey.kid == kid)).rowcount != 1:
            raise NotFound(N_("no tool key with kid %(kid)r"), kid=kid)
    forget_cached(gw)


def describe_all(gw: Gateway) -> list[dict]:
    with gw.db.read() as session:
        rows = session.execute(
            select(LtiToolKey.kid, LtiToolKey.created_at).order_by(LtiToolKey.created_at.desc())
        ).all()
    return [
        {"kid": kid, "created_at": created.isoformat(), "signing": i == 0}
        for i, (kid, created) in enumerate(rows)
    ]
