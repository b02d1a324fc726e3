"""Submission Review (LTI Assignment and Grade Services): the gradebook's "view submission"
opens, framed in the LMS, the learner's latest hand-in of that line item, signed in as the
reviewer, with the learner's name on the page; staff may grade it from there.

Who may see what is decided by the launch's own roles, which the platform signed
(``roles.is_staff``, the one table): staff of the course may review any *learner* of the
course; anyone else only their own work. A review never opens a staff member's own
project: ``for_user`` must be a learner (by the roles the platform sends for them, and
by the gateway's record of the course's staff). A reviewer on staff is made a
collaborator on the learner's project in this request when the background grant has not
happened yet, so the page opens at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from ...context import Gateway
from ...errors import N_, Forbidden, NotFound
from ...launches import pipeline
from ...launches.embed import Issued, Review
from ...launches.guard import Place
from ...launches.request import Attached
from ...launches.showing import ActingPage
from ...provisioning import staff
from ...store.lti_tables import LtiHandIn, LtiPage
from ...store.models import Host, HostUser, UserProject
from . import claims as c
from . import contexts, identity, platforms, roles, scores
from .autograding import runs as autograding
from .launch import Verified, shown_of


@dataclass(frozen=True)
class Learner:
    user_id: int
    user_project_id: int
    project_id: str
    name: str


@dataclass(frozen=True)
class Found:
    path: str
    handed_in_at: datetime | None
    hand_in_id: int | None = None


def _name(for_user: dict, row) -> str:
    given = " ".join(
        part for part in (for_user.get("given_name"), for_user.get("family_name")) if part
    )
    for name in (for_user.get("name"), given, f"{row.first_name} {row.last_name}".strip()):
        if isinstance(name, str) and name.strip():
            return name.strip()[:255]
    return row.email or "this learner"


def _learner(gw: Gateway, host: Host, issuer: str, for_user: dict, context: str) -> Learner:
    row = gw.db.fetch(
        select(
            HostUser.id,
            HostUser.first_name,
            HostUser.last_name,
            HostUser.email,
            UserProject.id.label("user_project_id"),
            UserProject.project_id,
        )
        .join(UserProject, UserProject.user_id == HostUser.id)
        .where(
            HostUser.host_id == host.id,
            HostUser.external_id == identity.user_id(issuer, for_user["user_id"]),
            HostUser.deprovisioned_at.is_(None),
            UserProject.context == context,
            UserProject.project_id.is_not(None),
        )
    )
    if row is None:
        raise NotFound(
            N_("this learner has not opened the course's notebooks yet: nothing to review")
        )
    return Learner(row.id, row.user_project_id, row.project_id, _name(for_user, row))


def _latest(gw: Gateway, platform_id: str, subject: str, learner: Learner, lineitem: str):
    """The learner's latest hand-in of this line item, else of any in the course."""
    with gw.db.read() as session:
        rows = session.execute(
            select(LtiHandIn.id, LtiHandIn.path, LtiHandIn.handed_in_at, LtiHandIn.lineitem_url)
            .where(
                LtiHandIn.platform_id == platform_id,
                LtiHandIn.subject == subject,
                LtiHandIn.user_project_id == learner.user_project_id,
            )
            .order_by(LtiHandIn.handed_in_at.desc(), LtiHandIn.id.desc())
            .limit(50)
        ).all()
    chosen = next((r for r in rows if r.lineitem_url == lineitem), rows[0] if rows else None)
    return Found(chosen.path, chosen.handed_in_at, chosen.id) if chosen else None


def _check_learner(gw: Gateway, host: Host, context: str, for_user: dict, user_id) -> None:
    """A review shows a learner's work, never a staff member's own project."""
    if roles.is_staff(for_user.get("roles")) or staff.is_staff_of(gw, host.id, context, user_id):
        raise Forbidden(N_("only a learner's work can be reviewed here"))


def open_review(gw: Gateway, verified: Verified, place: Place = Place.FRAMED) -> Issued:
    """The review page of a verified ``LtiSubmissionReviewRequest``."""
    platform, claims = verified.platform, verified.claims
    for_user = claims[c.FOR_USER]
    subject = for_user["user_id"]
    if not verified.staff and subject != claims["sub"]:
        raise Forbidden(N_("only the course's teachers may review another learner's work"))
    request = identity.launch_request(gw, platform, claims, via="lti-review")  # the reviewer
    learner = _learner(gw, request.host, platform.issuer, for_user, request.context)
    if subject != claims["sub"]:
        _check_learner(gw, request.host, request.context, for_user, learner.user_id)
    contexts.record(gw, platform, claims)
    lineitem = platforms.check_url(claims[c.AGS_ENDPOINT]["lineitem"], "lineitem")
    found = _latest(gw, platform.id, subject, learner, lineitem)
    scopes = claims[c.AGS_ENDPOINT].get("scope") or []
    may_grade = verified.staff and isinstance(scopes, list) and c.SCOPE_SCORE in scopes
    return _open(gw, verified, request, learner, found, place, subject, lineitem, may_grade)


