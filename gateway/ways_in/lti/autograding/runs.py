"""A hand-in's run: claimed once, graded in the course's grading project, recorded, and its
score posted (see the package's docstring for the rules)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ....cocalc import CoCalcError
from ....context import Gateway
from ....errors import N_, GatewayError, NotFound
from ....provisioning.projects import copy_and_wait
from ....store import locks
from ....store.autograde_tables import LtiAutograder, LtiAutogradeRun, LtiGradingProject
from ....store.lti_tables import LtiHandIn, LtiScore
from ....store.models import UserProject, utcnow
from ....support.keys import digest
from .. import platforms, scores
from . import otter
from .failures import NO_GRADER, NO_RESULT, NOT_COPIED, STOPPED, TIMED_OUT, Failed
from .graders import MAX_TIME_LIMIT_S, grader_of

log = logging.getLogger(__name__)

#: A comment the autograder's posts carry, so that a teacher's grade is told apart.
COMMENT = "Autograded ({kind}): {score:g} of {maximum:g}"
COMMENT_PREFIX = "Autograded ("
PENDING, RUNNING, GRADED, FAILED = "pending", "running", "graded", "failed"
#: A run "running" this long after it was queued died with its worker: it may run again.
STALE_RUN = timedelta(seconds=MAX_TIME_LIMIT_S * 3)


def enqueue(gw: Gateway, hand_in_id: int, resource_link_id: str | None) -> bool:
    """After a hand-in: a run, in the background, where its link has a grader."""
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
                or_(
                    LtiAutogradeRun.status != RUNNING,
                    LtiAutogradeRun.created_at < utcnow() - STALE_RUN,
                ),
            )
            .values(status=PENDING, detail=None, finished_at=None)
        ).rowcount
    if not changed:
        raise NotFound(N_("no finished run of hand-in %(id)s to run again"), id=hand_in_id)
    run(gw, hand_in_id)
    return result_of(gw, hand_in_id)


@dataclass(frozen=True)
class _Work:
    hand_in: object
    context: str
    learner_project_id: str
    grader: LtiAutograder


def _claim(gw: Gateway, hand_in_id: int) -> _Work | None:
    with gw.db.begin() as session:
        claimed = session.execute(
            update(LtiAutogradeRun)
            .where(LtiAutogradeRun.hand_in_id == hand_in_id, LtiAutogradeRun.status == PENDING)
            .values(status=RUNNING)
        ).rowcount
        if not claimed:
            return None
        row = session.execute(
            select(
                LtiHandIn,
                UserProject.context,
                UserProject.project_id,
                LtiAutogradeRun.resource_link_id,
            )
            .join(UserProject, UserProject.id == LtiHandIn.user_project_id)
            .join(LtiAutogradeRun, LtiAutogradeRun.hand_in_id == LtiHandIn.id)
            .where(LtiHandIn.id == hand_in_id)
        ).first()
    if row is None:
        return None
    hand_in, context, project_id, resource_link_id = row
    grader = grader_of(gw, hand_in.platform_id, context, resource_link_id)
    if grader is None or project_id is None:
        _finish(gw, hand_in_id, FAILED, detail=NO_GRADER)
        return None
    return _Work(hand_in, context, project_id, grader)


def run(gw: Gateway, hand_in_id: int) -> None:
    """Grade one hand-in, if its run is pending (one worker wins it), and post the score."""
    work = _claim(gw, hand_in_id)
    if work is None:
        return
    try:
        with locks.db_lock(gw.db, f"autograde:{work.hand_in.platform_id}:{work.context}",
                           wait=MAX_TIME_LIMIT_S * 2):  # fmt: skip
            score, maximum = _grade(gw, work)
    except Failed as exc:
        log.warning("autograding hand-in %s failed: %s", hand_in_id, exc.reason)
        _finish(gw, hand_in_id, FAILED, detail=exc.reason)
        return
    except (CoCalcError, GatewayError) as exc:  # CoCalc down, the lock not free in time
        log.warning("autograding hand-in %s failed: %s", hand_in_id, type(exc).__name__)
        _finish(gw, hand_in_id, FAILED, detail=STOPPED)
        return
    _finish(gw, hand_in_id, GRADED, score=score, maximum=maximum)
    _post(gw, work, score, maximum)


def _grading_project(gw: Gateway, platform_id: str, context: str, course_id: str) -> str:
    key = (LtiGradingProject.platform_id == platform_id, LtiGradingProject.context == context)
    found = gw.db.fetch(select(LtiGradingProject.project_id).where(*key))
    if found is not None:
        return found.project_id
    project = gw.cocalc.create_project(title=f"Autograding: {course_id}"[:100], start=True)
    try:
        gw.db.write(
            (
                insert(LtiGradingProject),
                {"platform_id": platform_id, "context": context, "project_id": project.project_id},
            )
        )
    except IntegrityError:  # another process made one first: use it
        return gw.db.fetch(select(LtiGradingProject.project_id).where(*key)).project_id
    return project.project_id


def _grade(gw: Gateway, work: _Work) -> tuple[float, float]:
    grading = _grading_project(gw, work.hand_in.platform_id, work.context, work.grader.course_id)
    folder = f"runs/{work.hand_in.id}"
    gw.cocalc.project_exec(grading, "rm", args=["-rf", folder])
    try:
        _copy_in(gw, work, grading, folder)
        program, args = otter.command(folder)
        done = gw.cocalc.project_exec(grading, program, args=args, timeout=work.grader.time_limit_s)
        if done.exit_code != 0:
            raise Failed(TIMED_OUT if done.exit_code == 124 else STOPPED)
        # Read with exec: the current API has no file read, and both generations have this.
        result = gw.cocalc.project_exec(grading, "cat", args=[f"{folder}/results.json"])
        if result.exit_code != 0:
            raise Failed(NO_RESULT)
        return otter.score_of(result.stdout)
    finally:
        try:
            gw.cocalc.project_exec(grading, "rm", args=["-rf", folder])
        except CoCalcError:
            log.warning("a grading folder stays: %s of %s", folder, grading)


def _copy_in(gw: Gateway, work: _Work, grading: str, folder: str) -> None:
    """The grader's files, fresh from the teacher's path, and the hand-in."""
    try:
        copy_and_wait(
            gw,
            work.grader.source_project_id,
            work.grader.source_path,
            grading,
            f"{folder}/autograder.zip",
        )
        copy_and_wait(
            gw, work.learner_project_id, work.hand_in.path, grading, f"{folder}/submission.ipynb"
        )
    except CoCalcError:
        raise Failed(NOT_COPIED) from None


def _teacher_graded(gw: Gateway, hand_in) -> bool:
    found = gw.db.fetch(
        select(LtiScore.comment).where(
            LtiScore.platform_id == hand_in.platform_id,
            LtiScore.lineitem_digest == digest(hand_in.lineitem_url or ""),
            LtiScore.subject == hand_in.subject,
        )
    )
    return found is not None and not (found.comment or "").startswith(COMMENT_PREFIX)


def _post(gw: Gateway, work: _Work, score: float, maximum: float) -> None:
    hand_in = work.hand_in
    if not hand_in.lineitem_url or _teacher_graded(gw, hand_in):
        return
    comment = COMMENT.format(kind=work.grader.kind, score=score, maximum=maximum)
    platform = platforms.get(gw, hand_in.platform_id)
    try:
        scores.post(
            gw,
            platform,
            hand_in.lineitem_url,
            hand_in.subject,
            scores.Grade(score, maximum, comment),
        )
    except GatewayError as exc:
        log.warning("the autograder's score of hand-in %s was not posted: %s", hand_in.id, exc)


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
