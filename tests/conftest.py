"""Shared fixtures: real simulators over HTTP, real SQLite and PostgreSQL, the gateway app."""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests
from sqlalchemy import text

from gateway import create_app, hosts
from gateway.dev.devserver import ThreadedServer
from gateway.dev.simulator import SimulatorConfig, create_simulator_app
from gateway.store import migrate
from gateway.store.tables import metadata
from gateway.support import concurrency, logs

# Secrets of this test run: tests/test_secrets.py checks none of them ever leaks.
ADMIN_KEY = "sk_admin_" + secrets.token_hex(12)
USER_KEY = "sk_user_" + secrets.token_hex(12)
GATEWAY_SECRET = "gw-secret-" + secrets.token_hex(20)
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class Sim:
    """A running CoCalc simulator and its test controls."""

    url: str
    dialect: str
    admin_key: str = ADMIN_KEY
    user_key: str = USER_KEY

    def control(self, path: str, **body):
        reply = requests.post(f"{self.url}/_sim/{path}", json=body, timeout=5)
        reply.raise_for_status()
        return reply.json()

    def calls(self) -> dict[str, int]:
        """CoCalc's call counts once the gateway's background work (a token refill after a
        page, a revocation) has finished: a count taken while a refill is still in flight
        would depend on the race, and the test with it."""
        concurrency.wait_idle()
        return requests.get(f"{self.url}/_sim/calls", timeout=5).json()["calls"]

    def total_calls(self) -> int:
        return sum(self.calls().values())

    def reset(self):
        concurrency.wait_idle()  # a refill still in flight would be counted after the reset
        self.control("reset")

    def fault(self, endpoint: str, mode: str, count: int = 1):
        self.control("faults", endpoint=endpoint, mode=mode, count=count)

    def configure(self, **knobs):
        self.control("config", **knobs)

    def project(self, project_id: str) -> dict:
        return requests.get(f"{self.url}/_sim/projects/{project_id}", timeout=5).json()

    def account(self, account_id: str) -> dict:
        return requests.get(f"{self.url}/_sim/accounts/{account_id}", timeout=5).json()

    def projects(self) -> list[dict]:
        """Every project the simulator holds (read from its state: tests only)."""
        state = next(s for s in SIMULATOR_STATES if s.url == self.url)
        with state.lock:
            return [
                {"project_id": p.project_id, "description": p.description, "owner": p.owner}
                for p in state.projects.values()
            ]

    def accounts(self) -> list[dict]:
        """Every account the simulator holds (read from its state: tests only)."""
        state = next(s for s in SIMULATOR_STATES if s.url == self.url)
        with state.lock:
            return [
                {"account_id": a.account_id, "email_address": a.email_address}
                for a in state.accounts.values()
            ]

    def endpoint(self, v1: str, current: str) -> str:
        """The call-count key of the same operation in this simulator's dialect."""
        return v1 if self.dialect == "v1" else current


SIMULATOR_STATES = []  # every simulator of the run: they know each password and token issued


def start_simulator(dialect: str, **config) -> tuple[ThreadedServer, Sim]:
    settings = SimulatorConfig(
        dialect=dialect,
        admin_key=ADMIN_KEY,
        user_key=USER_KEY,
        account_rate_limit=None,
        fault_sleep_s=3.0,
        # Sign-up's first project starts in 30 ms here (a test of its own takes longer).
        first_project_start_ms=30,
        **config,
    )
    app = create_simulator_app(settings)
    server = ThreadedServer(app).start()
    state = app.extensions["simulator"].state
    state.url = server.url
    SIMULATOR_STATES.append(state)
    return server, Sim(server.url, dialect)


# -- every log line of the whole run, checked for secrets at the end ------------------------------
# One file per process: under pytest-xdist each worker writes and checks its own.
RUN_LOG = (
    Path(__file__).resolve().parent.parent
    / "artifacts"
    / f"test-run-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.log"
)
SECRET_PATTERNS = [
    re.compile(r"\bhs_[A-Za-z0-9_-]{30,}"),  # host secrets
    re.compile(r"auth_token=(?!\[redacted\])[A-Za-z0-9]"),
    re.compile(r"\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"),  # launch tokens
    re.compile(r"-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----"),  # SAML and LTI keys
]


