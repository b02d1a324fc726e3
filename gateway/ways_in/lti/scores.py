"""Grades from CoCalc to the gradebook: a score posted for a learner on a line item, with
``gradingProgress: FullyGraded`` (Assignment and Grade Services, the score service), or
``PendingManual`` for an autograder's score that leaves parts to a teacher.

Every post is idempotent. The gateway keeps the last score it posted per (line item,
learner), recorded before the LMS is called (input that cannot be stored is refused before
that: a control character in a comment); posting the same score, maximum and comment
again makes no call and says so. A changed score is posted, and what the LMS answered is
reported. The grade bar of a review
page and ``lti grades push`` both post through ``post``: one rule for both.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ...context import Gateway
from ...errors import N_, BadRequest
from ...store.lti_tables import LtiPlatform, LtiScore
from ...store.models import utcnow
from ...support.keys import digest
from . import claims as c
from . import service_tokens

SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
MAX_COMMENT = 2000
#: A score service's URL is the line item's with ``/scores`` appended (AGS 3.4).
SCORES_SUFFIX = "/scores"
#: Characters no comment holds: C0 and C1 controls but tab and line breaks, and DEL.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


#: AGS gradingProgress values the gateway posts with a score.
FULLY_GRADED, PENDING_MANUAL = "FullyGraded", "PendingManual"


@dataclass(frozen=True)
class Grade:
    score: float
    maximum: float
    comment: str = ""
    #: AGS gradingProgress: a teacher's grade is final; an autograder's may leave parts
    #: to a person (``PENDING_MANUAL``).
    progress: str = FULLY_GRADED
    #: Posted by the autograder: a teacher's grade later wins over it.
    autograded: bool = False


@dataclass(frozen=True)
class Posted:
    """What posting a grade did: ``changed`` is False when the same grade was posted
    before (no call was made); ``lms_status`` is the LMS's HTTP status when it was called."""

    changed: bool
    lms_status: int | None = None

    def as_dict(self) -> dict:
        return {
            "status": "posted" if self.changed else "unchanged",
            "lms_status": self.lms_status,
        }


def _number(value, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadRequest(N_("%(name)s must be a number"), field=name, name=name) from None
    if not math.isfinite(number) or number < 0 or number > 1e9:
        raise BadRequest(N_("%(name)s must be a number from 0 up"), field=name, name=name)
    return number


def grade_of(score, maximum, comment=None) -> Grade:
    """Check a grade as a person or a file gives it (strings are fine)."""
    score = _number(score, "score")
    maximum = _number(maximum, "maximum")
    if maximum == 0:
        raise BadRequest(N_("maximum must be more than 0"), field="maximum")
    comment = "" if comment is None else comment
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise BadRequest(
            N_("a comment is text of at most %(limit)s characters"),
            field="comment",
            limit=MAX_COMMENT,
        )
    if CONTROL.search(comment):
        # Checked before the LMS is called: a NUL that PostgreSQL refuses to store after the
        # LMS took the score would make every retry post it again.
        raise BadRequest(
            N_("a comment may not hold control characters (only line breaks and tabs)"),
            field="comment",
        )
    # Extra credit is allowed (AGS: scoreGiven may exceed scoreMaximum), but not 10 times.
    if score > maximum * 10:
        raise BadRequest(N_("score is more than ten times the maximum"), field="score")
    return Grade(score, maximum, comment.strip())


def _key(platform_id: str, lineitem_url: str, subject: str):
    return (
        LtiScore.platform_id == platform_id,
        LtiScore.lineitem_digest == digest(lineitem_url),
        LtiScore.subject == subject,
    )


def _last(gw: Gateway, platform_id: str, lineitem_url: str, subject: str):
    """The last grade recorded for the learner on the column, and whether the LMS took it."""
    with gw.db.read() as session:
        row = session.scalar(select(LtiScore).where(*_key(platform_id, lineitem_url, subject)))
    if row is None:
        return None, False
    last = Grade(
        row.score_given,
        row.score_maximum,
        row.comment,
        row.grading_progress or FULLY_GRADED,
        bool(row.autograded),
    )
    return last, row.posted_at is not None


def _record(gw: Gateway, platform_id: str, lineitem_url: str, subject: str, grade: Grade):
    """Record the grade as on its way to the LMS (``posted_at`` empty)."""
    values = {
        "score_given": grade.score,
        "score_maximum": grade.maximum,
        "comment": grade.comment,
        "grading_progress": None if grade.progress == FULLY_GRADED else grade.progress,
        "autograded": grade.autograded or None,
        "posted_at": None,
    }
    where = _key(platform_id, lineitem_url, subject)
    with gw.db.begin() as session:
        if session.execute(update(LtiScore).where(*where).values(**values)).rowcount:
            return
    try:
        with gw.db.begin() as session:
            session.add(
                LtiScore(
                    platform_id=platform_id,
                    lineitem_digest=digest(lineitem_url),
                    subject=subject,
                    lineitem_url=lineitem_url,
                    **values,
                )
            )
    except IntegrityError:  # posted at the same moment by another request: keep the newest
        with gw.db.begin() as session:
            session.execute(update(LtiScore).where(*where).values(**values))


def _posted(gw: Gateway, platform_id: str, lineitem_url: str, subject: str, grade: Grade):
    """The LMS took the grade: mark the record (only if it is still this grade)."""
    where = (
        *_key(platform_id, lineitem_url, subject),
        LtiScore.score_given == grade.score,
        LtiScore.score_maximum == grade.maximum,
        LtiScore.comment == grade.comment,
    )
    with gw.db.begin() as session:
        session.execute(update(LtiScore).where(*where).values(posted_at=utcnow()))


def scores_url(lineitem_url: str) -> str:
    """The score service of a line item: its URL with ``/scores`` appended to the path
    (a line item URL may carry a query, which stays after the path)."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + SCORES_SUFFIX))


def post(
    gw: Gateway, platform: LtiPlatform, lineitem_url: str, subject: str, grade: Grade
) -> Posted:
    """Post a final grade for ``subject`` on ``lineitem_url`` unless it was posted already.

    The grade is recorded before the LMS is called, and marked posted once it answered: a
    retry of a grade the LMS took makes no call. (A post cut off before the LMS answered is
    posted again: at worst the LMS is told the same score twice.)"""
    last, posted = _last(gw, platform.id, lineitem_url, subject)
    if last == grade and posted:
        return Posted(changed=False)
    _record(gw, platform.id, lineitem_url, subject, grade)
    token = service_tokens.access_token(gw, platform, [c.SCOPE_SCORE])
    body = {
        "userId": subject,
        "scoreGiven": grade.score,
        "scoreMaximum": grade.maximum,
        "activityProgress": "Completed",
        "gradingProgress": grade.progress,
        "timestamp": utcnow().isoformat(timespec="milliseconds"),
    }
    if grade.comment:
        body["comment"] = grade.comment
    reply, _ = gw.outbound.call(
        "POST",
        scores_url(lineitem_url),
        "score service",
        ok=(200, 201, 202, 204),
        data=json.dumps(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": SCORE_TYPE},
    )
    _posted(gw, platform.id, lineitem_url, subject, grade)
    return Posted(changed=True, lms_status=reply.status_code)
