"""Course staff: collaborators on every learner project of their context, now and later.

An instructor (or teaching assistant, or content developer) of a context is recorded once
(``context_staff``). Each pair of a learner project and a staff member becomes a grant
(``staff_grants``), kept until CoCalc confirms the invitation, so neither a restart nor
CoCalc being down loses one; grants are worked off in the background and by housekeeping,
never inside a launch. A learner who arrives after the staff gets their grants at their
own launch; staff who arrive later get grants for every learner already there.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import and_, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..cocalc import CoCalcError
from ..context import Gateway
from ..store.lti_tables import ContextStaff, StaffGrant
from ..store.models import HostUser, UserProject, utcnow

log = logging.getLogger(__name__)

BATCH = 200
CLAIM_FOR = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)


def _insert_grants(gw: Gateway, pairs) -> int:
    added = 0
    for user_project_id, staff_user_id in pairs:
        try:
            gw.db.write(
                (
                    insert(StaffGrant),
                    {
                        "user_project_id": user_project_id,
                        "staff_user_id": staff_user_id,
                        "done": False,
                        "attempts": 0,
                        "next_try_at": utcnow(),
                    },
                )
            )
            added += 1
        except IntegrityError:
            pass  # granted (or queued) before
    return added


def _staff_of(host_id: str, context: str):
    return and_(ContextStaff.host_id == host_id, ContextStaff.context == context)


def is_staff_of(gw: Gateway, host_id: str, context: str, user_id: int) -> bool:
    """Whether the gateway knows ``user_id`` as staff of ``context`` (from a launch's or a
    roster's roles)."""
    found = gw.db.fetch(
        select(ContextStaff.user_id).where(
            _staff_of(host_id, context), ContextStaff.user_id == user_id
        )
    )
    return found is not None


def note_staff(gw: Gateway, host_id: str, context: str, user_id: int) -> None:
    """Record a staff member of ``context`` and queue grants to its learners' projects."""
    if not context or is_staff_of(gw, host_id, context, user_id):
        return
    try:
        gw.db.write(
            (
                insert(ContextStaff),
                {
                    "user_id": user_id,
                    "context": context,
                    "host_id": host_id,
                    "created_at": utcnow(),
                },
            )
        )
    except IntegrityError:
        return  # recorded by a simultaneous launch, which queues the grants
    with gw.db.read() as session:
        learners = (
            session.execute(
                select(UserProject.id)
                .join(HostUser, HostUser.id == UserProject.user_id)
                .where(
                    HostUser.host_id == host_id,
                    UserProject.context == context,
                    UserProject.user_id != user_id,
                    ~exists().where(
                        _staff_of(host_id, context), ContextStaff.user_id == HostUser.id
                    ),
                )
            )
            .scalars()
            .all()
        )
    if _insert_grants(gw, [(project, user_id) for project in learners]):
        grant_soon(gw)


def note_learner(gw: Gateway, host_id: str, context: str, user_project_id: int) -> None:
    """Queue grants of the context's staff to a learner's project (one query when none
    is missing, which is every launch but the first)."""
    if not context:
        return
    missing = gw.db.fetch_all(
        select(ContextStaff.user_id).where(
            _staff_of(host_id, context),
            ~exists().where(
                StaffGrant.user_project_id == user_project_id,
                StaffGrant.staff_user_id == ContextStaff.user_id,
            ),
        )
    )
    if missing and _insert_grants(gw, [(user_project_id, row.user_id) for row in missing]):
        grant_soon(gw)


def grant_soon(gw: Gateway) -> None:
    gw.background.submit("grant staff", lambda: grant_due(gw))


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=30 * 2 ** min(attempts, 10)), MAX_BACKOFF)


def _due(gw: Gateway):
    staff = HostUser.__table__.alias("staff")
    return gw.db.fetch_all(
        select(
            StaffGrant.user_project_id,
            StaffGrant.staff_user_id,
            StaffGrant.attempts,
            UserProject.project_id,
            staff.c.account_id,
        )
        .join(UserProject, UserProject.id == StaffGrant.user_project_id)
        .join(staff, staff.c.id == StaffGrant.staff_user_id)
        .where(StaffGrant.done.is_(False), StaffGrant.next_try_at <= utcnow())
        .order_by(StaffGrant.next_try_at)
        .limit(BATCH)
    )


def _claim(gw: Gateway, row, until) -> bool:
    """Take a grant for this worker (several processes may work at once)."""
    pk = and_(
        StaffGrant.user_project_id == row.user_project_id,
        StaffGrant.staff_user_id == row.staff_user_id,
        StaffGrant.done.is_(False),
        StaffGrant.next_try_at <= utcnow(),
    )
    with gw.db.engine.begin() as connection:
        claimed = connection.execute(
            update(StaffGrant).where(pk).values(next_try_at=until, attempts=row.attempts + 1)
        ).rowcount
    return claimed == 1


def grant_due(gw: Gateway) -> int:
    """Invite staff to the learner projects they are due on; return how many were added."""
    granted = 0
    for row in _due(gw):
        if not row.project_id or not row.account_id:
            continue  # the project or the staff account is still being made: later
        if not _claim(gw, row, utcnow() + CLAIM_FOR):
            continue
        where = and_(
            StaffGrant.user_project_id == row.user_project_id,
            StaffGrant.staff_user_id == row.staff_user_id,
        )
        try:
            gw.cocalc.invite_collaborator(row.project_id, row.account_id)
        except CoCalcError as exc:
            log.warning("adding staff to a project failed (%s); will retry", type(exc).__name__)
            retry_at = utcnow() + _backoff(row.attempts)
            gw.db.write((update(StaffGrant).where(where), {"next_try_at": retry_at}))
            continue
        gw.db.write((update(StaffGrant).where(where), {"done": True}))
        granted += 1
    return granted


def grant_now(gw: Gateway, user_project_id: int, staff_user_id: int) -> None:
    """A staff member opens a learner's project now (a submission review): the grant is made
    in this request, not on the queue's time, unless CoCalc confirmed it before. Inviting
    twice is harmless, so a queued grant running at the same moment does no harm."""
    staff = HostUser.__table__.alias("staff")
    row = gw.db.fetch(
        select(UserProject.project_id, staff.c.account_id, StaffGrant.done)
        .select_from(UserProject)
        .join(staff, staff.c.id == staff_user_id)
        .outerjoin(
            StaffGrant,
            and_(
                StaffGrant.user_project_id == UserProject.id,
                StaffGrant.staff_user_id == staff_user_id,
            ),
        )
        .where(UserProject.id == user_project_id)
    )
    if row is None or row.done or not row.project_id or not row.account_id:
        return
    gw.cocalc.invite_collaborator(row.project_id, row.account_id)
    _insert_grants(gw, [(user_project_id, staff_user_id)])
    where = and_(
        StaffGrant.user_project_id == user_project_id, StaffGrant.staff_user_id == staff_user_id
    )
    gw.db.write((update(StaffGrant).where(where), {"done": True}))
