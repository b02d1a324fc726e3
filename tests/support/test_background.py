"""The background machinery: the housekeeping scheduler, the worker pool, running steps side
by side, and the revocation drain's backoff."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from gateway.provisioning import revocations, tokens
from gateway.store.models import Revocation, utcnow
from gateway.support import concurrency, housekeeping
from gateway.web import current


class Ticks:
    def __init__(self):
        self.count = 0
        self.ran = threading.Event()

    def __call__(self, gw):
        self.count += 1
        self.ran.set()
        return 1


def wait_until(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_the_scheduler_runs_the_tasks_in_one_thread_every_interval():
    ticks = Ticks()
    scheduler = housekeeping.Scheduler(object(), interval=0.05, tasks=[("tick", ticks)])
    scheduler.ensure_started()
    first = scheduler.thread
    scheduler.ensure_started()  # a second request starts no second thread
    try:
        assert scheduler.thread is first and first.is_alive()
        assert wait_until(lambda: ticks.count >= 3)
    finally:
        scheduler.stop()
    first.join(5)
    assert not first.is_alive()


def test_an_interval_of_zero_starts_no_thread():
    ticks = Ticks()
    scheduler = housekeeping.Scheduler(object(), interval=0, tasks=[("tick", ticks)])
    scheduler.ensure_started()
    assert scheduler.thread is None and scheduler.tasks == (("tick", ticks),)
    scheduler.run_once()  # the tasks are there: only no thread runs them
    assert ticks.count == 1


def test_a_failing_task_is_logged_and_the_others_still_run(caplog):
    ticks = Ticks()

    def broken(gw):
        raise RuntimeError("the database went away")

    caplog.set_level(logging.WARNING)
    tasks = [("broken", broken), ("tick", ticks)]
    assert housekeeping.run_once(object(), tasks) == {"broken": -1, "tick": 1}
    assert "housekeeping task broken failed: RuntimeError" in caplog.text


def test_the_pool_logs_a_failure_and_wait_idle_waits_for_every_task(caplog):
    caplog.set_level(logging.WARNING)
    finished = []

    def slow():
        time.sleep(0.2)
        finished.append(1)

    pool = concurrency.Background()
    pool.submit("slow", slow)
    pool.submit("fails", lambda: 1 / 0)
    concurrency.wait_idle()
    assert finished == [1]
    assert "background task fails failed: ZeroDivisionError" in caplog.text
    pool.close()
    assert pool.submit("late", lambda: finished.append(2)) is None  # closed: runs nothing
    assert finished == [1]


def test_an_app_closes_its_own_pool_and_scheduler(app):
    gw = app.extensions["gateway"]
    assert [name for name, _ in gw.housekeeping.tasks][:2] == [
        "revoke unused page tokens",
        "purge launches",
    ]
    current.close(app)
    assert gw.background.closed and gw.background.submit("x", lambda: None) is None


def test_steps_run_together_and_the_first_failure_comes_after_all_finished():
    finished = []

    def slow_ok():
        time.sleep(0.2)
        finished.append("slow")
        return "a"

    def fails():
        raise ValueError("step two broke")

    assert concurrency.run_together(lambda: "x", lambda: "y") == ["x", "y"]
    began = time.monotonic()
    with pytest.raises(ValueError, match="step two broke"):
        concurrency.run_together(fails, slow_ok)
    assert finished == ["slow"] and time.monotonic() - began >= 0.2  # nothing left running


def test_a_revocation_that_fails_is_tried_again_after_a_doubling_backoff(simulators, sqlite_url):
    from tests.conftest import make_app

    sim = simulators["current"]
    sim.reset()
    app = make_app(sim, sqlite_url)
    gw = app.extensions["gateway"]
    sim.fault("system.revokeUserAuthToken", "html502", count=100)
    gw.db.write((Revocation.__table__.insert(), {
        "token_encrypted": gw.box.encrypt("a" * 24), "next_try_at": utcnow(), "attempts": 0,
    }))  # fmt: skip
    assert revocations.drain_revocations(gw) == 0  # CoCalc failed: kept, and not due for 30 s
    asked = sim.calls()["system.revokeUserAuthToken"]
    assert revocations.drain_revocations(gw) == 0  # not due: CoCalc is not asked again
    assert sim.calls() == {"system.revokeUserAuthToken": asked}
    with gw.db.read() as session:
        row = session.scalar(select(Revocation))
    assert row.attempts == 1
    assert timedelta(seconds=25) < row.next_try_at - utcnow() <= timedelta(seconds=30)
    with gw.db.begin() as session:  # due again: fails again, and waits twice as long
        session.execute(update(Revocation).values(next_try_at=utcnow()))
    assert revocations.drain_revocations(gw) == 0
    with gw.db.read() as session:
        row = session.scalar(select(Revocation))
    assert row.attempts == 2 and row.next_try_at - utcnow() > timedelta(seconds=55)
    sim.reset()  # CoCalc is back
    with gw.db.begin() as session:
        session.execute(update(Revocation).values(next_try_at=utcnow()))
    assert revocations.drain_revocations(gw) == 1  # CoCalc confirms: gone
    with gw.db.read() as session:
        assert session.scalar(select(Revocation)) is None
    current.close(app)


def test_a_refill_with_a_spare_waiting_asks_cocalc_nothing(simulators, sqlite_url):
    from gateway import hosts, provisioning
    from gateway.provisioning import UserProfile
    from tests.conftest import make_app

    sim = simulators["current"]
    sim.reset()
    app = make_app(sim, sqlite_url)
    gw = app.extensions["gateway"]
    host, _ = hosts.add(gw, "Course", [])
    ready = provisioning.provision(gw, host, UserProfile("refilled"))
    concurrency.wait_idle()
    sim.reset()
    tokens.refill(gw, ready.user_id)  # the spare made at set-up is still there
    assert sim.calls() == {}
    assert tokens._spares(gw, ready.user_id) == 1
    current.close(app)