def compile_catalogues() -> list[str]:
    """Compile every message catalogue whose .mo is missing or older than its .po (a test
    run straight after ``git pull`` or an edit, without ``make install``): the language
    tests then test the catalogues as they are, instead of failing without a word."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    made = []
    root = Path(__file__).resolve().parent.parent / "gateway"
    for po in [*root.glob("translations/*/LC_MESSAGES/messages.po"),
               *root.glob("dev/translations/*/LC_MESSAGES/messages.po")]:  # fmt: skip
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        with mo.open("wb") as target:
            write_mo(target, catalog)
        made.append(str(mo.relative_to(root.parent)))
    return made


def pytest_configure(config):
    # The simulators start a first project in 30 ms: the rounds that stop it look as often
    # (the real server takes seconds, and the gateway's pace is set for that).
    from gateway.provisioning import first_projects

    first_projects.POLL_S, first_projects.SETTLE_S = 0.01, 0.03
    first_projects.START_DEADLINE_S = 5.0  # a test's CoCalc that fails gives up soon
    if not hasattr(config, "workerinput"):  # the controller (or a run without workers)
        made = compile_catalogues()
        if made:
            print(f"compiled the message catalogues that were missing or stale: {made}")
    RUN_LOG.parent.mkdir(exist_ok=True)
    handler = logs.make_handler("json", RUN_LOG.open("w", encoding="utf-8"))
    handler.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG)
    config._run_log_handler = handler


def check_run_log() -> dict:
    """This process's log against the secrets this process made (each xdist worker has its own)."""
    text = RUN_LOG.read_text(encoding="utf-8")
    literals = {ADMIN_KEY, USER_KEY, GATEWAY_SECRET}
    for state in SIMULATOR_STATES:
        with state.lock:
            literals |= {a.password for a in state.accounts.values()}
            literals |= set(state.tokens)
    leaks = [value[:6] + "..." for value in literals if value and value in text]
    leaks += [p.pattern for p in SECRET_PATTERNS if p.search(text)]
    return {
        "log": str(RUN_LOG),
        "lines": text.count("\n"),
        "secrets": len(literals),
        "leaks": leaks,
    }


# The workers' verdicts, in the controller of an xdist run.
WORKER_LOG_CHECKS: list[dict] = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """The controller of an xdist run collects each worker's log check (see below)."""
    check = getattr(node, "workeroutput", {}).get("log_check")
    WORKER_LOG_CHECKS.append(check or {"log": str(node), "missing": True})


def pytest_sessionfinish(session, exitstatus):
    """Fail the run if any log line of it holds a key, secret, password or token.

    Under pytest-xdist a worker checks its own log and hands the verdict to the controller
    (a worker's exit status alone would not fail the run), which fails the run for a leak in
    any worker, or for a worker that reported no check.
    """
    config = session.config
    handler = getattr(config, "_run_log_handler", None)
    if handler is None:
        return
    handler.flush()
    check = check_run_log()
    if hasattr(config, "workeroutput"):  # an xdist worker
        config.workeroutput["log_check"] = check
        return
    checks = [check, *WORKER_LOG_CHECKS]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    say = reporter.write_line if reporter else print
    unchecked = [c["log"] for c in checks if c.get("missing")]
    leaks = {c["log"]: c["leaks"] for c in checks if c.get("leaks")}
    if unchecked or leaks:
        session.exitstatus = 1
        if leaks:
            say(f"SECRETS IN THE LOGS of this run: {leaks}", red=True)
        if unchecked:
            say(f"log check: no verdict from {unchecked}", red=True)
    else:
        lines = sum(c["lines"] for c in checks)
        known = sum(c["secrets"] for c in checks)
        say(
            f"log check: {lines} log lines of this run ({len(checks)} processes) hold no "
            f"secret ({known} known secrets checked)"
        )


