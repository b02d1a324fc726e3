"""Launches: from a verified request to a one-time launch URL or an embed page."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .. import hosts, provisioning
from ..cocalc.types import BrowserSignIn
from ..context import Gateway
from ..errors import Gone, NotFound, Unauthorized
from ..provisioning import tokens
from ..store.models import Host, HostUser, Launch, UsedTokenId, UserProject, utcnow
from ..support.counters import LAUNCH_PATHS, LAUNCHES
from ..ways_in.request import LaunchRequest
from . import warm

HANDOFF_LIFETIME = timedelta(seconds=60)
PURGE_AFTER = timedelta(days=1)


def _digest(key: str) -> str:
    # Only the digest is stored: a copy of the database does not open anyone's embed page.
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class HandoffLink:
    key: str
    expires_at: datetime
    account_id: str
    project_id: str


@dataclass(frozen=True)
class EmbedPage:
    """Everything the embed page template needs."""

    key: str
    host_origins: list[str]
    project_id: str
    path: str
    sign_in: BrowserSignIn
    expires_at: datetime
    cocalc_origin: str
    dialect: str


def from_token(gw: Gateway, request: LaunchRequest) -> str:
    """Provision a verified token's user and return a new embed page key (token used once).

    The token's ``jti`` is recorded in the same transaction that creates the embed page, so
    a launch that fails (CoCalc down) can be retried with the same token, and of two uses of
    one token only one ever gets a page.
    """
    used = {
        "host_id": request.host.id,
        "jti": request.jti,
        "expires_at": datetime.fromtimestamp(request.expires_at or 0, UTC) + PURGE_AFTER,
    }
    try:
        key = _warm_from_token(gw, request, used)
        if key is None:
            provisioned = provisioning.provision(gw, request.host, request.profile, request.context)
            key = create_embed(gw, request.host, provisioned, request.path, used=used)
    except Exception:
        LAUNCHES.labels("token", "failed").inc()
        raise
    LAUNCHES.labels("token", "ok").inc()
    return key


def _warm_from_token(gw: Gateway, request: LaunchRequest, used: dict) -> str | None:
    """The whole launch in one statement, for a user who is set up (PostgreSQL only)."""
    if not gw.db.is_postgres:
        return None
    profile, context = provisioning.validate(request.profile, request.context)
    key = secrets.token_urlsafe(32)
    try:
        found = warm.launch(
            gw.db,
            host=request.host,
            external_id=profile.external_id,
            context=context,
            path=request.path,
            jti=used["jti"],
            jti_expires_at=used["expires_at"],
            digest=_digest(key),
            token_margin=tokens.margin(gw),
            embed_lifetime=_embed_lifetime(gw),
            take_token=tokens.revocation_enabled(gw),
        )
    except IntegrityError:
        raise Unauthorized("this launch token has already been used") from None
    if found is None:
        return None
    LAUNCH_PATHS.labels("warm").inc()
    provisioning.maybe_start_project(gw, found.user_project_id, found.project_id, found.started_at)
    _maybe_purge(gw)
    return key


def _embed_lifetime(gw: Gateway) -> timedelta | None:
    lifetime = int(gw.settings.get("GATEWAY_EMBED_LIFETIME") or 0)
    return timedelta(seconds=lifetime) if lifetime > 0 else None


def _maybe_purge(gw: Gateway) -> None:
    # One page in a hundred clears out what expired, so the tables do not grow for ever.
    if secrets.randbelow(100) == 0:
        purge_expired(gw)


def from_api(gw: Gateway, request: LaunchRequest) -> HandoffLink:
    """Provision synchronously and return a one-time launch link valid for 60 s."""
    try:
        provisioned = provisioning.provision(gw, request.host, request.profile, request.context)
    except Exception:
        LAUNCHES.labels("api", "failed").inc()
        raise
    key = secrets.token_urlsafe(32)
    expires_at = utcnow() + HANDOFF_LIFETIME
    handoff = {
        "digest": _digest(key),
        "kind": "handoff",
        "host_id": request.host.id,
        "user_id": provisioned.user_id,
        "user_project_id": provisioned.user_project_id,
        "path": request.path,
        "expires_at": expires_at,
    }
    gw.db.write((insert(Launch), handoff))
    LAUNCHES.labels("api", "ok").inc()
    return HandoffLink(key, expires_at, provisioned.account_id, provisioned.project_id)


def redeem_handoff(gw: Gateway, key: str) -> str:
    """Use a one-time launch link (once) and return a new embed page key."""
    now = utcnow()
    with gw.db.begin() as session:
        used = session.execute(
            update(Launch)
            .where(
                Launch.digest == _digest(key),
                Launch.kind == "handoff",
                Launch.used_at.is_(None),
                Launch.expires_at > now,
            )
            .values(used_at=now)
        ).rowcount
        row = session.get(Launch, _digest(key))
        # Raising here rolls back nothing that matters: no row was marked used.
        if row is None or row.kind != "handoff":
            raise NotFound("this launch link does not exist")
        if not used:
            raise Gone(
                "this launch link was already used or has expired; ask the site for a new one"
            )
        user = session.get(HostUser, row.user_id)
        project = session.get(UserProject, row.user_project_id)
    provisioned = provisioning.Provisioned(
        user.id, project.id, user.account_id, project.project_id, cold=False
    )
    return create_embed(gw, hosts.get(gw, row.host_id), provisioned, row.path)


def create_embed(gw: Gateway, host: Host, provisioned, path: str, *, used=None) -> str:
    """Record an embed page (and the launch token that asked for it) and return its key."""
    token = tokens.for_page(gw, provisioned.user_id, provisioned.token)
    expires_at, lifetime = token.expires_at, _embed_lifetime(gw)
    if lifetime:
        expires_at = min(expires_at, utcnow() + lifetime)
    key = secrets.token_urlsafe(32)
    launch = {
        "digest": _digest(key),
        "kind": "embed",
        "host_id": host.id,
        "user_id": provisioned.user_id,
        "user_project_id": provisioned.user_project_id,
        "path": path,
        "expires_at": expires_at,
        "token_encrypted": gw.box.encrypt(token.token),
    }
    # The launch token's jti goes in with the page, in one transaction: its primary key
    # refuses a second use. (A warm launch on PostgreSQL does both in warm.py instead.)
    statements = [(insert(UsedTokenId), used)] if used is not None else []
    try:
        gw.db.write(*statements, (insert(Launch), launch))
    except IntegrityError:
        if tokens.revocation_enabled(gw):  # the page's own token will never be used
            tokens.revoke_and_refill(gw, provisioned.user_id, token.token)
        raise Unauthorized("this launch token has already been used") from None
    _maybe_purge(gw)
    return key


EMBED_QUERY = (
    select(
        Launch.expires_at,
        Launch.path,
        Launch.token_encrypted,
        Host.origins,
        UserProject.project_id,
    )
    .join(Host, Host.id == Launch.host_id)
    .join(UserProject, UserProject.id == Launch.user_project_id)
    .where(Launch.digest == bindparam("digest"), Launch.kind == "embed")
)


# EMBED_QUERY by hand, for Database.run: every page view runs it.
EMBED_SQL = """
SELECT l.expires_at, l.path, l.token_encrypted, h.origins, p.project_id
FROM launches l
JOIN hosts h ON h.id = l.host_id
JOIN user_projects p ON p.id = l.user_project_id
WHERE l.digest = %(digest)s AND l.kind = 'embed'
"""


class _EmbedRow(NamedTuple):
    expires_at: datetime
    path: str
    token_encrypted: str | None
    origins: list
    project_id: str


def _embed_row(gw: Gateway, digest: str) -> _EmbedRow | None:
    if not gw.db.is_postgres:
        row = gw.db.fetch(EMBED_QUERY, {"digest": digest})
        return _EmbedRow(*row) if row else None
    row = gw.db.run(EMBED_SQL, {"digest": digest})
    if row is None:
        return None
    expires_at, *rest = row  # psycopg parses the JSON column; the time is UTC without a zone
    return _EmbedRow(expires_at.replace(tzinfo=UTC), *rest)


def load_embed(gw: Gateway, key: str) -> EmbedPage:
    row = _embed_row(gw, _digest(key))
    if row is None:
        raise NotFound("this embed page does not exist")
    if row.expires_at <= utcnow():
        raise Gone(
            "this launch has expired; reload the page you came from to start again",
            host_origins=row.origins,
        )
    client = gw.cocalc
    if row.token_encrypted:
        token = gw.box.decrypt(row.token_encrypted)
        sign_in = client.browser_sign_in(token, row.project_id, row.path)
    else:  # the token was revoked after the first sign-in; the browser keeps CoCalc's cookie
        sign_in = BrowserSignIn(kiosk_url=client.kiosk_url(row.project_id, row.path))
    return EmbedPage(
        key=key,
        host_origins=list(row.origins),
        project_id=row.project_id,
        path=row.path,
        sign_in=sign_in,
        expires_at=row.expires_at,
        cocalc_origin=client.origin,
        dialect=client.dialect,
    )


def signed_in(gw: Gateway, key: str) -> None:
    """The embed page's browser is signed in: revoke its token where the dialect allows."""
    if not tokens.revocation_enabled(gw):
        return
    with gw.db.begin() as session:
        row = session.get(Launch, _digest(key))
        if row is None or row.kind != "embed" or not row.token_encrypted:
            return
        token, row.token_encrypted = gw.box.decrypt(row.token_encrypted), None
        user_id = row.user_id
    tokens.revoke_and_refill(gw, user_id, token)


def purge_expired(gw: Gateway) -> int:
    """Delete launches and used token ids that expired more than a day ago."""
    cutoff = utcnow() - PURGE_AFTER
    with gw.db.begin() as session:
        gone = session.execute(delete(Launch).where(Launch.expires_at < cutoff)).rowcount
        gone += session.execute(delete(UsedTokenId).where(UsedTokenId.expires_at < cutoff)).rowcount
    return gone
