"""SQLite for one machine: WAL, foreign keys, and a write lock taken up front and waited
for in Python, so that it works under gevent as well as in threads."""

from __future__ import annotations

import sqlite3
import time

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

BUSY_TIMEOUT_S = 30
#: How long SQLite itself waits for a lock (in C, blocking the process under gevent): only
#: for the rare statement other than BEGIN IMMEDIATE that meets one (``_begin_immediate``).
C_WAIT_S = 0.05


def engine(url: str) -> Engine:
    """An engine for SQLite: WAL, foreign keys, and write-locking transactions."""
    engine = create_engine(
        url,
        hide_parameters=True,  # an error message never carries a row's values
        connect_args={"timeout": C_WAIT_S, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below issue BEGIN instead of the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(C_WAIT_S * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # IMMEDIATE takes the write lock up front. A deferred transaction that reads and then
        # writes can fail at once with SQLITE_BUSY when another writer got in between, instead
        # of waiting for the busy timeout. Read-only sessions need no lock and run side by side.
        if connection.get_execution_options().get("gateway_readonly"):
            connection.exec_driver_sql("BEGIN")
        else:
            _begin_immediate(connection.connection.dbapi_connection)

    return engine


def _begin_immediate(dbapi_connection) -> None:
    """Take SQLite's write lock, waiting for it in Python rather than in SQLite's C code.

    SQLite's own busy wait sleeps in C, where gevent cannot switch: under the Procfile's
    gevent workers, one request waiting for the lock stalled every connection of its worker,
    the holder of the lock included, until the wait ran out (30 s, measured by
    ``tests/serving/sqlite_writers.py``). ``time.sleep`` here is gevent's where gevent
    patched it, so the holder runs on and lets go; in threads it simply sleeps.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    delay = 0.001
    dbapi_connection.execute("PRAGMA busy_timeout=0")  # each attempt answers at once
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() >= deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={int(C_WAIT_S * 1000)}")
