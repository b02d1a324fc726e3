"""Hand-in with Assignment and Grade Services: the file is copied where the course staff
can read it, and the LMS is told it was submitted (instructors grade in the gradebook, or
from the review page: ``review`` and ``scores``).

The hand-in folder is ``hand-in/<UTC time>/`` in the learner's own project, which every
staff member of the context is a collaborator on (``provisioning.staff``); a copy per
hand-in keeps what was handed in apart from later edits, and is made read-only (CoCalc
shows a file without write permission as read-only; a collaborator could still change the
permission, so this guards against slips, not against staff). The score posted has no
points: ``activityProgress: Submitted`` and ``gradingProgress: PendingManual``.

Every line item the gateway creates carries a ``submissionReview`` (LTI AGS "Submission
Review"): the gradebook's "view submission" then launches the tool for that learner.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, update

from ...cocalc import CoCalcError
from ...context import Gateway
from ...errors import N_, BadGateway, BadRequest, NotFound, ServiceBusy
from ...launches.showing import ActingPage
from ...provisioning.projects import copy_and_wait
from ...store.lti_tables import LtiGradeLink, LtiHandIn
from ...store.models import utcnow
from . import claims as c
from . import platforms, scores, service_tokens
from .autograding import runs as autograding

log = logging.getLogger(__name__)

LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
HAND_IN_FOLDER = "hand-in"
#: One hand-in per page at a time (a double click, or a hostile loop, copies once).
MIN_INTERVAL = timedelta(seconds=10)
SCORE_MAXIMUM = 100
REVIEW_LABEL = "Open the hand-in in CoCalc"
#: The activity states a teacher may review (a hand-in is Submitted, a grade Completed).
REVIEWABLE = ["Submitted", "Completed"]


def submission_review(review_url: str) -> dict:
    """A line item's ``submissionReview``: where the gradebook's "view submission" goes."""
    return {"reviewableStatus": REVIEWABLE, "label": REVIEW_LABEL, "url": review_url}


def link_values(claims: dict) -> dict | None:
    """What a launch's AGS claim lets the gateway do; None when it cannot post a score."""
    endpoint = claims.get(c.AGS_ENDPOINT)
    if not isinstance(endpoint, dict):
        return None
    scopes = [s for s in endpoint.get("scope") or [] if isinstance(s, str)]
    lineitem, lineitems = endpoint.get("lineitem"), endpoint.get("lineitems")
    try:
        lineitem = platforms.check_url(lineitem, "lineitem") if lineitem else None
        lineitems = platforms.check_url(lineitems, "lineitems") if lineitems else None
    except BadRequest:
        return None
    can_find = lineitems and c.SCOPE_LINEITEM in scopes
    if c.SCOPE_SCORE not in scopes or not (lineitem or can_find):
        return None
    link = claims.get(c.RESOURCE_LINK) or {}
    return {
        "subject": claims["sub"],
        "lineitem_url": lineitem,
        "lineitems_url": lineitems,
        "resource_link_id": link.get("id") if isinstance(link.get("id"), str) else None,
        "scopes": scopes,
    }


def _line_item(gw: Gateway, platform, link: LtiGradeLink, title: str, review_url: str) -> str:
    """The launch's line item, or the resource link's own (found, else created)."""
    if link.lineitem_url:
        return link.lineitem_url
    token = service_tokens.access_token(gw, platform, [c.SCOPE_LINEITEM])
    auth = {"Authorization": f"Bearer {token}"}
    found = gw.outbound.get_json(
        link.lineitems_url,
        "line item service",
        params={"resource_link_id": link.resource_link_id or ""},
        headers={**auth, "Accept": LINEITEMS_TYPE},
    )
    for item in found if isinstance(found, list) else []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            return platforms.check_url(item["id"], "line item id")
    body = {
        "scoreMaximum": SCORE_MAXIMUM,
        "label": title[:255] or "CoCalc notebook",
        "submissionReview": submission_review(review_url),
    }
    if link.resource_link_id:
        body["resourceLinkId"] = link.resource_link_id
    _, created = gw.outbound.call(
        "POST",
        link.lineitems_url,
        "line item service",
        ok=(200, 201),
        data=json.dumps(body),
        headers={**auth, "Content-Type": LINEITEM_TYPE, "Accept": LINEITEM_TYPE},
    )
    try:
        return platforms.check_url(json.loads(created)["id"], "line item id")
    except (ValueError, KeyError, TypeError, BadRequest):
        raise BadGateway(N_("the platform created a line item without a usable id")) from None