def _open(gw, verified, request, learner, found, place, subject, lineitem, may_grade) -> Issued:
    """The review page: the reviewer signed in as themselves, in the learner's project, on
    the hand-in (else the launch's own path)."""

    def prepare(reviewer):
        if learner.user_id != reviewer.user_id:
            staff.note_staff(gw, request.host.id, request.context, reviewer.user_id)
            staff.grant_now(gw, learner.user_project_id, reviewer.user_id)
        # The reviewer signs in as themselves and opens the learner's project.
        return replace(
            reviewer, user_project_id=learner.user_project_id, project_id=learner.project_id
        )

    run = autograding.result_of(gw, found.hand_in_id) if found and found.hand_in_id else None
    autograded = (
        {
            "status": run.status,
            "score": run.score,
            "maximum": run.maximum,
            "manual": run.manual,
            "reason": run.detail,
        }
        if run is not None
        else None
    )
    review = Review(learner.name, found.handed_in_at if found else None, may_grade, autograded)
    page_row = {
        "platform_id": verified.platform.id,
        "learner_subject": subject,
        "lineitem_url": lineitem,
        "may_grade": may_grade,
    }
    return pipeline.open(
        gw,
        replace(request, path=found.path if found else request.path),
        place=place,
        once=verified.once,
        shown=shown_of(verified.claims, review=review),
        attach=(Attached(LtiPage.__table__, page_row),),
        prepare=prepare,
    )


#: The query parameter of a hand-in's SpeedGrader launch URL (``grades.canvas_submission``).
HAND_IN_PARAMETER = "hand_in"


def hand_in_of(target_link_uri) -> int | None:
    """The hand-in a launch asks for (Canvas's SpeedGrader launches the URL the score post
    named as its ``submission_data``), or None for any other launch."""
    if not isinstance(target_link_uri, str):
        return None
    values = parse_qs(urlsplit(target_link_uri).query).get(HAND_IN_PARAMETER) or []
    return int(values[0]) if len(values) == 1 and values[0].isdigit() else None


def open_hand_in(gw: Gateway, verified: Verified, hand_in_id: int, place: Place) -> Issued:
    """Canvas's SpeedGrader opens one hand-in: a course's teacher sees the learner's
    read-only copy (grading happens in SpeedGrader itself: no grade bar). The hand-in must
    be of this platform and of a learner of the launch's course."""
    if not verified.staff:
        raise Forbidden(N_("only the course's teachers may review another learner's work"))
    platform = verified.platform
    request = identity.launch_request(gw, platform, verified.claims, via="lti-review")
    row = gw.db.fetch(
        select(
            LtiHandIn.id,
            LtiHandIn.path,
            LtiHandIn.handed_in_at,
            LtiHandIn.subject,
            LtiHandIn.lineitem_url,
            HostUser.id.label("user_id"),
            HostUser.first_name,
            HostUser.last_name,
            HostUser.email,
            UserProject.id.label("user_project_id"),
            UserProject.project_id,
        )
        .join(UserProject, UserProject.id == LtiHandIn.user_project_id)
        .join(HostUser, HostUser.id == UserProject.user_id)
        .where(
            LtiHandIn.id == hand_in_id,
            LtiHandIn.platform_id == platform.id,
            UserProject.context == request.context,
            HostUser.host_id == request.host.id,
            HostUser.deprovisioned_at.is_(None),
        )
    )
    if row is None or row.project_id is None:
        raise NotFound(N_("this hand-in is not one of this course's"))
    if staff.is_staff_of(gw, request.host.id, request.context, row.user_id):
        raise Forbidden(N_("only a learner's work can be reviewed here"))
    contexts.record(gw, platform, verified.claims)
    learner = Learner(row.user_id, row.user_project_id, row.project_id, _name({}, row))
    found = Found(row.path, row.handed_in_at, row.id)
    return _open(gw, verified, request, learner, found, place, row.subject, row.lineitem_url, False)


def grade(gw: Gateway, page: ActingPage, form) -> scores.Posted:
    """The review page's grade bar: post the teacher's grade for the learner shown."""
    row = gw.db.fetch(
        select(LtiPage.platform_id, LtiPage.lineitem_url, LtiPage.learner_subject).where(
            LtiPage.launch_digest == page.digest, LtiPage.may_grade.is_(True)
        )
    )
    if row is None:
        raise NotFound(N_("this page cannot grade (it is not a teacher's review)"))
    given = scores.grade_of(form.get("score"), form.get("maximum"), form.get("comment"))
    platform = platforms.get(gw, row.platform_id)
    return scores.post(gw, platform, row.lineitem_url, row.learner_subject, given)
