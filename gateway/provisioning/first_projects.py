""" "My First Project": the project CoCalc's sign-up makes for each new account, stopped.

The current API's sign-up creates a project for the new account and starts it without
waiting (``account-creation-actions.ts``). The gateway uses a project of its own, so every
such project would keep running (a process of 100 to 150 MB) until CoCalc's idle timeout:
a class of 68 doubled the server's cold launches. A stop sent while the project is still
starting is undone when the start completes (22 of 23 were ``running`` at the end), so:

1. after a sign-up, the account's projects are listed as the account itself (only it may
   stop them), and those that are not the gateway's are recorded as ``pending``;
2. a round every ``POLL_S`` reads each one's state (as a site admin); once CoCalc reports it
   ``running`` (past its start), it is stopped, as the account;
3. it counts as stopped once it stayed stopped for ``SETTLE_S``; a start that comes back
   gets another stop, up to ``ATTEMPTS``, then it is "still running".

The rounds hold no worker while they wait (``Background.later``), so a class start of
hundreds of accounts delays no refill or revocation. Each outcome is counted
(``gateway_first_projects_total``) and recorded (``FirstProject``): ``doctor`` reports those
still running, and housekeeping takes up again any that a restart left pending. A key that
may not read project states (an organisation admin's) gets each project stopped once after
``SETTLE_S``, recorded as "unverified".
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..cocalc import CoCalcError
from ..context import Gateway
from ..store.models import FirstProject, HostUser, UserProject, utcnow
from ..support.counters import FIRST_PROJECTS

log = logging.getLogger(__name__)

#: States of a project that runs, or is on its way to run.
RUNNING = frozenset({"running", "starting", "pending"})
POLL_S = 1.0
#: How long a stopped project must stay stopped to count (a start still under way shows).
SETTLE_S = 3.0
#: How long a project may take to come up before it counts as never started.
START_DEADLINE_S = 120.0
#: How many stops one project gets before it counts as "still running".
ATTEMPTS = 3


@dataclass
class _Waiting:
    project_id: str
    user_id: int
    account_id: str
    since: float = field(default_factory=time.monotonic)
    stopped_at: float | None = None  # the last stop, once one was sent
    stops: int = 0


class _Stopper:
    """The first projects of one app on their way to stopped, worked off in rounds."""

    def __init__(self, gw: Gateway):
        self.gw = gw
        self.lock = threading.Lock()
        self.waiting: dict[str, _Waiting] = {}
        self.scheduled = False

    def add(self, found: _Waiting) -> None:
        with self.lock:
            self.waiting.setdefault(found.project_id, found)
        self._schedule(0)

    def _schedule(self, seconds: float) -> None:
        with self.lock:
            if self.scheduled or not self.waiting:
                return
            self.scheduled = True
        self.gw.background.later(seconds, "stop first projects", self._round)

    def _round(self) -> None:
        with self.lock:
            self.scheduled = False
            waiting = list(self.waiting.values())
        for each in waiting:
            try:
                outcome = _step(self.gw, each)
            except CoCalcError as exc:
                log.info("a first project's round failed (%s); next round", type(exc).__name__)
                if time.monotonic() - each.since > START_DEADLINE_S:
                    with self.lock:  # CoCalc stays down: left pending, for housekeeping
                        self.waiting.pop(each.project_id, None)
                continue
            if outcome is not None:
                with self.lock:
                    self.waiting.pop(each.project_id, None)
                FIRST_PROJECTS.labels(outcome).inc()
                _record(self.gw, each.user_id, each.project_id, outcome)
        self._schedule(POLL_S)


def _stopper(gw: Gateway) -> _Stopper:
    return gw.memo.setdefault("first_projects", _Stopper(gw))


def _stop(gw: Gateway, found: _Waiting) -> None:
    with gw.cocalc.user_session(found.account_id) as user:
        user.stop(found.project_id)
    found.stopped_at, found.stops = time.monotonic(), found.stops + 1


def _step(gw: Gateway, found: _Waiting) -> str | None:
    """One look at one project: its outcome once there is one, else None (look again)."""
    now = time.monotonic()
    state = gw.cocalc.project_state(found.project_id)
    if state is None:  # the key may not read states: one stop, once a start had its time
        if now - found.since < SETTLE_S:
            return None
        _stop(gw, found)
        return "unverified"
    if found.stopped_at is None:  # not stopped yet: wait until it is past its start
        if state == "running":
            _stop(gw, found)
            return None
        return "stopped" if now - found.since > START_DEADLINE_S else None
    if state in RUNNING:  # a start came back after the stop
        if found.stops >= ATTEMPTS:
            log.warning("a first project keeps running after %d stops", ATTEMPTS)
            return "still running"
        if state == "running":
            _stop(gw, found)
        return None
    return "stopped" if now - found.stopped_at >= SETTLE_S else None


def stop_soon(gw: Gateway, user_id: int, account_id: str) -> None:
    """After a new account's sign-up: find its first project, and stop it in rounds."""
    if gw.cocalc.signup_makes_a_project:
        gw.background.submit("find first projects", lambda: find(gw, user_id, account_id))


def find(gw: Gateway, user_id: int, account_id: str) -> list[str]:
    """The account's projects that are not the gateway's, recorded and handed to rounds."""
    with gw.cocalc.user_session(account_id) as user:
        listed = user.projects()
    rows = gw.db.fetch_all(select(UserProject.project_id).where(UserProject.user_id == user_id))
    ours = {r.project_id for r in rows if r.project_id}  # read after the list: one made
    found = [p for p in listed if p not in ours]  # meanwhile is the gateway's, and in it
    for project_id in found:
        _record(gw, user_id, project_id, "pending")
        _stopper(gw).add(_Waiting(project_id, user_id, account_id))
    return found


def _record(gw: Gateway, user_id: int, project_id: str, outcome: str) -> None:
    values = {"outcome": outcome, "checked_at": utcnow()}
    where = FirstProject.project_id == project_id
    with gw.db.begin() as session:
        if session.execute(update(FirstProject).where(where).values(**values)).rowcount:
            return
    try:
        with gw.db.begin() as session:
            session.add(FirstProject(project_id=project_id, user_id=user_id, **values))
    except IntegrityError:
        pass  # recorded by another process at the same moment


def running(gw: Gateway, limit: int = 200) -> list[str]:
    """The recorded first projects CoCalc says are running now (``doctor``)."""
    rows = gw.db.fetch_all(select(FirstProject.project_id).limit(limit))
    return [r.project_id for r in rows if gw.cocalc.project_state(r.project_id) in RUNNING]


def retry(gw: Gateway) -> int:
    """Housekeeping: hand the rounds again the first projects not known stopped (a restart
    left them pending, or every stop was undone); return how many."""
    rows = gw.db.fetch_all(
        select(FirstProject.project_id, FirstProject.user_id, HostUser.account_id)
        .join(HostUser, HostUser.id == FirstProject.user_id)
        .where(
            FirstProject.outcome.in_(("pending", "still running")),
            HostUser.account_id.is_not(None),
        )
        .limit(200)
    )
    for row in rows:
        _stopper(gw).add(_Waiting(row.project_id, row.user_id, row.account_id))
    return len(rows)
