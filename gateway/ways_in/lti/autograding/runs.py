"""A hand-in's run: claimed once, graded in a project made for it, recorded, and its score
posted (see the package's docstring for the rules)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ....cocalc import CoCalcError
from ....context import Gateway
from ....errors import N_, GatewayError, NotFound
from ....store import locks
from ....store.autograde_tables import LtiAutograder, LtiAutogradeRun
from ....store.lti_tables import LtiHandIn, LtiScore
from ....store.models import UserProject, utcnow
from ....support.keys import digest
from ....support.languages import translated_in
from .. import platforms, scores
from . import feedback, workspace
from .failures import NO_GRADER, STOPPED, Failed
from .graders import KINDS, MAX_TIME_LIMIT_S, grader_of
from .outcome import Outcome
from .workspace import Workspace

log = logging.getLogger(__name__)

#: The comment the autograder's scores carry, in the hand-in page's language: what it
#: gave, the part left to a teacher (nbgrader's manually graded cells), and where the
#: learner finds what each test earned (``feedback``).
COMMENT = N_("Autograded (%(kind)s): %(score)s of %(maximum)s")
MANUAL_COMMENT = N_("%(manual)s for a teacher to grade")
FEEDBACK_COMMENT = N_("Feedback: %(path)s in your project")
PENDING, RUNNING, GRADED, FAILED = "pending", "running", "graded", "failed"
#: A run waits for its course's lock at most this long (runs of a course go one at a time).
LOCK_WAIT_S = MAX_TIME_LIMIT_S * 2
#: A run "running" this long after it began died with its worker: it may run again, and
#: housekeeping deletes its project. Longer than the longest live run: the lock's wait, then
#: up to three commands under the time limit (otter's points run, the grader, a copy).
STALE_RUN = timedelta(seconds=LOCK_WAIT_S + MAX_TIME_LIMIT_S * 4)


def enqueue(
    gw: Gateway, hand_in_id: int, resource_link_id: str | None, language: str | None = None
) -> bool:
    """After a hand-in: a run, in the background, where its link has a grader
    (``language``: the hand-in page's, for the feedback file)."""
    found = gw.db.fetch(
        select(LtiHandIn.platform_id, UserProject.context)
        .join(UserProject, UserProject.id == LtiHandIn.user_project_id)
        .where(LtiHandIn.id == hand_in_id)
    )
    if found is None or grader_of(gw, found.platform_id, found.context, resource_link_id) is None:
        return False
    row = {
        "hand_in_id": hand_in_id,
        "resource_link_id": resource_link_id,
        "status": PENDING,
        "language": language,
        "created_at": utcnow(),
    }
    try:
        gw.db.write((insert(LtiAutogradeRun), row))
    except IntegrityError:
        return False  # it has a run already
    gw.background.submit("autograde a hand-in", lambda: run(gw, hand_in_id))
    return True


def rerun(gw: Gateway, hand_in_id: int) -> LtiAutogradeRun:
    """Grade a hand-in again (a failed run, or after the tests changed): it runs now."""
    with gw.db.begin() as session:
        changed = session.execute(
            update(LtiAutogradeRun)
            .where(
                LtiAutogradeRun.hand_in_id == hand_in_id,
                # A run still "running" long past any time limit died with its worker.
                or_(LtiAutogradeRun.status != RUNNING, _died()),
            )
            .values(status=PENDING, detail=None, finished_at=None)
        ).rowcount
    if not changed:
        raise NotFound(N_("no finished run of hand-in %(id)s to run again"), id=hand_in_id)
    run(gw, hand_in_id)
    return result_of(gw, hand_in_id)


def _died():
    """A run "running" long past any time limit: it died with its worker."""
    return (LtiAutogradeRun.status == RUNNING) & (
        func.coalesce(LtiAutogradeRun.started_at, LtiAutogradeRun.created_at) < utcnow() - STALE_RUN
    )


@dataclass(frozen=True)
class _Work:
    hand_in: object
    context: str
    learner_project_id: str
    grader: LtiAutograder
    #: The hand-in page's language: the feedback file's.
    language: str | None


def _claim(gw: Gateway, hand_in_id: int) -> _Work | None:
    with gw.db.begin() as session:
        claimed = session.execute(
            update(LtiAutogradeRun)
            .where(LtiAutogradeRun.hand_in_id == hand_in_id, LtiAutogradeRun.status == PENDING)
            .values(status=RUNNING, started_at=utcnow())
        ).rowcount
        if not claimed:
            return None
        row = session.execute(
            select(
                LtiHandIn,
                UserProject.context,
                UserProject.project_id,
                LtiAutogradeRun.resource_link_id,
                LtiAutogradeRun.language,
            )
            .join(UserProject, UserProject.id == LtiHandIn.user_project_id)
            .join(LtiAutogradeRun, LtiAutogradeRun.hand_in_id == LtiHandIn.id)
            .where(LtiHandIn.id == hand_in_id)
        ).first()
    if row is None:
        return None
    hand_in, context, project_id, resource_link_id, language = row
    grader = grader_of(gw, hand_in.platform_id, context, resource_link_id)
    if grader is None or project_id is None:
        _finish(gw, hand_in_id, FAILED, detail=NO_GRADER)
        return None
    return _Work(hand_in, context, project_id, grader, language)


def run(gw: Gateway, hand_in_id: int) -> None:
    """Grade one hand-in, if its run is pending (one worker wins it), and post the score."""
    work = _claim(gw, hand_in_id)
    if work is None:
        return
    try:
        with locks.db_lock(gw.db, f"autograde:{work.hand_in.platform_id}:{work.context}",
                           wait=LOCK_WAIT_S):  # fmt: skip
            outcome = _grade(gw, work)
    except Failed as exc:
        log.warning("autograding hand-in %s failed: %s", hand_in_id, exc.reason)
        _finish(gw, hand_in_id, FAILED, detail=exc.reason)
        return
    except (CoCalcError, GatewayError) as exc:  # CoCalc down, the lock not free in time
        log.warning("autograding hand-in %s failed: %s", hand_in_id, type(exc).__name__)
        _finish(gw, hand_in_id, FAILED, detail=STOPPED)
        return
    _finish(
        gw,
        hand_in_id,
        GRADED,
        score=outcome.score,
        maximum=outcome.maximum,
        manual=outcome.manual or None,
    )
    written = feedback.write(gw, work.learner_project_id, work.hand_in.path, outcome, work.language)
    _post(gw, work, outcome, written)


def _grade(gw: Gateway, work: _Work) -> Outcome:
    """Grade in a project made for this run, deleted after it (``workspace``): the
    teacher's points are read before anything of the learner's is in it."""
    kind = KINDS[work.grader.kind]
    _discard_left(gw, work.hand_in.id)  # an earlier run's (a rerun), if it is still there
    title = f"Autograding: {work.grader.course_id}, hand-in {work.hand_in.id}"
    project_id = workspace.create(gw, title)
    with gw.db.begin() as session:
        session.execute(
            update(LtiAutogradeRun)
            .where(LtiAutogradeRun.hand_in_id == work.hand_in.id)
            .values(project_id=project_id, project_deleted_at=None)
        )
    try:
        place = Workspace(gw, project_id, work.grader.time_limit_s)
        points = kind.points_of(place, work.grader)
        place.copy_in(work.learner_project_id, work.hand_in.path, kind.submission_path(work.grader))
        return kind.graded(place, work.grader, points)
    finally:
        _discard(gw, work.hand_in.id, project_id)


def _discard(gw: Gateway, hand_in_id: int, project_id: str) -> None:
    if workspace.discard(gw, project_id):
        with gw.db.begin() as session:
            session.execute(
                update(LtiAutogradeRun)
                .where(
                    LtiAutogradeRun.hand_in_id == hand_in_id,
                    LtiAutogradeRun.project_id == project_id,
                )
                .values(project_deleted_at=utcnow())
            )


def _discard_left(gw: Gateway, hand_in_id: int) -> None:
    found = gw.db.fetch(
        select(LtiAutogradeRun.project_id).where(
            LtiAutogradeRun.hand_in_id == hand_in_id,
            LtiAutogradeRun.project_id.is_not(None),
            LtiAutogradeRun.project_deleted_at.is_(None),
        )
    )
    if found is not None:
        _discard(gw, hand_in_id, found.project_id)


def discard_left_projects(gw: Gateway) -> int:
    """Housekeeping: delete the projects of finished runs that are still there (their
    deletion failed) and of runs that died with their worker; return how many were."""
    rows = gw.db.fetch_all(
        select(LtiAutogradeRun.hand_in_id, LtiAutogradeRun.project_id)
        .where(
            LtiAutogradeRun.project_id.is_not(None),
            LtiAutogradeRun.project_deleted_at.is_(None),
            or_(LtiAutogradeRun.status.in_((GRADED, FAILED)), _died()),
        )
        .limit(50)
    )
    for row in rows:
        _discard(gw, row.hand_in_id, row.project_id)
    return len(rows)


def _teacher_graded(gw: Gateway, hand_in) -> bool:
    found = gw.db.fetch(
        select(LtiScore.autograded).where(
            LtiScore.platform_id == hand_in.platform_id,
            LtiScore.lineitem_digest == digest(hand_in.lineitem_url or ""),
            LtiScore.subject == hand_in.subject,
        )
    )
    return found is not None and not found.autograded


def _post(gw: Gateway, work: _Work, outcome: Outcome, feedback_path: str | None) -> None:
    hand_in = work.hand_in
    if not hand_in.lineitem_url or _teacher_graded(gw, hand_in):
        return
    comment = _comment(work, outcome, feedback_path)
    progress = scores.PENDING_MANUAL if outcome.manual else scores.FULLY_GRADED
    platform = platforms.get(gw, hand_in.platform_id)
    try:
        scores.post(
            gw,
            platform,
            hand_in.lineitem_url,
            hand_in.subject,
            scores.Grade(outcome.score, outcome.maximum, comment, progress, autograded=True),
        )
    except GatewayError as exc:
        log.warning("the autograder's score of hand-in %s was not posted: %s", hand_in.id, exc)


def _comment(work: _Work, outcome: Outcome, feedback_path: str | None) -> str:
    """The score's comment, in the language of the page the work was handed in from."""

    def say(message: str, **params) -> str:
        return translated_in(work.language, message, params)

    parts = [
        say(COMMENT, kind=work.grader.kind, score=f"{outcome.score:g}",
            maximum=f"{outcome.maximum:g}")
    ]  # fmt: skip
    if outcome.manual:
        parts.append(say(MANUAL_COMMENT, manual=f"{outcome.manual:g}"))
    if feedback_path:
        parts.append(say(FEEDBACK_COMMENT, path=feedback_path))
    return "; ".join(parts)


def _finish(gw: Gateway, hand_in_id: int, status: str, **values) -> None:
    with gw.db.begin() as session:
        session.execute(
            update(LtiAutogradeRun)
            .where(LtiAutogradeRun.hand_in_id == hand_in_id)
            .values(status=status, finished_at=utcnow(), **values)
        )


def result_of(gw: Gateway, hand_in_id: int) -> LtiAutogradeRun | None:
    with gw.db.read() as session:
        return session.get(LtiAutogradeRun, hand_in_id)
