"""Named locks: SQLite leases are renewed while their holder works; a PostgreSQL advisory
lock never outlives a failed unlock."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from gateway.errors import ServiceBusy
from gateway.store import migrate
from gateway.store.database import Database
from gateway.store.locks import db_lock
from gateway.store.models import Lock, utcnow
from tests.conftest import empty_postgres


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition never held")
        time.sleep(0.01)


def lease_ends(db, name: str):
    with db.read() as session:
        return session.scalar(select(Lock.expires_at).where(Lock.name == name))


def test_a_lease_is_renewed_while_its_holder_works(sqlite_url):
    db = Database(sqlite_url)
    migrate.upgrade(db.engine)
    holding, done = threading.Event(), threading.Event()

    def hold():
        with db_lock(db, "long-work", lease=0.6):
            holding.set()
            done.wait(10)  # works until the test has seen what it looks for

    worker = threading.Thread(target=hold)
    worker.start()
    holding.wait()
    first = lease_ends(db, "long-work")
    wait_until(lambda: utcnow() > first)  # the first lease has run out...
    wait_until(lambda: lease_ends(db, "long-work") > first)  # ...and was renewed
    with pytest.raises(ServiceBusy), db_lock(db, "long-work", lease=0.6, wait=0.5):
        pass  # so it cannot be taken over
    done.set()
    worker.join()
    with db_lock(db, "long-work", lease=0.6, wait=0.5):
        pass  # released at the end of the work
    db.dispose()


def test_a_crashed_holders_lease_is_taken_over(sqlite_url):
    from gateway.store.locks import _try_lease

    db = Database(sqlite_url)
    migrate.upgrade(db.engine)
    assert _try_lease(db, "orphan", "dead-process", lease=0.2)  # never renewed, never released
    ends = lease_ends(db, "orphan")
    wait_until(lambda: utcnow() > ends)
    with db_lock(db, "orphan", wait=1):
        pass
    db.dispose()


def advisory_locks_held(admin: Database) -> int:
    with admin.engine.connect() as connection:
        return connection.execute(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
        ).scalar()


def test_an_advisory_lock_dies_with_a_connection_whose_unlock_failed(postgres_url, monkeypatch):
    """The unlock itself fails on a live connection (a statement timeout, a driver error):
    the connection is discarded, its session ends, and the lock with it."""
    from sqlalchemy.engine import Connection

    empty_postgres(postgres_url)
    db = Database(postgres_url)
    admin = Database(postgres_url)
    real = Connection.execute

    def failing_unlock(self, statement, *args, **kwargs):
        if "pg_advisory_unlock" in str(statement):
            raise OperationalError(str(statement), {}, Exception("unlock failed"))
        return real(self, statement, *args, **kwargs)

    with db_lock(db, "fragile"):
        assert advisory_locks_held(admin) == 1
        monkeypatch.setattr(Connection, "execute", failing_unlock)
    monkeypatch.setattr(Connection, "execute", real)
    wait_until(lambda: advisory_locks_held(admin) == 0)  # its session is gone
    began = time.monotonic()
    with db_lock(db, "fragile", wait=1):
        assert time.monotonic() - began < 0.5  # free at once: nothing kept it held
    db.dispose()
    admin.dispose()


def test_a_waiter_gets_an_advisory_lock_the_moment_it_is_released(postgres_url):
    """Waiters queue in PostgreSQL: no backoff sleep between the release and the next holder
    (polling slept up to 100 ms there, at each of a first launch's locks)."""
    db = Database(postgres_url)
    for _ in range(3):
        acquired, released = [], []
        holding = threading.Event()

        def waiter(holding, acquired):
            holding.wait()
            with db_lock(db, "queue", wait=5):
                acquired.append(time.monotonic())

        thread = threading.Thread(target=waiter, args=(holding, acquired))
        thread.start()
        with db_lock(db, "queue"):
            holding.set()
            wait_until(lambda: advisory_waiters(db) == 1)  # the waiter is queued
            released.append(time.monotonic())
        thread.join(10)
        assert acquired and acquired[0] - released[0] < 0.03
    db.dispose()


def test_an_advisory_lock_held_too_long_gives_service_busy_and_resets_the_timeout(postgres_url):
    db = Database(postgres_url)
    with db_lock(db, "held"):
        started = time.monotonic()

        def wait_briefly():
            with db_lock(db, "held", wait=0.3):
                pass

        outcome = []
        thread = threading.Thread(target=lambda: outcome.append(_raised(wait_briefly)))
        thread.start()
        thread.join(10)
        assert outcome == [ServiceBusy] and time.monotonic() - started < 3
    with db.engine.connect() as connection:  # every pooled connection waits without limit again
        timeouts = {connection.execute(text("SHOW lock_timeout")).scalar()}
    assert timeouts == {"0"}
    db.dispose()


def advisory_waiters(db: Database) -> int:
    with db.engine.connect() as connection:
        return connection.execute(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        ).scalar()


def _raised(fn):
    try:
        fn()
    except Exception as exc:
        return type(exc)
    return None
