"""Database engine and sessions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import create_engine, exc
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from . import sqlite

log = logging.getLogger(__name__)


def _total(budget: PoolBudget) -> str:
    workers = os.environ.get("WEB_CONCURRENCY", "")
    per_process = budget.transactions + budget.single_statements
    return str(int(workers) * per_process) if workers.isdigit() else f"workers x {per_process}"


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class PoolBudget:
    """How many PostgreSQL connections one gateway process opens, at most.

    Three quarters go to transactions and locks (provisioning holds one per advisory lock
    while it works), the rest to single statements (the hot paths' reads and ``run``).
    Neither pool overflows: workers x ``connections`` must fit PostgreSQL's
    ``max_connections`` with room for the CLI and anything else.
    """

    connections: int = 16

    @property
    def transactions(self) -> int:
        return max(2, self.connections - self.connections // 4)

    @property
    def single_statements(self) -> int:
        return max(2, self.connections // 4)


def make_engine(url: str, budget: PoolBudget | None = None) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and write-locking transactions."""
    url = normalize_url(url)
    if not url.startswith("sqlite"):
        # Pre-ping here: after PostgreSQL dropped the pool's connections (a restart, a
        # failover), the next transaction reconnects instead of failing. The hot single
        # statements skip the ping and retry once instead (``Database.run``, ``fetch``).
        return create_engine(
            url,
            pool_size=(budget or PoolBudget()).transactions,
            max_overflow=0,
            pool_timeout=30,
            pool_pre_ping=True,
            pool_recycle=1800,
            hide_parameters=True,
        )
    return sqlite.engine(url)


def naive_utc(moment: datetime | None) -> datetime | None:
    """A moment as the columns hold it, UTC without a zone (see ``models.UTCDateTime``):
    what a compiled statement's raw DBAPI parameters need."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment is not None else None


@dataclass(frozen=True)
class CompiledStatement:
    """A Core statement compiled once for psycopg, for ``Database.run`` on hot paths.

    ``defaults`` holds the values of the statement's own literals (SQLAlchemy binds them as
    parameters too); the caller's parameters are added to them on every run.
    """

    sql: str
    defaults: dict

    @classmethod
    def of(cls, statement) -> CompiledStatement:
        compiled = statement.compile(dialect=postgresql.psycopg.dialect())
        return cls(str(compiled), dict(compiled.params))

    def bind(self, params: dict) -> dict:
        return {**self.defaults, **params}


class Database:
    """An engine plus a session factory; ``begin()`` gives a session in one transaction."""

    def __init__(self, url: str, budget: PoolBudget | None = None):
        self.url = normalize_url(url)
        self.budget = budget or PoolBudget()
        self.engine = make_engine(self.url, self.budget)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Single statements outside a transaction block get their own engine: on PostgreSQL a
        # pool of autocommit connections (a one-statement read or ``run`` needs no BEGIN and
        # COMMIT, and no isolation switching on every checkout); on SQLite read-only
        # transactions, which take no write lock (it serves reads only there).
        if self.engine.dialect.name == "postgresql":
            single = create_engine(
                self.url,
                isolation_level="AUTOCOMMIT",
                pool_size=self.budget.single_statements,
                max_overflow=0,
                pool_timeout=10,
                pool_recycle=1800,
                hide_parameters=True,
            )
        else:
            single = self.engine.execution_options(gateway_readonly=True)
        self.read_sessions = sessionmaker(single, expire_on_commit=False)
        self.single_statements = single

    @contextmanager
    def begin(self) -> Iterator[Session]:
        """Yield a session whose work commits together, or rolls back on any error."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """Yield a session for reading only (on SQLite it takes no write lock)."""
        with self.read_sessions.begin() as session:
            yield session

    def get(self, model, key):
        """Read one row by its primary key in a read session, again on a fresh connection if
        the pooled one had died (for reads on every launch, such as the host's)."""

        def once():
            with self.read() as session:
                return session.get(model, key)

        return _reconnecting(once)

    def fetch(self, statement, params=None):
        """Run one read statement with SQLAlchemy Core and return its first row (hot paths:
        an ORM session costs several times the query)."""

        def once():
            with self.single_statements.connect() as connection:
                return connection.execute(statement, params or {}).first()

        return _reconnecting(once)

    def fetch_all(self, statement, params=None) -> list:
        """Run one read statement and return all its rows."""

        def once():
            with self.single_statements.connect() as connection:
                return connection.execute(statement, params or {}).all()

        return _reconnecting(once)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def run(self, statement: CompiledStatement, params: dict) -> tuple | None:
        """``run_once``, again once on a fresh connection if the pooled one had died."""
        return _reconnecting(lambda: self.run_once(statement, params))

    def run_once(self, statement: CompiledStatement, params: dict) -> tuple | None:
        """Run one compiled statement on a pooled autocommit DBAPI connection and return
        its first row (PostgreSQL only).

        For the two hottest statements (a warm launch, an embed page): there SQLAlchemy's own
        work per execution costs more than the query. psycopg prepares a statement on the
        server once a connection has run it a few times. DBAPI errors come out as SQLAlchemy's
        (IntegrityError, OperationalError), without the parameters, like everywhere else.
        """
        dbapi, connection, lost = self.single_statements.dialect.loaded_dbapi, None, False
        try:
            connection = self.single_statements.raw_connection()
            with connection.cursor() as cursor:
                cursor.execute(statement.sql, statement.bind(params))
                return cursor.fetchone() if cursor.description else None
        except dbapi.Error as error:
            if connection is not None and self.single_statements.dialect.is_disconnect(
                error, connection, None
            ):
                connection.invalidate(error)
                # The others in the pool died with it (a restart, a failover): drop them all
                # at once, as SQLAlchemy does on its own paths, so the retry gets a new one.
                self.single_statements.dispose(close=False)
                lost = True
            raise exc.DBAPIError.instance(
                statement.sql,
                None,
                error,
                dbapi.Error,
                hide_parameters=True,
                connection_invalidated=lost,
            ) from None
        finally:
            if connection is not None:
                connection.close()

    def write(self, *statements) -> None:
        """Run (statement, params) pairs in one transaction with SQLAlchemy Core."""
        with self.engine.begin() as connection:
            for statement, params in statements:
                connection.execute(statement, params)

    def dispose(self) -> None:
        self.engine.dispose()
        self.single_statements.dispose()


def _reconnecting(attempt):
    """Run ``attempt``; if it failed because its connection had died (PostgreSQL restarted
    or dropped it), run it once more on a fresh one. A dead connection is found when a
    statement is sent on it, so the statement never ran and repeating it is safe."""
    try:
        return attempt()
    except exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
    return attempt()


def open_database(url: str, connections: int) -> Database:
    """The database of one process, its connection budget said in the log (PostgreSQL)."""
    budget = PoolBudget(connections)
    database = Database(url, budget)
    if database.is_postgres:
        log.info(
            "PostgreSQL: at most %d connections in this process (%d for transactions and "
            "locks, %d for single statements); WEB_CONCURRENCY=%s workers need %s in all",
            budget.transactions + budget.single_statements,
            budget.transactions,
            budget.single_statements,
            os.environ.get("WEB_CONCURRENCY", "?"),
            _total(budget),
        )
    return database