@pytest.fixture(scope="session")
def simulators():
    started = {d: start_simulator(d) for d in ("v1", "current")}
    yield {d: sim for d, (_, sim) in started.items()}
    for server, _ in started.values():
        server.stop()


#: Where CoCalc's API is the subject, every test runs against both generations (the client,
#: provisioning, the simulator, the operator's checks; the browser flows have their own
#: ``stack``); elsewhere one is enough. A module or test elsewhere asks for both with
#: ``pytest.mark.both_dialects``.
BOTH_DIALECTS = ("tests/cocalc/", "tests/provisioning/", "tests/operator/", "tests/dev/")
DIALECTS = ("v1", "current")


def pytest_generate_tests(metafunc):
    if "dialect" not in metafunc.fixturenames:
        return
    where = str(metafunc.definition.path.relative_to(Path(__file__).resolve().parent.parent))
    both = metafunc.definition.get_closest_marker("both_dialects") or where.startswith(
        BOTH_DIALECTS
    )
    metafunc.parametrize("dialect", DIALECTS if both else ("current",), indirect=True)


@pytest.fixture
def dialect(request):
    return request.param


@pytest.fixture
def sim(simulators, dialect) -> Sim:
    handle = simulators[dialect]
    handle.reset()
    yield handle
    handle.reset()


# -- databases -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this run, migrated once, dropped at the end."""
    name = f"gateway_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is needed at {PG_ADMIN_URL} (start it, see README): {exc}")
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    yield url
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def empty_postgres(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    migrate.upgrade(engine)
    tables = ", ".join(t.name for t in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    url = request.getfixturevalue("postgres_url")
    empty_postgres(url)
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite database migrated once for this process: each test gets a copy of it."""
    from sqlalchemy import create_engine

    path = tmp_path_factory.mktemp("template") / "migrated.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template):
    """A migrated SQLite database of the test's own (a copy of the migrated template)."""
    target = tmp_path / "gateway.sqlite3"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def blank_sqlite_url(tmp_path):
    """A SQLite database no migration has touched yet."""
    return f"sqlite:///{tmp_path / 'blank.sqlite3'}"


# -- the gateway -----------------------------------------------------------------------------------
def gateway_config(sim: Sim, database_url: str, **overrides) -> dict:
    return {
        "TESTING": True,
        "COCALC_URL": sim.url,
        "COCALC_API_KEY": sim.admin_key,
        "COCALC_API_DIALECT": sim.dialect,
        "COCALC_TIMEOUT": 2.0,
        "COCALC_RETRIES": 1,
        "DATABASE_URL": database_url,
        "GATEWAY_SECRET_KEY": GATEWAY_SECRET,
        "GATEWAY_PUBLIC_URL": "http://127.0.0.1",
        # The test client's requests go to the gateway's public name, as a browser's do:
        # a page's binding cookie set on one request comes back with the next.
        "SERVER_NAME": "127.0.0.1",
        # No housekeeping thread: one started by a test's app would wake minutes later, in
        # another test, on the shared PostgreSQL database (a TRUNCATE deadlocked with it).
        # Tests run housekeeping themselves.
        "GATEWAY_HOUSEKEEPING_INTERVAL": 0,
        **overrides,
    }


def make_app(sim: Sim, database_url: str, **overrides):
    from gateway import cli

    app = create_app(gateway_config(sim, database_url, **overrides))
    migrate.upgrade(app.extensions["db"].engine)
    cli.attach(app)  # app.test_cli_runner() invokes the gateway's commands
    return app


def app_lifetime(app):
    """Yield an app to a test, then close it: its background work finishes, its pools close."""
    from gateway.web import current

    yield app
    current.close(app)


@pytest.fixture
def app(sim, sqlite_url):
    yield from app_lifetime(make_app(sim, sqlite_url))


@pytest.fixture
def gw(app):
    return app.extensions["gateway"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def host(gw):
    """A host with two origins; its secret travels on the object for tests."""
    host, secret = hosts.add(gw, "Course", ["https://lms.example.edu", "https://other.example.org"])
    host.secret = secret
    return host
