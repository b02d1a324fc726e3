"""Embed pages: recorded with the token they sign in with, read on every page view.

The page key is random and only its digest is stored. The page row holds the CoCalc token
its browser signs in with (encrypted); with revocation on, the token is revoked once the
browser reported a positive sign-in, and the row forgets it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from .. import hosts
from ..cocalc.types import BrowserSignIn
from ..context import Gateway
from ..errors import Gone, NotFound, Unauthorized
from ..provisioning import Provisioned, projects, tokens
from ..store.database import CompiledStatement
from ..store.lti_tables import LtiGradeLink
from ..store.models import Host, HostUser, Launch, UsedTokenId, UserProject, utcnow
from ..support import concurrency
from .keys import digest, new_key


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
    #: The page may sign in outside a frame (see ``guard``).
    top_level: bool = False
    #: The launch carries grades (LTI): the page offers "Hand in".
    gradable: bool = False


def lifetime(gw: Gateway) -> timedelta | None:
    seconds = int(gw.settings.get("GATEWAY_EMBED_LIFETIME") or 0)
    return timedelta(seconds=seconds) if seconds > 0 else None


class LinkUsed(Exception):
    """The one-time link that asked for this page was used by another request meanwhile."""


def create(
    gw: Gateway, host: Host, provisioned, path: str, *, used=None, claim=None, top_level=False
) -> str:
    """Record an embed page and return its key.

    In the same transaction: the launch token's ``jti`` (``used``: its primary key refuses
    a second use), or the one-time link's claim (``claim``: an UPDATE that must hit its
    row). A warm launch on PostgreSQL does all of it in ``warm.py`` instead.
    """
    token = tokens.for_page(gw, provisioned.user_id, provisioned.token)
    expires_at, cap = token.expires_at, lifetime(gw)
    if cap:
        expires_at = min(expires_at, utcnow() + cap)
    key = new_key()
    page = {
        "digest": digest(key),
        "kind": "embed",
        "host_id": host.id,
        "user_id": provisioned.user_id,
        "user_project_id": provisioned.user_project_id,
        "path": path,
        "expires_at": expires_at,
        "token_encrypted": gw.box.encrypt(token.token),
        "top_level": top_level,
    }
    try:
        with gw.db.engine.begin() as connection:
            if claim is not None and connection.execute(claim).rowcount != 1:
                raise LinkUsed
            if used is not None:
                connection.execute(insert(UsedTokenId), used)
            connection.execute(insert(Launch), page)
    except (IntegrityError, LinkUsed) as exc:
        if tokens.revocation_enabled(gw):  # the page's own token will never be used
            tokens.revoke(gw, token.token)
        if isinstance(exc, LinkUsed):
            raise Gone(
                "this launch link was already used; ask the site for a new one",
                host_origins=host.origins,
            ) from None
        raise Unauthorized(
            "this launch token has already been used", host_origins=host.origins
        ) from None
    return key


EMBED_QUERY = (
    select(
        Launch.expires_at,
        Launch.path,
        Launch.token_encrypted,
        Host.origins,
        UserProject.project_id,
        Launch.top_level,
        # The kill switch: a removed host or a deprovisioned user stops every open page.
        and_(Host.removed_at.is_(None), HostUser.deprovisioned_at.is_(None)).label("active"),
        # An LTI launch with grades: the page offers "Hand in".
        LtiGradeLink.launch_digest.is_not(None).label("gradable"),
    )
    .join(Host, Host.id == Launch.host_id)
    .join(HostUser, HostUser.id == Launch.user_id)
    .join(UserProject, UserProject.id == Launch.user_project_id)
    .outerjoin(LtiGradeLink, LtiGradeLink.launch_digest == Launch.digest)
    .where(Launch.digest == bindparam("digest"), Launch.kind == "embed")
)


@functools.cache
def embed_statement() -> CompiledStatement:
    """EMBED_QUERY compiled once for ``Database.run``: every page view runs it."""
    return CompiledStatement.of(EMBED_QUERY)


class _EmbedRow(NamedTuple):
    expires_at: datetime
    path: str
    token_encrypted: str | None
    origins: list
    project_id: str
    top_level: bool
    active: bool
    gradable: bool


def _row(gw: Gateway, page_digest: str) -> _EmbedRow | None:
    if not gw.db.is_postgres:
        row = gw.db.fetch(EMBED_QUERY, {"digest": page_digest})
        return _EmbedRow(*row) if row else None
    row = gw.db.run(embed_statement(), {"digest": page_digest})
    if row is None:
        return None
    expires_at, *rest = row  # psycopg parses the JSON column; the time is UTC without a zone
    return _EmbedRow(expires_at.replace(tzinfo=UTC), *rest)


def load(gw: Gateway, key: str) -> EmbedPage:
    row = _row(gw, digest(key))
    if row is None:
        raise NotFound("this embed page does not exist")
    if row.expires_at <= utcnow():
        raise Gone(
            "this launch has expired; reload the page you came from to start again",
            host_origins=row.origins,
        )
    if not row.active:
        raise Gone("access to these notebooks was removed", host_origins=row.origins)
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
        top_level=row.top_level,
        gradable=bool(row.gradable),
    )


class PageOwner(NamedTuple):
    host_id: str
    user_id: int


def owner(gw: Gateway, key: str) -> PageOwner | None:
    """Whose embed page ``key`` is (None when there is none)."""
    row = gw.db.fetch(
        select(Launch.host_id, Launch.user_id).where(
            Launch.digest == digest(key), Launch.kind == "embed"
        )
    )
    return PageOwner(*row) if row else None


def signed_in(gw: Gateway, key: str) -> None:
    """The page's browser signed in (a positive signal): the page forgets its token, so a
    reload or a copied page URL carries none, and the token is revoked where the dialect
    allows (recorded in the same transaction, then tried until CoCalc confirms)."""
    page = (Launch.digest == digest(key), Launch.kind == "embed")
    with gw.db.engine.begin() as connection:
        row = connection.execute(select(Launch.token_encrypted).where(*page)).first()
        if row is None or row.token_encrypted is None:
            return
        cleared = connection.execute(
            update(Launch)
            .where(*page, Launch.token_encrypted == row.token_encrypted)
            .values(token_encrypted=None)
        ).rowcount
        if cleared:
            tokens.revoke_all(gw, [row.token_encrypted], connection)
    tokens.revoke_soon(gw)


def restart_project(gw: Gateway, key: str) -> bool:
    """The page's ``open`` did not complete: ask CoCalc to start its project again.

    A start interrupted on CoCalc's side (the hub died while starting) leaves a project
    that never opens a file until it is started again; starting is idempotent.
    """
    row = gw.db.fetch(
        select(Launch.user_project_id, Launch.expires_at, UserProject.project_id)
        .join(UserProject, UserProject.id == Launch.user_project_id)
        .where(Launch.digest == digest(key), Launch.kind == "embed")
    )
    if row is None or row.expires_at <= utcnow():
        raise NotFound("this embed page does not exist or has expired")
    # At most one start per half a retry interval, however many pages ask: starting is
    # idempotent, and this spares CoCalc a call per page (or per hostile POST).
    interval = timedelta(milliseconds=int(gw.settings["GATEWAY_OPEN_RETRY_MS"]) / 2)
    if not projects.claim_start(gw, row.user_project_id, interval):
        return False
    project_id = row.project_id
    concurrency.submit("start project again", lambda: gw.cocalc.start_project(project_id))
    return True


def copy_for_new_tab(gw: Gateway, key: str) -> str:
    """A new page of the same launch, allowed to sign in at top level (the new-tab offer),
    with a token of its own; the page it came from must still be live."""
    source = gw.db.fetch(
        select(
            Launch.host_id,
            Launch.user_id,
            Launch.user_project_id,
            Launch.path,
            HostUser.account_id,
            UserProject.project_id,
        )
        .join(HostUser, HostUser.id == Launch.user_id)
        .join(UserProject, UserProject.id == Launch.user_project_id)
        .where(
            Launch.digest == digest(key),
            Launch.kind == "embed",
            Launch.expires_at > utcnow(),
            HostUser.deprovisioned_at.is_(None),
        )
    )
    if source is None:
        raise NotFound("this embed page does not exist or has expired")
    host = hosts.get(gw, source.host_id)
    provisioned = Provisioned(
        source.user_id, source.user_project_id, source.account_id, source.project_id, False
    )
    return create(gw, host, provisioned, source.path, top_level=True)
