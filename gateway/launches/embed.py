"""Embed pages: recorded with the token they sign in with, read on every page view.

The page key is random and only its digest is stored. The page row holds the CoCalc token
its browser signs in with (encrypted); with revocation on, the token is revoked once the
browser reported a positive sign-in, and the row forgets it.

Each page has a place (``guard.Place``): framed, top-level (bound to one browser by a
cookie whose digest the row keeps), or a sign-in session's. ``showing.view`` applies
``guard``'s rule to every page view, so no route can show a page where its place does not
allow it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ..cocalc.types import BrowserSignIn
from ..context import Gateway
from ..errors import N_, Gone, NotFound, Unauthorized
from ..provisioning import projects, revocations, tokens
from ..store.models import Host, Launch, UsedTokenId, UserProject, utcnow
from ..support import concurrency
from ..support.keys import digest, new_key
from .guard import PAGE_KINDS, Place


@dataclass(frozen=True)
class Review:
    """A page that shows a learner's hand-in to a reviewer (LTI Submission Review)."""

    learner_name: str
    #: When the work shown was handed in (None: never, so the page shows the working copy).
    handed_in_at: datetime | None
    #: The reviewer is staff and the launch may post scores: the page has a grade bar.
    may_grade: bool


@dataclass(frozen=True)
class LtiShown:
    """A page of an LTI launch: which platform shows it, and how it meant to."""

    platform_family: str | None
    document_target: str | None


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
    #: Where the page may be shown (see ``guard``).
    place: Place = Place.FRAMED
    #: The launch carries grades (LTI): the page offers "Hand in".
    gradable: bool = False
    #: The platform's way back to the course (LTI ``return_url``), if it gave one.
    back_url: str | None = None
    review: Review | None = None
    lti: LtiShown | None = None
    #: The language the launch asked for, and the host's default (``web.i18n`` chooses).
    locale: str | None = None
    host_language: str | None = None

    @property
    def top_level(self) -> bool:
        return self.place is not Place.FRAMED


@dataclass(frozen=True)
class Issued:
    """A page just recorded: its key and, for a top-level page, the value of the binding
    cookie that must be set in the same response that hands out the key."""

    key: str
    place: Place
    binding: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None


def lifetime(gw: Gateway) -> timedelta | None:
    seconds = int(gw.settings.get("GATEWAY_EMBED_LIFETIME") or 0)
    return timedelta(seconds=seconds) if seconds > 0 else None


class LinkUsed(Exception):
    """The one-time link that asked for this page was used by another request meanwhile."""


REPLAYED_TOKEN = N_("this launch token has already been used")


def seconds_left(issued: Issued) -> int:
    """How long a page just issued lives: its binding cookie lives as long."""
    return max(1, int((issued.expires_at - utcnow()).total_seconds()))


def binding_for(place: Place, session_digest: str | None = None) -> tuple[str | None, str | None]:
    """A new page's binding: (the cookie value to hand out, the digest to store)."""
    if place is Place.TOP:
        value = new_key()
        return value, digest(value)
    if place is Place.SSO:
        if not session_digest:
            raise ValueError("an SSO page needs the session that opens it")
        return None, session_digest
    return None, None


def create(
    gw: Gateway,
    host: Host,
    provisioned,
    path: str,
    *,
    place: Place = Place.FRAMED,
    session_digest: str | None = None,
    used=None,
    claim=None,
    replayed: str = REPLAYED_TOKEN,
    locale: str | None = None,
) -> Issued:
    """Record an embed page and return it.

    In the same transaction: a one-time value's use (``used``: a launch token's ``jti``, or
    the new-tab offer's proof; the primary key refuses a second use, with ``replayed`` as
    the error), or the one-time link's claim (``claim``: an UPDATE that must hit its row).
    A warm launch on PostgreSQL does all of it in ``warm.py`` instead.
    """
    token = tokens.for_page(gw, provisioned.user_id, provisioned.token)
    expires_at, cap = token.expires_at, lifetime(gw)
    if cap:
        expires_at = min(expires_at, utcnow() + cap)
    key = new_key()
    binding, binding_digest = binding_for(place, session_digest)
    page = {
        "digest": digest(key),
        "kind": place.value,
        "host_id": host.id,
        "user_id": provisioned.user_id,
        "user_project_id": provisioned.user_project_id,
        "path": path,
        "expires_at": expires_at,
        "token_encrypted": gw.box.encrypt(token.token),
        "binding_digest": binding_digest,
        "locale": locale,
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
            revocations.revoke(gw, token.token)
        if isinstance(exc, LinkUsed):
            raise Gone(
                N_("this launch link was already used; ask the site for a new one"),
                host_origins=host.origins,
            ) from None
        raise Unauthorized(replayed, host_origins=host.origins) from None
    return Issued(key, place, binding, expires_at)


def signed_in(gw: Gateway, key: str) -> None:
    """The page's browser signed in (a positive signal): the page forgets its token, so a
    reload or a copied page URL carries none, and the token is revoked where the dialect
    allows (recorded in the same transaction, then tried until CoCalc confirms)."""
    page = (Launch.digest == digest(key), Launch.kind.in_(PAGE_KINDS))
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
            revocations.revoke_all(gw, [row.token_encrypted], connection)
    revocations.revoke_soon(gw)


def restart_project(gw: Gateway, key: str) -> bool:
    """The page's ``open`` did not complete: ask CoCalc to start its project again.

    A start interrupted on CoCalc's side (the hub died while starting) leaves a project
    that never opens a file until it is started again; starting is idempotent.
    """
    row = gw.db.fetch(
        select(Launch.user_project_id, Launch.expires_at, UserProject.project_id)
        .join(UserProject, UserProject.id == Launch.user_project_id)
        .where(Launch.digest == digest(key), Launch.kind.in_(PAGE_KINDS))
    )
    if row is None or row.expires_at <= utcnow():
        raise NotFound(N_("this embed page does not exist or has expired"))
    # At most one start per half a retry interval, however many pages ask: starting is
    # idempotent, and this spares CoCalc a call per page (or per hostile POST).
    interval = timedelta(milliseconds=int(gw.settings["GATEWAY_OPEN_RETRY_MS"]) / 2)
    if not projects.claim_start(gw, row.user_project_id, interval):
        return False
    project_id = row.project_id
    concurrency.submit("start project again", lambda: gw.cocalc.start_project(project_id))
    return True
