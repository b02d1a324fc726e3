"""Exchanges in progress (``LtiExchange``): created with a random key, used once, short-lived.

Only the key's digest is stored. ``take`` uses an exchange up in one UPDATE, so of two
requests with the same key (a replayed launch, a double-clicked picker) exactly one wins,
and it wins before any other work is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, insert, select, update

from ...context import Gateway
from ...launches.keys import digest, new_key
from ...store.lti_tables import LtiExchange
from ...store.models import utcnow
from ...support.housekeeping import task

LOGIN_LIFETIME = timedelta(minutes=5)
#: Used exchanges are kept this long after they expired, then purged by housekeeping.
KEEP_USED = timedelta(hours=1)


@dataclass(frozen=True)
class Taken:
    platform_id: str | None
    host_id: str | None
    nonce: str | None
    binding_digest: str | None
    data: dict


def create(
    gw: Gateway,
    kind: str,
    *,
    lifetime: timedelta = LOGIN_LIFETIME,
    platform_id=None,
    host_id=None,
    nonce=None,
    binding=None,
    binding_digest=None,
    data=None,
) -> str:
    """Record an exchange; return its key (shown once, stored as a digest)."""
    key = new_key()
    row = {
        "digest": digest(key),
        "kind": kind,
        "platform_id": platform_id,
        "host_id": host_id,
        "nonce": nonce,
        "binding_digest": digest(binding) if binding else binding_digest,
        "data": data or {},
        "expires_at": utcnow() + lifetime,
    }
    gw.db.write((insert(LtiExchange), row))
    return key


def take(gw: Gateway, kind: str, key) -> Taken | None:
    """Use an exchange up; None if it is unknown, of another kind, used, or expired."""
    if not isinstance(key, str) or not 20 <= len(key) <= 100:
        return None
    where = (
        LtiExchange.digest == digest(key),
        LtiExchange.kind == kind,
        LtiExchange.used_at.is_(None),
        LtiExchange.expires_at > utcnow(),
    )
    with gw.db.engine.begin() as connection:
        used = update(LtiExchange).where(*where).values(used_at=utcnow())
        if connection.execute(used).rowcount != 1:
            return None
        row = connection.execute(
            select(
                LtiExchange.platform_id,
                LtiExchange.host_id,
                LtiExchange.nonce,
                LtiExchange.binding_digest,
                LtiExchange.data,
            ).where(LtiExchange.digest == digest(key))
        ).one()
    return Taken(row.platform_id, row.host_id, row.nonce, row.binding_digest, row.data or {})


def peek(gw: Gateway, kind: str, key) -> Taken | None:
    """Read a live exchange without using it (the picker shows its page first)."""
    if not isinstance(key, str) or not 20 <= len(key) <= 100:
        return None
    row = gw.db.fetch(
        select(
            LtiExchange.platform_id,
            LtiExchange.host_id,
            LtiExchange.nonce,
            LtiExchange.binding_digest,
            LtiExchange.data,
        ).where(
            LtiExchange.digest == digest(key),
            LtiExchange.kind == kind,
            LtiExchange.used_at.is_(None),
            LtiExchange.expires_at > utcnow(),
        )
    )
    return Taken(*row) if row else None


@task("purge LTI exchanges")
def purge(gw: Gateway) -> int:
    """Housekeeping: forget exchanges that expired a while ago."""
    cutoff = utcnow() - KEEP_USED
    with gw.db.engine.begin() as connection:
        expired = delete(LtiExchange).where(LtiExchange.expires_at < cutoff)
        return connection.execute(expired).rowcount
