"""Showing a page: ``guard``'s rule applied to every page view, in one read.

The page key's digest finds the page row, its host's origins, the user's project, the kill
switch (a removed host or a deprovisioned user stops every open page) and whether the page
offers "Hand in", in one statement prepared once. A page shows only on the route of its
place and where ``guard.admit`` lets it: a top-level page's first view in its own browser
claims the sign-in (one UPDATE: of two views at once, one gets it).
"""

from __future__ import annotations

import functools
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import and_, bindparam, select, update

from ..cocalc.types import BrowserSignIn
from ..context import Gateway
from ..errors import N_, Forbidden, Gone, NotFound
from ..provisioning.profile import UserProfile
from ..store.database import CompiledStatement
from ..store.lti_tables import LtiGradeLink, LtiPage
from ..store.models import Host, HostUser, Launch, UserProject, utcnow
from ..support.keys import digest
from .embed import EmbedPage, LtiShown, Review
from .guard import Admission, Place, admit

EMBED_QUERY = (
    select(
        Launch.expires_at,
        Launch.path,
        Launch.token_encrypted,
        Host.origins,
        UserProject.project_id,
        Launch.kind,
        Launch.binding_digest,
        # A top-level page hands out its sign-in once (see ``guard``).
        Launch.used_at.is_(None).label("unviewed"),
        # The kill switch: a removed host or a deprovisioned user stops every open page.
        and_(Host.removed_at.is_(None), HostUser.deprovisioned_at.is_(None)).label("active"),
        # An LTI launch with grades: the page offers "Hand in".
        LtiGradeLink.launch_digest.is_not(None).label("gradable"),
        # An LTI page's way back to the course, and a review's learner and grade bar.
        LtiPage.launch_digest.is_not(None).label("lti"),
        LtiPage.platform_family,
        LtiPage.document_target,
        LtiPage.return_url,
        LtiPage.learner_name,
        LtiPage.handed_in_at,
        LtiPage.may_grade,
        # The language the launch asked for, and the host's default.
        Launch.locale,
        Host.language,
    )
    .join(Host, Host.id == Launch.host_id)
    .join(HostUser, HostUser.id == Launch.user_id)
    .join(UserProject, UserProject.id == Launch.user_project_id)
    .outerjoin(LtiGradeLink, LtiGradeLink.launch_digest == Launch.digest)
    .outerjoin(LtiPage, LtiPage.launch_digest == Launch.digest)
    # Every row but a one-time link is a page; ``view`` checks its kind against the route.
    .where(Launch.digest == bindparam("digest"), Launch.kind != "handoff")
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
    kind: str
    binding_digest: str | None
    unviewed: bool
    active: bool
    gradable: bool
    lti: bool
    platform_family: str | None
    document_target: str | None
    return_url: str | None
    learner_name: str | None
    handed_in_at: datetime | None
    may_grade: bool | None
    locale: str | None
    language: str | None


def _row(gw: Gateway, page_digest: str) -> _EmbedRow | None:
    if not gw.db.is_postgres:
        row = gw.db.fetch(EMBED_QUERY, {"digest": page_digest})
        return _EmbedRow(*row) if row else None
    row = gw.db.run(embed_statement(), {"digest": page_digest})
    if row is None:
        return None
    # psycopg parses the JSON column; the times are UTC without a zone
    fields = _EmbedRow(*row)
    handed_in_at = fields.handed_in_at
    return fields._replace(
        expires_at=fields.expires_at.replace(tzinfo=UTC),
        handed_in_at=handed_in_at.replace(tzinfo=UTC) if handed_in_at else None,
    )


@dataclass(frozen=True)
class PageView:
    """What a request for a page gets: the page (with its sign-in or without), or, where
    the page is bound to another browser, whose it is (to name the account)."""

    admission: Admission
    page: EmbedPage | None = None
    owner: UserProfile | None = None
    host_name: str = ""


def view(gw: Gateway, key: str, headers, *, places, binding: str | None) -> PageView:
    """Apply ``guard.admit`` to a request for the page ``key`` of one of ``places``.

    ``binding``: the digest of the binding this request presents (a top-level page's
    cookie, or the sign-in session of an SSO page), or None.
    """
    page_digest = digest(key)
    row = _row(gw, page_digest)
    if row is None or Place(row.kind) not in places:
        # A page of another type is no page here: an SSO page lives under its session.
        raise NotFound(N_("this embed page does not exist"))
    if row.expires_at <= utcnow():
        raise Gone(
            N_("this launch has expired; reload the page you came from to start again"),
            host_origins=row.origins,
        )
    if not row.active:
        raise Gone(N_("access to these notebooks was removed"), host_origins=row.origins)
    place = Place(row.kind)
    bound = (
        place is not Place.FRAMED
        and binding is not None
        and row.binding_digest is not None
        and hmac.compare_digest(binding, row.binding_digest)
    )
    first_view = bound and row.unviewed and _claim_first_view(gw, page_digest)
    admission = admit(place, headers, bound=bound, first_view=first_view)
    if admission is Admission.NOT_FRAMED:
        raise Forbidden(
            N_("this page works only inside the site you came from; open the launch there again"),
            host_origins=row.origins,
        )
    if admission is Admission.OTHER_BROWSER:
        profile, host_name = _owner_of(gw, page_digest)
        return PageView(admission, owner=profile, host_name=host_name)
    client = gw.cocalc
    if row.token_encrypted and admission is Admission.SIGN_IN:
        token = gw.box.decrypt(row.token_encrypted)
        sign_in = client.browser_sign_in(token, row.project_id, row.path)
    else:  # revoked after the first sign-in, or handed out once: the browser has CoCalc's cookie
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
        place=place,
        gradable=bool(row.gradable),
        back_url=row.return_url,
        locale=row.locale,
        host_language=row.language,
        **_lti_extras(row),
    )
    return PageView(admission, page)


def _lti_extras(row: _EmbedRow) -> dict:
    """An LTI page's platform, and the hand-in a review page shows (the outer joins' rows)."""
    return {
        "lti": LtiShown(row.platform_family, row.document_target) if row.lti else None,
        "review": (
            Review(row.learner_name, row.handed_in_at, bool(row.may_grade))
            if row.learner_name
            else None
        ),
    }


def _claim_first_view(gw: Gateway, page_digest: str) -> bool:
    """Record the first view of a top-level page: of two views at once, one gets the sign-in."""
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


def check_bound(gw: Gateway, key: str, binding: str | None) -> None:
    """An action a page posts to its own URL (hand in, grade): a top-level page acts only
    in the browser it is bound to, as it shows only there. The key alone is a bearer
    secret that a pasted URL gives away; the binding cookie never leaves that browser.
    A framed page has no binding: its key lives only inside the host's frame."""
    row = gw.db.fetch(
        select(Launch.kind, Launch.binding_digest).where(Launch.digest == digest(key))
    )
    if row is None or row.kind != Place.TOP.value:
        return  # no such page (the action says so itself), or one without a binding
    presented = digest(binding) if binding else ""
    if not row.binding_digest or not hmac.compare_digest(presented, row.binding_digest):
        raise Forbidden(N_("this page works only in the browser that opened it"))


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
