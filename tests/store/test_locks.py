"""Named locks: SQLite leases are renewed while their holder works; a PostgreSQL advisory
lock never outlives a failed unlock."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from gateway.errors import ServiceBusy
from gateway.store import migrate
from gateway.store.database import Database
from gateway.store.locks import db_lock
from tests.conftest import empty_postgres


def test_a_lease_is_renewed_while_its_holder_works(sqlite_url):
    db = Database(sqlite_url)
    migrate.upgrade(db.engine)
    holding = threading.Event()

    def hold():
        with db_lock(db, "long-work", lease=0.6):
            holding.set()
            time.sleep(2.0)  # three leases long

    worker = threading.Thread(target=hold)
    worker.start()
    holding.wait()
    time.sleep(1.0)  # the first lease has run out: without renewal it could be taken over
    with pytest.raises(ServiceBusy), db_lock(db, "long-work", lease=0.6, wait=0.5):
        pass
    worker.join()
    with db_lock(db, "long-work", lease=0.6, wait=0.5):
        pass  # released at the end of the work
    db.dispose()


def test_a_crashed_holders_lease_is_taken_over(sqlite_url):
    from gateway.store.locks import _try_lease

    db = Database(sqlite_url)
    migrate.upgrade(db.engine)
    assert _try_lease(db, "orphan", "dead-process", lease=0.2)  # never renewed, never released
    time.sleep(0.3)
    with db_lock(db, "orphan", wait=1):
        pass
    db.dispose()


def test_an_advisory_lock_dies_with_a_connection_whose_unlock_failed(postgres_url):
    empty_postgres(postgres_url)
    db = Database(postgres_url)
    admin = Database(postgres_url)
    with db_lock(db, "fragile") as locked:
        pid = locked.connection.execute(text("SELECT pg_backend_pid()")).scalar()
        with admin.engine.connect() as other:  # the lock's session is cut off under it
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
    with db_lock(db, "fragile", wait=1):
        pass  # free at once: nothing kept it held
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
            time.sleep(0.3)  # the waiter is queued by now
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


def _raised(fn):
    try:
        fn()
    except Exception as exc:
        return type(exc)
    return None
