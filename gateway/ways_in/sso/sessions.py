"""Signed-in browsers: a session per sign-in, found by the digest of its cookie's random
key, ended by sign-out (which revokes the CoCalc tokens its pages still hold)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update

from ...context import Gateway
from ...launches.keys import digest, new_key
from ...provisioning import tokens
from ...store.models import HostUser, Launch, utcnow
from ...store.sso_tables import SsoSession
from ...support.housekeeping import task

COOKIE = "gw_session"
LIFETIME = timedelta(hours=8)
KEEP_ENDED = timedelta(days=1)


@dataclass(frozen=True)
class Session:
    digest: str
    host_id: str
    provider_id: str
    user_id: int
    user_name: str
    id_token_encrypted: str | None


def create(gw: Gateway, host_id: str, provider_id: str, user_id: int, id_token: str) -> str:
    key = new_key()
    row = SsoSession(
        digest=digest(key),
        host_id=host_id,
        provider_id=provider_id,
        user_id=user_id,
        id_token_encrypted=gw.box.encrypt(id_token),
        pages=[],
        created_at=utcnow(),
        expires_at=utcnow() + LIFETIME,
    )
    with gw.db.begin() as session:
        session.add(row)
    return key


def current(gw: Gateway, cookies, host_id: str | None = None) -> Session | None:
    """The browser's live session (of ``host_id``, if given), or None."""
    key = cookies.get(COOKIE)
    if not key or len(key) > 100:
        return None
    row = gw.db.fetch(
        select(SsoSession, HostUser.first_name, HostUser.last_name, HostUser.email)
        .join(HostUser, HostUser.id == SsoSession.user_id)
        .where(
            SsoSession.digest == digest(key),
            SsoSession.ended_at.is_(None),
            SsoSession.expires_at > utcnow(),
            HostUser.deprovisioned_at.is_(None),
        )
    )
    if row is None or (host_id is not None and row.host_id != host_id):
        return None
    name = " ".join(n for n in (row.first_name, row.last_name) if n) or row.email or "Signed in"
    return Session(
        row.digest, row.host_id, row.provider_id, row.user_id, name, row.id_token_encrypted
    )


def add_page(gw: Gateway, session_digest: str, page_key: str) -> None:
    """Remember a page this session opened (sign-out ends it)."""
    with gw.db.begin() as db:
        row = db.get(SsoSession, session_digest)
        row.pages = [*row.pages, digest(page_key)][-200:]


def end(gw: Gateway, session: Session) -> None:
    """Sign-out: the session ends, and its pages' unused CoCalc tokens are revoked."""
    with gw.db.engine.begin() as connection:
        ended = connection.execute(
            update(SsoSession)
            .where(SsoSession.digest == session.digest, SsoSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        ).rowcount
        if not ended:
            return
        pages = connection.execute(
            select(SsoSession.pages).where(SsoSession.digest == session.digest)
        ).scalar_one()
        held = (
            connection.execute(
                select(Launch.token_encrypted).where(
                    Launch.digest.in_(pages), Launch.token_encrypted.is_not(None)
                )
            )
            .scalars()
            .all()
        )
        connection.execute(
            update(Launch)
            .where(Launch.digest.in_(pages))
            .values(token_encrypted=None, expires_at=utcnow())
        )
        tokens.revoke_all(gw, list(held), connection)
    tokens.revoke_soon(gw)


@task("purge SSO sessions")
def purge(gw: Gateway) -> int:
    cutoff = utcnow() - KEEP_ENDED
    with gw.db.engine.begin() as connection:
        return connection.execute(delete(SsoSession).where(SsoSession.expires_at < cutoff)).rowcount
