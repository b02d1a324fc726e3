"""Named locks in the database, so every thread and every gateway process agrees who works.

PostgreSQL has advisory locks: held by a connection, released when it ends (even if the
process dies), and they write nothing; the holder does its locked work on that same
connection (``LockedConnection``). SQLite has none, so there a row in ``locks`` is the
lock: its primary key decides who holds it, the holder renews its lease while it works,
and a crashed holder's lock is taken over once its lease ran out.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from ..errors import N_, ServiceBusy
from .database import Database
from .models import Lock, utcnow

log = logging.getLogger(__name__)


def _poll(try_once, wait: float) -> None:
    """Call ``try_once`` with capped, jittered backoff until it succeeds or ``wait`` passes."""
    deadline = time.monotonic() + wait
    delay = 0.005
    while not try_once():
        if time.monotonic() > deadline:
            raise ServiceBusy(N_("another request is still setting this user up; try again"))
        time.sleep(delay * random.uniform(0.5, 1.5))
        delay = min(delay * 2, 0.1)


def _advisory_key(name: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


class LockedConnection:
    """The database as seen by the holder of an advisory lock: through the lock's connection.

    Doing the locked work on that same connection means a lock holder never waits for a
    second pooled connection, so many holders at once cannot starve the pool. The
    connection is in autocommit mode: each statement is its own transaction (the locked
    steps write one statement at a time), which saves the BEGIN and COMMIT round trips.
    """

    def __init__(self, connection):
        self.connection = connection

    def fetch(self, statement, params=None):
        """As Database.fetch, on the lock's connection."""
        return self.connection.execute(statement, params or {}).first()

    def write(self, statement_and_params) -> None:
        """Run one (statement, params) pair, committed at once."""
        statement, params = statement_and_params
        self.connection.execute(statement, params)


LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout ran out


def _queue_for(connection, key: int, wait: float) -> None:
    """Wait in PostgreSQL's own queue for a lock that is held, for at most ``wait`` seconds.

    The lock is ours the moment its holder lets go. Polling with backoff left waiters asleep
    for up to 100 ms after that, at each of a first launch's four locks (a herd of one
    user's simultaneous first launches waited mostly for that)."""
    connection.execute(
        text("SELECT set_config('lock_timeout', :ms, false)"), {"ms": f"{int(wait * 1000)}ms"}
    )
    try:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        raise ServiceBusy(N_("another request is still setting this user up; try again")) from None
    finally:
        connection.execute(text("RESET lock_timeout"))


@contextmanager
def _advisory_lock(db: Database, name: str, wait: float) -> Iterator[LockedConnection]:
    key = _advisory_key(name)
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
            _queue_for(connection, key, wait)
        try:
            yield LockedConnection(connection)
        finally:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            except Exception:
                # The unlock failed (the connection broke, say): the session may still hold
                # the lock. Discard the connection instead of pooling it; its session, and
                # every lock it held, ends with it.
                connection.invalidate()
                log.warning("could not release the lock %s; its connection was discarded", key)


def _try_lease(db: Database, name: str, owner: str, lease: float) -> bool:
    now = utcnow()
    expires = now + timedelta(seconds=lease)
    try:
        with db.begin() as session:
            session.add(Lock(name=name, owner=owner, expires_at=expires))
        return True
    except IntegrityError:
        pass  # someone holds it: the primary key decided, as it does across processes
    with db.begin() as session:
        # A lease left behind by a crashed process is taken over once it has run out.
        taken = session.execute(
            update(Lock)
            .where(Lock.name == name, Lock.expires_at < now)
            .values(owner=owner, expires_at=expires)
        )
        return taken.rowcount == 1


def _renew(db: Database, name: str, owner: str, lease: float) -> bool:
    with db.begin() as session:
        kept = session.execute(
            update(Lock)
            .where(Lock.name == name, Lock.owner == owner)
            .values(expires_at=utcnow() + timedelta(seconds=lease))
        )
        return kept.rowcount == 1


def _keep_renewing(db: Database, name: str, owner: str, lease: float, done: threading.Event):
    """Renew the lease every third of its length while its holder works, so work that
    outlasts the lease (a template copy may take minutes) is never taken over."""
    while not done.wait(lease / 3):
        try:
            if not _renew(db, name, owner, lease):
                log.warning("the lease of lock %s was lost while its holder worked", name)
                return
        except Exception as exc:  # the database is busy: try again at the next tick
            log.info("could not renew the lease of lock %s: %s", name, type(exc).__name__)


@contextmanager
def _lease_lock(db: Database, name: str, lease: float, wait: float) -> Iterator[Database]:
    owner = uuid.uuid4().hex
    _poll(lambda: _try_lease(db, name, owner, lease), wait)
    done = threading.Event()
    renewer = threading.Thread(
        target=_keep_renewing, args=(db, name, owner, lease, done), daemon=True
    )
    renewer.start()
    try:
        yield db
    finally:
        done.set()
        renewer.join()
        with db.begin() as session:
            session.execute(delete(Lock).where(Lock.name == name, Lock.owner == owner))


@contextmanager
def db_lock(db: Database, name: str, *, lease: float = 30, wait: float = 60):
    """Hold the lock ``name`` for the block; wait for it at most ``wait`` seconds.

    Yields what the block reads and writes through: the lock's own connection on
    PostgreSQL (``LockedConnection``), the database itself on SQLite. On SQLite the lease
    is renewed while the block runs, so it only matters when a process dies holding the
    lock: then another takes it over once ``lease`` seconds passed.
    """
    if db.engine.dialect.name == "postgresql":
        with _advisory_lock(db, name, wait) as locked:
            yield locked
    else:
        with _lease_lock(db, name, lease, wait) as locked:
            yield locked
