"""Signed-in browsers: a session per sign-in, found by the digest of its cookie's random
key, ended by sign-out (which revokes the CoCalc tokens its pages still hold).

Each host has a ``__Host-`` cookie of its own (``guard.session_cookie``: no sibling subdomain
can set it): a browser signed in to two hosts
holds two sessions side by side, and signing in to one never orphans the other. The pages
a session opened are rows of their own (``Launch.binding_digest`` is the session's), so
sign-out finds every one of them, however many were opened at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from ...context import Gateway
from ...hosts import HOST_ID
from ...launches.guard import SESSION_COOKIE_PREFIX, Place, session_cookie
from ...launches.request import OneTime
from ...provisioning import revocations
from ...store.models import HostUser, Launch, utcnow
from ...store.sso_tables import SsoSession
from ...support.keys import digest, new_key

LIFETIME = timedelta(hours=8)
KEEP_ENDED = timedelta(days=1)
cookie_name = session_cookie


def hosts_signed_in(cookies) -> list[str]:
    """The hosts this browser holds a session cookie of (live or not)."""
    found = (
        "host_" + name.removeprefix(SESSION_COOKIE_PREFIX)
        for name in cookies
        if name.startswith(SESSION_COOKIE_PREFIX)
    )
    return [host_id for host_id in found if HOST_ID.match(host_id)]


@dataclass(frozen=True)
class Session:
    digest: str
    host_id: str
    provider_id: str | None
    user_id: int
    user_name: str
    id_token_encrypted: str | None
    locale: str | None = None
    saml_idp_id: str | None = None
    saml_subject_encrypted: str | None = None


def create(
    gw: Gateway,
    host_id: str,
    user_id: int,
    *,
    provider_id: str | None = None,
    id_token: str | None = None,
    saml_idp_id: str | None = None,
    saml_subject: str | None = None,
    saml_subject_digest: str | None = None,
    locale=None,
    spending: Sequence[OneTime] = (),
) -> str:
    """Start a session of an OpenID Provider (``provider_id``, its ``id_token`` kept for
    sign-out) or of a SAML IdP (``saml_idp_id``, the subject a single logout names);
    ``spending``: the sign-in's one-time values, spent in the same transaction (of two
    callbacks with one state, or two posts of one assertion, one gets a session)."""
    key = new_key()
    row = SsoSession(
        digest=digest(key),
        host_id=host_id,
        provider_id=provider_id,
        saml_idp_id=saml_idp_id,
        user_id=user_id,
        id_token_encrypted=gw.box.encrypt(id_token) if id_token else None,
        saml_subject_encrypted=gw.box.encrypt(saml_subject) if saml_subject else None,
        saml_subject_digest=saml_subject_digest,
        created_at=utcnow(),
        expires_at=utcnow() + LIFETIME,
        locale=locale,
    )
    refused = None
    try:
        with gw.db.begin() as session:
            for once in spending:
                refused = once.refusal
                if not once.spend_in(session):
                    raise IntegrityError("spent", None, Exception("spent"))
            refused = None
            session.add(row)
    except IntegrityError:
        if refused is None:
            raise
        raise refused from None
    return key


def current(gw: Gateway, cookies, host_id: str) -> Session | None:
    """The browser's live session with ``host_id``, or None."""
    key = cookies.get(cookie_name(host_id))
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
    if row is None or row.host_id != host_id:
        return None
    name = " ".join(n for n in (row.first_name, row.last_name) if n) or row.email or "Signed in"
    return Session(
        row.digest,
        row.host_id,
        row.provider_id,
        row.user_id,
        name,
        row.id_token_encrypted,
        row.locale,
        row.saml_idp_id,
        row.saml_subject_encrypted,
    )


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
        pages = (Launch.kind == Place.SSO.value, Launch.binding_digest == session.digest)
        held = (
            connection.execute(
                select(Launch.token_encrypted).where(*pages, Launch.token_encrypted.is_not(None))
            )
            .scalars()
            .all()
        )
        connection.execute(
            update(Launch).where(*pages).values(token_encrypted=None, expires_at=utcnow())
        )
        revocations.revoke_all(gw, list(held), connection)
    revocations.revoke_soon(gw)


def of_subject(gw: Gateway, subject_digest: str) -> list[Session]:
    """The live sessions a SAML single logout names (by the digest of IdP and NameID)."""
    rows = gw.db.fetch_all(
        select(SsoSession.digest, SsoSession.host_id).where(
            SsoSession.saml_subject_digest == subject_digest,
            SsoSession.ended_at.is_(None),
            SsoSession.expires_at > utcnow(),
        )
    )
    return [Session(r.digest, r.host_id, None, 0, "", None) for r in rows]


def purge(gw: Gateway) -> int:
    """Housekeeping: forget sessions a day after they expired or were signed out."""
    cutoff = utcnow() - KEEP_ENDED
    gone = or_(SsoSession.expires_at < cutoff, SsoSession.ended_at < cutoff)
    with gw.db.engine.begin() as connection:
        return connection.execute(delete(SsoSession).where(gone)).rowcount
