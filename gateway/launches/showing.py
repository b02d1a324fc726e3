"""The page guard: ``guard``'s rules applied to every page view and every page action.

A page is read by its key alone: one statement finds the page row by the digest of its
key, with its host's origins and language and the kill switch (a removed host or a
deprovisioned user stops every open page) by their primary keys; everything else the page
shows is in its own row (``embed.Shown``). ``live`` is the one rule of a page that works:
it exists, is of a place this route serves, has not expired, and neither its host nor its
user was removed. ``view`` then admits the request by the page's binding (``guard.admit``);
``act`` admits a page's own action (hand in, grade, a new tab's ticket, a full window, a
signed-in report, a restart): same-origin, live, and bound, whatever the page's place.
"""

from __future__ import annotations

import functools
import hmac
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import and_, bindparam, select, update

from ..cocalc.types import BrowserSignIn
from ..context import Gateway
from ..errors import N_, Forbidden, Gone, NotFound
from ..provisioning.profile import UserProfile
from ..store.database import CompiledStatement
from ..store.models import Host, HostUser, Launch, utcnow
from ..support.keys import digest
from .embed import EmbedPage, Once, Shown
from .guard import (
    ONCE_WITHIN,
    Admission,
    Place,
    admit,
    from_own_page,
    page_cookie,
    session_cookie,
)

PAGE_QUERY = (
    select(
        Launch.kind,
        Launch.expires_at,
        Launch.path,
        Launch.token_encrypted,
        Launch.project_id,
        Launch.binding_digest,
        # Nobody has been shown the page yet: a frame no cookie reaches gets this one view.
        Launch.used_at.is_(None).label("unviewed"),
        Launch.issued_at,
        # The kill switch: a removed host or a deprovisioned user stops every open page.
        and_(Host.removed_at.is_(None), HostUser.deprovisioned_at.is_(None)).label("active"),
        Host.origins,
        Host.language,
        Launch.locale,
        Launch.shown,
        Launch.host_id,
        Launch.user_id,
        Launch.user_project_id,
    )
    .join(Host, Host.id == Launch.host_id)
    .join(HostUser, HostUser.id == Launch.user_id)
    .where(Launch.digest == bindparam("digest"), Launch.kind != "handoff")
)


@functools.cache
def page_statement() -> CompiledStatement:
    """PAGE_QUERY compiled once for ``Database.run``: every page view runs it."""
    return CompiledStatement.of(PAGE_QUERY)


class PageRow(NamedTuple):
    kind: str
    expires_at: datetime
    path: str
    token_encrypted: str | None
    project_id: str
    binding_digest: str | None
    unviewed: bool
    issued_at: datetime | None
    active: bool
    origins: list
    language: str | None
    locale: str | None
    shown: dict | None
    host_id: str
    user_id: int
    user_project_id: int

    @property
    def place(self) -> Place:
        return Place(self.kind)


def _read(gw: Gateway, page_digest: str) -> PageRow | None:
    if not gw.db.is_postgres:
        row = gw.db.fetch(PAGE_QUERY, {"digest": page_digest})
        return PageRow(*row) if row else None
    row = gw.db.run(page_statement(), {"digest": page_digest})
    if row is None:
        return None
    # psycopg parses the JSON columns; the times are UTC without a zone
    found = PageRow(*row)
    issued = found.issued_at.replace(tzinfo=UTC) if found.issued_at else None
    return found._replace(expires_at=found.expires_at.replace(tzinfo=UTC), issued_at=issued)


def live(gw: Gateway, page_digest: str, places) -> PageRow:
    """The one rule of a page that works, for its views and its actions alike."""
    row = _read(gw, page_digest)
    if row is None or row.place not in places:
        # A page of another type is no page here: an SSO page lives under its session.
        raise NotFound(N_("this embed page does not exist"))
    if row.expires_at <= utcnow():
        raise Gone(
            N_("this launch has expired; reload the page you came from to start again"),
            host_origins=row.origins,
        )
    if not row.active:
        raise Gone(N_("access to these notebooks was removed"), host_origins=row.origins)
    return row


def _bound(row: PageRow, cookies, key: str) -> tuple[bool, bool]:
    """(whether the request carries this page's binding, whether it carries one at all)."""
    name = session_cookie(row.host_id) if row.place is Place.SSO else page_cookie(key)
    presented = cookies.get(name)
    if not presented or len(presented) > 200:
        return False, False
    expected = row.binding_digest or ""
    return bool(expected) and hmac.compare_digest(digest(presented), expected), True


@dataclass(frozen=True)
class PageView:
    """What a request for a page gets: the page (with its sign-in or without), or, where
    the page is bound to another browser, whose it is (to name the account)."""

    admission: Admission
    page: EmbedPage | None = None
    owner: UserProfile | None = None
    host_name: str = ""
    row: PageRow | None = None