#: Canvas's extension of the score service: a score post that carries it makes a
#: submission SpeedGrader shows (Canvas's "LTI Advantage: Score API extensions").
CANVAS_SUBMISSION = "https://canvas.instructure.com/lti/submission"


def canvas_submission(launch_url: str, hand_in_id: int, submitted_at) -> dict:
    """The extension for a hand-in: a new submission whose content is an LTI launch of
    this hand-in (SpeedGrader launches ``submission_data``: ``review.open_hand_in``)."""
    separator = "&" if "?" in launch_url else "?"
    return {
        "new_submission": True,
        "submission_type": "basic_lti_launch",
        "submission_data": f"{launch_url}{separator}hand_in={hand_in_id}",
        "submitted_at": submitted_at.isoformat(timespec="milliseconds"),
    }


def post_submission(
    gw: Gateway, platform, link: LtiGradeLink, lineitem: str, extension: dict | None = None
) -> None:
    token = service_tokens.access_token(gw, platform, [c.SCOPE_SCORE])
    score = {
        "userId": link.subject,
        "activityProgress": "Submitted",
        "gradingProgress": "PendingManual",
        "timestamp": utcnow().isoformat(timespec="milliseconds"),
    }
    if extension is not None:
        score[CANVAS_SUBMISSION] = extension
    gw.outbound.call(
        "POST",
        scores.scores_url(lineitem),
        "score service",
        ok=(200, 201, 202, 204),
        data=json.dumps(score),
        headers={"Authorization": f"Bearer {token}", "Content-Type": scores.SCORE_TYPE},
    )


@dataclass(frozen=True)
class HandIn:
    path: str
    handed_in_at: str


def _link(gw: Gateway, page: ActingPage) -> LtiGradeLink:
    with gw.db.read() as session:
        link = session.get(LtiGradeLink, page.digest)
    if link is None:
        raise NotFound(N_("this page cannot hand work in (its launch has no grade)"))
    return link


def _read_only(gw: Gateway, project_id: str, folder: str) -> None:
    """Make a hand-in's copy read-only, where the project lets the gateway run a command."""
    try:
        result = gw.cocalc.project_exec(project_id, "chmod", args=["-R", "a-w", folder])
    except CoCalcError as exc:
        log.warning("a hand-in stays writable: chmod failed (%s)", type(exc).__name__)
        return
    if result.exit_code:
        log.warning("a hand-in stays writable: chmod exited with %s", result.exit_code)


def hand_in(gw: Gateway, page: ActingPage, *, review_url: str) -> HandIn:
    """Copy the page's file to a read-only hand-in folder, record the hand-in (a review
    opens it), and tell the LMS it was submitted (the page guard admitted the request)."""
    link = _link(gw, page)
    path, project_id = page.row.path, page.row.project_id
    if not path:
        raise BadRequest(N_("this launch opens no file, so there is nothing to hand in"))
    now = utcnow()
    with gw.db.engine.begin() as connection:
        won = connection.execute(
            update(LtiGradeLink)
            .where(
                LtiGradeLink.launch_digest == link.launch_digest,
                or_(
                    LtiGradeLink.handed_in_at.is_(None),
                    LtiGradeLink.handed_in_at <= now - MIN_INTERVAL,
                ),
            )
            .values(handed_in_at=now)
        ).rowcount
    if won != 1:
        raise ServiceBusy(N_("this work was handed in a moment ago; wait a few seconds"))
    platform = platforms.get(gw, link.platform_id)
    # The line item first: a platform that cannot say which column it is gets no copy.
    lineitem = _line_item(gw, platform, link, path.rsplit("/", 1)[-1], review_url)
    folder = f"{HAND_IN_FOLDER}/{now.strftime('%Y-%m-%dT%H-%M-%SZ')}"
    target = f"{folder}/{path}"
    copy_and_wait(gw, project_id, path, project_id, target)
    _read_only(gw, project_id, folder)
    with gw.db.begin() as session:
        recorded = LtiHandIn(
            platform_id=platform.id,
            subject=link.subject,
            user_project_id=page.row.user_project_id,
            lineitem_url=lineitem,
            path=target,
            handed_in_at=now,
        )
        session.add(recorded)
        session.flush()
        hand_in_id = recorded.id
    shown = page.shown.lti
    on_canvas = shown is not None and shown.platform_family == "canvas"
    extension = canvas_submission(review_url, hand_in_id, now) if on_canvas else None
    post_submission(gw, platform, link, lineitem, extension)
    language = page.row.locale or page.row.language
    autograding.enqueue(gw, hand_in_id, link.resource_link_id, language)
    return HandIn(path=target, handed_in_at=now.isoformat())
