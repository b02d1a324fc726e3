"""Embed pages: what a page is and shows, recorded with the token it signs in with.

The page key is random and only its digest is stored. The page row holds the CoCalc token
its browser signs in with (encrypted); with revocation on, the token is revoked once the
browser reported a positive sign-in, and the row forgets it.

A page row is made to be read alone (``showing``): it keeps its project and what it shows
beyond the notebook (``Shown``), so a page view is one look-up by its key. Each page has a
place (``guard.Place``) and a binding (``guard``); ``pipeline.open`` records pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ..cocalc.types import BrowserSignIn
from ..context import Gateway
from ..provisioning import projects, revocations
from ..store.models import Launch, utcnow
from .guard import PAGE_KINDS, Place


@dataclass(frozen=True)
class Review:
    """A page that shows a learner's hand-in to a reviewer (LTI Submission Review)."""

    learner_name: str
    #: When the work shown was handed in (None: never, so the page shows the working copy).
    handed_in_at: datetime | None
    #: The reviewer is staff and the launch may post scores: the page has a grade bar.
    may_grade: bool
    #: The autograder's run of the hand-in as it stood when the page was opened:
    #: ``{"status", "score", "maximum", "reason"}`` (None: the link has no grader).
    autograde: dict | None = None


@dataclass(frozen=True)
class LtiShown:
    """A page of an LTI launch: which platform shows it, and how it meant to."""

    platform_family: str | None
    document_target: str | None


@dataclass(frozen=True)
class Shown:
    """What a page shows beyond the notebook, kept in its row (``Launch.shown``)."""

    #: The launch carries grades (LTI): the page offers "Hand in".
    gradable: bool = False
    #: The platform's way back to the course (LTI ``return_url``), if it gave one.
    back_url: str | None = None
    lti: LtiShown | None = None
    review: Review | None = None

    def as_json(self) -> dict | None:
        if self == Shown():
            return None
        found: dict = {"gradable": self.gradable, "back_url": self.back_url}
        if self.lti is not None:
            found["lti"] = {"family": self.lti.platform_family, "target": self.lti.document_target}
        if self.review is not None:
            at = self.review.handed_in_at
            found["review"] = {
                "learner": self.review.learner_name,
                "handed_in_at": at.isoformat() if at else None,
                "may_grade": self.review.may_grade,
                "autograde": self.review.autograde,
            }
        return found

    @classmethod
    def of_json(cls, value) -> Shown:
        if not isinstance(value, dict):
            return cls()
        lti, review = value.get("lti"), value.get("review")
        at = review.get("handed_in_at") if isinstance(review, dict) else None
        return cls(
            gradable=bool(value.get("gradable")),
            back_url=value.get("back_url"),
            lti=LtiShown(lti.get("family"), lti.get("target")) if isinstance(lti, dict) else None,
            review=Review(
                review.get("learner") or "",
                datetime.fromisoformat(at) if at else None,
                bool(review.get("may_grade")),
                review.get("autograde") if isinstance(review.get("autograde"), dict) else None,
            )
            if isinstance(review, dict)
            else None,
        )


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
    shown: Shown = field(default_factory=Shown)
    #: The language the launch asked for, and the host's default (``web.i18n`` chooses).
    locale: str | None = None
    host_language: str | None = None
    #: A frame no cookie reaches: the page's one view, without a sign-in (``guard``). It
    #: carries what its new-tab offer needs, since no later request of it can be bound.
    once: Once | None = None

    @property
    def top_level(self) -> bool:
        return self.place is not Place.FRAMED

    @property
    def gradable(self) -> bool:
        return self.shown.gradable

    @property
    def back_url(self) -> str | None:
        return self.shown.back_url

    @property
    def review(self) -> Review | None:
        return self.shown.review

    @property
    def lti(self) -> LtiShown | None:
        return self.shown.lti


@dataclass(frozen=True)
class Once:
    """What the one view of a page that no cookie reaches carries instead of its sign-in:
    one-time new-tab tickets, and for an LTI page its full-window launch's URL."""

    tickets: tuple[str, ...]
    full_window_url: str | None = None


@dataclass(frozen=True)
class Issued:
    """A page just recorded: its key and the value of its binding cookie, which must be set
    in the same response that hands out the key (None for an SSO page: its session binds)."""

    key: str
    place: Place
    binding: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None


def lifetime(gw: Gateway) -> timedelta | None:
    seconds = int(gw.settings.get("GATEWAY_EMBED_LIFETIME") or 0)
    return timedelta(seconds=seconds) if seconds > 0 else None


def seconds_left(issued: Issued) -> int:
    """How long a page just issued lives: its binding cookie lives as long."""
    return max(1, int((issued.expires_at - utcnow()).total_seconds()))


def signed_in(gw: Gateway, page_digest: str) -> None:
    """The page's browser signed in (a positive signal): the page forgets its token, so a
    reload carries none, and the token is revoked where the dialect allows (recorded in the
    same transaction, then tried until CoCalc confirms)."""
    page = (Launch.digest == page_digest, Launch.kind.in_(PAGE_KINDS))
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


def restart_project(gw: Gateway, user_project_id: int, project_id: str) -> bool:
    """The page's ``open`` did not complete: ask CoCalc to start its project again.

    A start interrupted on CoCalc's side (the hub died while starting) leaves a project
    that never opens a file until it is started again; starting is idempotent.
    """
    # At most one start per half a retry interval, however many pages ask: starting is
    # idempotent, and this spares CoCalc a call per page (or per hostile POST).
    interval = timedelta(milliseconds=int(gw.settings["GATEWAY_OPEN_RETRY_MS"]) / 2)
    if not projects.claim_start(gw, user_project_id, interval):
        return False
    gw.background.submit("start project again", lambda: gw.cocalc.start_project(project_id))
    return True