def view(gw: Gateway, key: str, headers, cookies, *, places, once=None) -> PageView:
    """Admit a request for page ``key`` (of one of ``places``) by its binding.

    ``once``: makes what the one view of a page that no cookie reaches carries instead
    of its sign-in (``embed.Once``), given the page's key and row.
    """
    page_digest = digest(key)
    row = live(gw, page_digest, places)
    bound, presented = _bound(row, cookies, key)
    # A view that no cookie reaches counts only in the moments after the page was issued.
    recent = row.issued_at is not None and row.issued_at > utcnow() - ONCE_WITHIN
    unviewed = row.unviewed and recent
    admission = admit(row.place, headers, bound=bound, presented=presented, unviewed=unviewed)
    if admission is Admission.NOT_FRAMED:
        raise Forbidden(
            N_("this page works only inside the site you came from; open the launch there again"),
            host_origins=row.origins,
        )
    if admission is not Admission.OTHER_BROWSER and row.unviewed:
        first = _claim_first_view(gw, page_digest)
        if admission is Admission.ONCE and not first:  # another request had the one view
            admission = Admission.OTHER_BROWSER
    if admission is Admission.OTHER_BROWSER:
        profile, host_name = _owner_of(gw, page_digest)
        return PageView(admission, owner=profile, host_name=host_name, row=row)
    client = gw.cocalc
    if row.token_encrypted and admission is Admission.SIGN_IN:
        token = gw.box.decrypt(row.token_encrypted)
        sign_in = client.browser_sign_in(token, row.project_id, row.path)
    else:  # revoked after its sign-in (the browser has CoCalc's cookie), or no sign-in here
        sign_in = BrowserSignIn(kiosk_url=client.kiosk_url(row.project_id, row.path))
    page = EmbedPage(
        key=key,
        host_origins=list(row.origins),
        project_id=row.project_id,
        path=row.path,
        sign_in=sign_in,
        expires_at=row.expires_at,
        cocalc_origin=client.origin,
        dialect=client.dialect,
        place=row.place,
        shown=Shown.of_json(row.shown),
        locale=row.locale,
        host_language=row.language,
    )
    if admission is Admission.ONCE:
        extras: Once = once(key, page) if once else Once(())
        page = replace(page, once=extras)
    return PageView(admission, page, row=row)


def _claim_first_view(gw: Gateway, page_digest: str) -> bool:
    """Record the first view of a page: of two views at once, one gets it."""
    claimed = (
        update(Launch)
        .where(Launch.digest == page_digest, Launch.used_at.is_(None))
        .values(used_at=utcnow())
    )
    with gw.db.engine.begin() as connection:
        return connection.execute(claimed).rowcount == 1


def _owner_of(gw: Gateway, page_digest: str) -> tuple[UserProfile, str]:
    row = gw.db.fetch(
        select(
            HostUser.external_id, HostUser.email, HostUser.first_name, HostUser.last_name, Host.name
        )
        .join(Launch, Launch.user_id == HostUser.id)
        .join(Host, Host.id == Launch.host_id)
        .where(Launch.digest == page_digest)
    )
    return UserProfile(row.external_id, row.email, row.first_name, row.last_name), row.name


@dataclass(frozen=True)
class ActingPage:
    """A live page whose own browser asked for one of its actions."""

    digest: str
    row: PageRow

    @property
    def shown(self) -> Shown:
        return Shown.of_json(self.row.shown)


def act(
    gw: Gateway,
    key: str,
    headers,
    cookies,
    *,
    gateway_origin: str,
    refusal: Forbidden,
    places=tuple(Place),
) -> ActingPage:
    """Admit a page's own action: sent by the gateway's page (same-origin: keeps other
    sites' pages out), for a live page, from the browser the page is bound to (which a
    client with the URL alone cannot be). ``refusal``: what a request from elsewhere gets."""
    if not from_own_page(headers, gateway_origin):
        raise refusal
    page_digest = digest(key)
    row = live(gw, page_digest, places)
    bound, _ = _bound(row, cookies, key)
    if not bound:
        raise Forbidden(N_("this page works only in the browser that opened it"))
    return ActingPage(page_digest, row)


class PageOwner(NamedTuple):
    host_id: str
    user_id: int


def owner(gw: Gateway, key: str, place: Place) -> PageOwner | None:
    """Whose page ``key`` of ``place`` is (None when there is none)."""
    row = gw.db.fetch(
        select(Launch.host_id, Launch.user_id).where(
            Launch.digest == digest(key), Launch.kind == place.value
        )
    )
    return PageOwner(*row) if row else None
