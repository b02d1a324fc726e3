"""Exchanges in progress (``Exchange``): created with a random key, used once, short-lived.

A step that a verified sign-in made keeps its state here, on the server: an LTI launch
waiting for its platform storage check (``bound``), a Deep Linking picker, a Dynamic
Registration code, a full-window launch's resume key. (A sign-in's own state is signed,
not stored: ``states``.)

Only the key's digest is stored. ``take`` uses an exchange up in one UPDATE, so of two
requests with the same key (a replayed launch, a double-clicked picker) exactly one wins,
and it wins before any other work is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..context import Gateway
from ..launches.request import OneTime
from ..store.models import Exchange, utcnow
from ..support.keys import digest, new_key

DEFAULT_LIFETIME = timedelta(minutes=5)
#: Used exchanges are kept this long after they expired, then purged by housekeeping.
KEEP_USED = timedelta(hours=1)


@dataclass(frozen=True)
class Taken:
    owner_id: str | None
    host_id: str | None
    nonce: str | None
    binding_digest: str | None
    data: dict


#: What ``take`` and ``peek`` read of an exchange, in ``Taken``'s order.
TAKEN_COLUMNS = (
    Exchange.owner_id,
    Exchange.host_id,
    Exchange.nonce,
    Exchange.binding_digest,
    Exchange.data,
)


def _taken(row) -> Taken:
    return Taken(row.owner_id, row.host_id, row.nonce, row.binding_digest, row.data or {})


def create(
    gw: Gateway,
    kind: str,
    *,
    lifetime: timedelta = DEFAULT_LIFETIME,
    owner_id=None,
    host_id=None,
    nonce=None,
    binding=None,
    binding_digest=None,
    data=None,
    spending: OneTime | None = None,
) -> str:
    """Record an exchange; return its key (shown once, stored as a digest). ``spending``:
    a one-time value (a sign-in's state) spent in the same transaction, or its refusal."""
    key = new_key()
    row = {
        "digest": digest(key),
        "kind": kind,
        "owner_id": owner_id,
        "host_id": host_id,
        "nonce": nonce,
        "binding_digest": digest(binding) if binding else binding_digest,
        "data": data or {},
        "expires_at": utcnow() + lifetime,
    }
    try:
        with gw.db.engine.begin() as connection:
            if spending is not None and not spending.spend_in(connection):
                raise _Spent
            connection.execute(insert(Exchange), row)
    except (IntegrityError, _Spent):
        if spending is None:
            raise
        raise spending.refusal from None
    return key


class _Spent(Exception):
    pass


def take_statement(kind: str, key):
    """The UPDATE that uses an exchange up (for a transaction of the caller's): it changes
    one row while the exchange is live and unused, and none after."""
    valid = isinstance(key, str) and 20 <= len(key) <= 100
    return (
        update(Exchange)
        .where(
            Exchange.digest == (digest(key) if valid else ""),
            Exchange.kind == kind,
            Exchange.used_at.is_(None),
            Exchange.expires_at > utcnow(),
        )
        .values(used_at=utcnow())
    )


def take(gw: Gateway, kind: str, key) -> Taken | None:
    """Use an exchange up; None if it is unknown, of another kind, used, or expired."""
    if not isinstance(key, str) or not 20 <= len(key) <= 100:
        return None
    where = (
        Exchange.digest == digest(key),
        Exchange.kind == kind,
        Exchange.used_at.is_(None),
        Exchange.expires_at > utcnow(),
    )
    with gw.db.engine.begin() as connection:
        used = update(Exchange).where(*where).values(used_at=utcnow())
        if connection.execute(used).rowcount != 1:
            return None
        row = connection.execute(select(*TAKEN_COLUMNS).where(Exchange.digest == digest(key))).one()
    return _taken(row)


def attempt(gw: Gateway, kind: str, key, *, subject: str, limit: int) -> Taken | None:
    """Count one attempt of a live exchange, bound to ``subject`` by its first attempt;
    None if unknown, used, expired, out of attempts, or tried before with another subject.

    One UPDATE: of any number of requests at once, at most ``limit`` ever count."""
    if not isinstance(key, str) or not 20 <= len(key) <= 100:
        return None
    subject_digest = digest(subject)
    counted = (
        update(Exchange)
        .where(
            Exchange.digest == digest(key),
            Exchange.kind == kind,
            Exchange.used_at.is_(None),
            Exchange.expires_at > utcnow(),
            Exchange.attempts < limit,
            or_(Exchange.binding_digest.is_(None), Exchange.binding_digest == subject_digest),
        )
        .values(attempts=Exchange.attempts + 1, binding_digest=subject_digest)
    )
    with gw.db.engine.begin() as connection:
        if connection.execute(counted).rowcount != 1:
            return None
        row = connection.execute(select(*TAKEN_COLUMNS).where(Exchange.digest == digest(key))).one()
    return _taken(row)


def release(gw: Gateway, kind: str, key) -> None:
    """Undo ``take`` after the step it guarded failed (its attempts still count)."""
    gw.db.write(
        (
            update(Exchange)
            .where(Exchange.digest == digest(key), Exchange.kind == kind)
            .values(used_at=None),
            None,
        )
    )


def peek(gw: Gateway, kind: str, key) -> Taken | None:
    """Read a live exchange without using it (the picker shows its page first)."""
    if not isinstance(key, str) or not 20 <= len(key) <= 100:
        return None
    row = gw.db.fetch(
        select(*TAKEN_COLUMNS).where(
            Exchange.digest == digest(key),
            Exchange.kind == kind,
            Exchange.used_at.is_(None),
            Exchange.expires_at > utcnow(),
        )
    )
    return _taken(row) if row else None


def purge(gw: Gateway) -> int:
    """Housekeeping: forget exchanges that expired a while ago."""
    cutoff = utcnow() - KEEP_USED
    with gw.db.engine.begin() as connection:
        expired = delete(Exchange).where(Exchange.expires_at < cutoff)
        return connection.execute(expired).rowcount
