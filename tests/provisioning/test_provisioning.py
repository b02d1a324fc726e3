"""Provisioning on SQLite and PostgreSQL, against both CoCalc dialects, over real HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from gateway import hosts, provisioning
from gateway.cocalc import CoCalcAPIError, CoCalcUnavailable
from gateway.errors import BadRequest
from gateway.provisioning import UserProfile, accounts, tokens
from gateway.store.models import CachedToken, HostUser, SpareToken, UserProject, utcnow
from gateway.support import concurrency
from gateway.support.crypto import SecretBox
from gateway.web import current
from tests.conftest import gateway_config, make_app
from tests.launching import waiting_token

ROOT = Path(__file__).resolve().parents[2]  # the repository: `python -m tests.herd` runs there


@pytest.fixture
def pgw(sim, database_url):
    """A gateway on each database (SQLite file, PostgreSQL server) and each dialect."""
    app = make_app(sim, database_url)
    yield app.extensions["gateway"]
    concurrency.wait_idle()
    current.close(app)


@pytest.fixture
def host(pgw):
    host, _secret = hosts.add(pgw, "Course", ["https://lms.example.edu"])
    return host


def user(**fields):
    return UserProfile(external_id=f"u-{uuid.uuid4().hex[:10]}", **fields)


def count(gw, model):
    with gw.db.begin() as session:
        return session.scalar(select(func.count()).select_from(model))


def creations(sim):
    calls = sim.calls()
    return (
        calls.get(sim.endpoint("create_account", "v2/auth/sign-up"), 0),
        calls.get(sim.endpoint("create_project", "projects.createProject"), 0),
    )


def test_cold_launch_makes_four_calls_and_warm_launch_none(pgw, host, sim):
    from tests.launching import calls_waited_on

    profile = user(email=f"{uuid.uuid4().hex[:8]}@example.edu", first_name="Ada")
    sim.reset()
    with calls_waited_on(sim.url) as waited_on:
        first = provisioning.provision(pgw, host, profile)
    assert first.did_work and len(waited_on) == 4
    project = sim.project(first.project_id)
    assert first.account_id in project["collaborators"] and project["running"]
    # The current API's sign-up started "My First Project": stopped in the background,
    # once its start completed (a stop while it starts would be undone).
    calls = sim.calls()
    signed_up = sim.account(first.account_id)["projects"]  # the gateway's is its own
    if sim.dialect == "current":
        assert len(signed_up) == 1 and not sim.project(signed_up[0])["running"]
        assert calls["v2/projects/stop"] == 1
        assert calls["v2/user-query"] >= 2  # its state read before the stop and after
    else:
        assert signed_up == [] and sum(calls.values()) == 4
    sim.reset()
    again = provisioning.provision(pgw, host, profile)
    assert not again.did_work and sim.total_calls() == 0
    assert (again.account_id, again.project_id) == (first.account_id, first.project_id)


@pytest.mark.parametrize("start_ms", [0, 1500])
def test_the_first_project_stays_stopped_however_long_its_start_takes(pgw, host, sim, start_ms):
    """Sign-up starts "My First Project" without waiting; a stop sent while it starts is
    undone when the start completes (section 7c). The gateway waits until CoCalc reports
    it past starting, stops it, and checks that it stays stopped."""
    from gateway.provisioning import first_projects
    from gateway.store.models import FirstProject
    from gateway.support.counters import FIRST_PROJECTS

    if sim.dialect == "v1":
        pytest.skip("API v1's create_account makes no project")
    sim.configure(first_project_start_ms=start_ms)
    before = FIRST_PROJECTS.labels("stopped")._value.get()
    made = provisioning.provision(pgw, host, user())
    concurrency.wait_idle()
    [first] = sim.account(made.account_id)["projects"]
    assert sim.project(first)["state"] == "stopped"
    time.sleep(start_ms / 1000 + 0.3)  # past any start that could still come back
    assert sim.project(first)["state"] == "stopped"
    assert FIRST_PROJECTS.labels("stopped")._value.get() == before + 1
    with pgw.db.read() as session:
        assert session.get(FirstProject, first).outcome == "stopped"
    assert first_projects.running(pgw) == []


def test_twenty_threads_make_one_account_and_one_project(pgw, host, sim):
    profile = user()
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: provisioning.provision(pgw, host, profile), range(20)))
    assert len({r.account_id for r in results}) == 1
    assert len({r.project_id for r in results}) == 1
    assert creations(sim) == (1, 1)
    assert count(pgw, HostUser) == 1 and count(pgw, UserProject) == 1


def test_two_processes_sharing_the_database(pgw, host, sim, database_url):
    config = {**gateway_config(sim, database_url), "HOST_ID": host.id}
    profile_id = f"u-{uuid.uuid4().hex[:10]}"
    command = [sys.executable, "-m", "tests.herd", json.dumps(config), profile_id, "10"]
    workers = [
        subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    seen = set()
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        seen |= set(json.loads(out))
    assert len(seen) == 2  # one account id and one project id across both processes
    assert creations(sim) == (1, 1)


def test_failed_project_creation_is_continued_later(pgw, host, sim):
    profile = user()
    sim.fault(sim.endpoint("create_project", "projects.createProject"), "error")
    with pytest.raises(CoCalcAPIError):
        provisioning.provision(pgw, host, profile)
    with pgw.db.begin() as session:
        row = session.scalar(select(HostUser))
        assert row.account_id  # the account was made and kept
    sim.reset()
    result = provisioning.provision(pgw, host, profile)
    assert result.account_id == row.account_id
    assert creations(sim) == (0, 1)


def test_lost_account_reply_is_recovered(pgw, host, sim):
    profile = user(email=f"{uuid.uuid4().hex[:8]}@example.edu")
    sim.fault(sim.endpoint("create_account", "v2/auth/sign-up"), "lose_reply")
    with pytest.raises(CoCalcUnavailable):
        provisioning.provision(pgw, host, profile)
    made = [a for a in sim.accounts() if a["email_address"].startswith("gw-")]
    sim.reset()
    result = provisioning.provision(pgw, host, profile)
    # v1 meets "e-mail taken" and finds the account by its address; the current API's
    # sign-up answers the existing account's id for the same address and password.
    assert creations(sim) == (1, 0)
    assert result.account_id in {a["account_id"] for a in made}
    assert waiting_token(pgw, result.user_id) is not None


def test_an_account_the_gateway_did_not_create_is_never_used(pgw, host, sim):
    """Someone's own CoCalc account at the address a host sends is never adopted."""
    email = f"{uuid.uuid4().hex[:8]}@example.edu"
    victim = pgw.cocalc.create_account(
        first_name="X", last_name="Y", email=email, password="Qw8#mN3$kL5@"
    ).account_id
    result = provisioning.provision(pgw, host, user(email=email))
    assert result.account_id != victim
    assert victim not in sim.project(result.project_id)["collaborators"]
    assert sim.account(result.account_id)["email_address"] != email
    with pgw.db.begin() as session:
        row = session.get(HostUser, result.user_id)
    assert row.email == email and accounts.is_gateway_address(row.cocalc_email)


def test_lost_reply_to_an_account_at_the_hosts_address_stays_exactly_once(pgw, host, sim):
    """A lost sign-up reply, while a foreign account holds the host's address: one account."""
    email = f"{uuid.uuid4().hex[:8]}@example.edu"
    pgw.cocalc.create_account(first_name="X", last_name="Y", email=email, password="Qw8#mN3$kL5@")
    profile = user(email=email, first_name="Ann")
    sim.fault(sim.endpoint("create_account", "v2/auth/sign-up"), "lose_reply")
    with pytest.raises(CoCalcUnavailable):
        provisioning.provision(pgw, host, profile)
    sim.reset()
    first = provisioning.provision(pgw, host, profile)
    assert creations(sim)[1] == 0  # the project of the first attempt was kept
    again = provisioning.provision(pgw, host, profile)
    assert again.account_id == first.account_id
    owned = [a for a in sim.accounts() if a["account_id"] == first.account_id]
    assert owned and owned[0]["email_address"].startswith("gw-")


def test_contexts_get_their_own_projects(pgw, host):
    profile = user()
    a = provisioning.provision(pgw, host, profile, "course-101")
    b = provisioning.provision(pgw, host, profile, "course-102")
    c = provisioning.provision(pgw, host, profile)
    assert a.account_id == b.account_id == c.account_id
    assert len({a.project_id, b.project_id, c.project_id}) == 3


def test_template_is_copied(pgw, sim):
    template = pgw.cocalc.create_project(title="template").project_id
    pgw.cocalc.write_text_file_to_project(template, "course/week1.md", "# Week 1")
    host, _ = hosts.add(
        pgw, "Templated", [], template_project_id=template, template_paths=["course"]
    )
    result = provisioning.provision(pgw, host, user())
    assert sim.project(result.project_id)["files"] == {"course/week1.md": "# Week 1"}


@pytest.mark.parametrize("reply", ["empty", "missing"])
def test_a_copy_answered_without_an_id_needs_no_polling(simulators, sqlite_url, reply):
    """A real API v1 server answers a finished copy with ``copy_path_id: ""``."""
    sim = simulators["v1"]
    sim.reset()
    sim.configure(copy_reply=reply)
    app = make_app(sim, sqlite_url)
    gw = app.extensions["gateway"]
    template = gw.cocalc.create_project(title="template").project_id
    gw.cocalc.write_text_file_to_project(template, "a.md", "A")
    host, _ = hosts.add(gw, "Templated", [], template_project_id=template, template_paths=["a.md"])
    result = provisioning.provision(gw, host, user())
    assert "copy_path_status" not in sim.calls()
    assert sim.project(result.project_id)["files"] == {"a.md": "A"}
    sim.reset()


def test_template_copy_is_polled_when_cocalc_answers_with_an_id(simulators, sqlite_url):
    sim = simulators["v1"]
    sim.reset()
    sim.configure(copy_reply="async")
    app = make_app(sim, sqlite_url)
    gw = app.extensions["gateway"]
    template = gw.cocalc.create_project(title="template").project_id
    gw.cocalc.write_text_file_to_project(template, "a.md", "A")
    host, _ = hosts.add(gw, "Async", [], template_project_id=template, template_paths=["a.md"])
    result = provisioning.provision(gw, host, user())
    assert sim.calls()["copy_path_status"] >= 1
    assert sim.project(result.project_id)["files"] == {"a.md": "A"}
    sim.reset()


def test_accounts_are_created_at_unguessable_gateway_addresses(pgw, host, sim):
    """The address is random, made up before the call, and never the host's."""
    first = provisioning.provision(pgw, host, user(email="ada@example.edu"))
    second = provisioning.provision(pgw, host, user())
    with pgw.db.begin() as session:
        rows = [session.get(HostUser, r.user_id) for r in (first, second)]
    domain = pgw.settings["GATEWAY_EMAIL_DOMAIN"]
    for row in rows:
        assert accounts.is_gateway_address(row.cocalc_email)
        assert row.cocalc_email.endswith("@" + domain)
        assert sim.account(row.account_id)["email_address"] == row.cocalc_email
    assert rows[0].email == "ada@example.edu" and rows[1].email is None
    assert rows[0].cocalc_email != rows[1].cocalc_email


@pytest.mark.parametrize(
    ("profile", "context"),
    [
        (UserProfile(""), ""),
        (UserProfile("x" * 256), ""),
        (UserProfile("a\x00b"), ""),
        (UserProfile("ok", email="not-an-email"), ""),
        (UserProfile("ok"), "c" * 256),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(pgw, host, sim, profile, context):
    with pytest.raises(BadRequest):
        provisioning.provision(pgw, host, profile, context)
    assert count(pgw, HostUser) == 0 and sim.total_calls() == 0


def age_waiting_tokens(gw, user_id: int, life: timedelta) -> None:
    """The user's waiting tokens have only ``life`` left (less than the margin: stale)."""
    with gw.db.begin() as session:
        for model in (SpareToken, CachedToken):
            session.execute(
                update(model).where(model.user_id == user_id).values(expires_at=utcnow() + life)
            )


def test_stale_token_is_refreshed(pgw, host, sim):
    profile = user()
    first = provisioning.provision(pgw, host, profile)
    age_waiting_tokens(pgw, first.user_id, timedelta(seconds=30))
    sim.reset()
    ready = provisioning.provision(pgw, host, profile)
    token_call = sim.endpoint("user_auth", "system.generateUserAuthToken")
    if not tokens.revocation_enabled(pgw):
        assert sim.calls() == {token_call: 1}
        return
    # With revocation each page takes a token for itself: the user is ready without one,
    # and the page never gets the stale one.
    assert sim.calls() == {}
    stale = waiting_token(pgw, ready.user_id)
    assert tokens.for_page(pgw, ready.user_id).token != stale
    assert sim.calls() == {token_call: 2}  # the page's own, and the refill's usable spare
    assert tokens._spares(pgw, ready.user_id) == 1  # the stale one does not count


def test_a_margin_longer_than_tokens_live_asks_for_a_bounded_number(pgw, host, sim):
    """A misconfigured margin makes every new token stale at once: a refill still stops."""
    ready = provisioning.provision(pgw, host, user())
    if not tokens.revocation_enabled(pgw):
        return
    pgw.settings["GATEWAY_TOKEN_MARGIN"] = 25 * 3600  # tokens live 24 hours
    sim.reset()
    tokens.for_page(pgw, ready.user_id)
    token_call = sim.endpoint("user_auth", "system.generateUserAuthToken")
    assert sim.calls() == {token_call: 2}  # the page's own, and one refill that stops


def test_secrets_are_not_readable_in_the_database_file(sim, sqlite_url, tmp_path):
    app = make_app(sim, sqlite_url)
    gw = app.extensions["gateway"]
    host, secret = hosts.add(gw, "Course", [])
    result = provisioning.provision(gw, host, user())
    with gw.db.begin() as session:
        password = gw.box.decrypt(session.get(HostUser, result.user_id).password_encrypted)
    token = waiting_token(gw, result.user_id)
    gw.db.dispose()  # checkpoint the WAL into the file
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("gateway.sqlite3*"))
    assert len(password) >= 40
    for value in (password, token, secret):
        assert value.encode() not in raw


def test_key_rotation(sim, sqlite_url, runner_factory=None):
    old = SecretBox.generate_key()
    app = make_app(sim, sqlite_url, GATEWAY_ENCRYPTION_KEYS=old)
    gw = app.extensions["gateway"]
    host, secret = hosts.add(gw, "Course", [])
    provisioning.provision(gw, host, user())
    from gateway.store.rotation import ENCRYPTED
    from gateway.store.sso_tables import SsoProvider
    from gateway.ways_in.lti import tool_keys

    with app.app_context():
        tool_keys.current(gw)  # the LTI tool's first key, encrypted
    with gw.db.begin() as session:  # an SSO provider's client secret, as `sso add` keeps it
        session.add(
            SsoProvider(
                id="sso_rotation",
                host_id=host.id,
                issuer="https://idp.example.edu",
                client_id="c",
                client_secret_encrypted=gw.box.encrypt("client-secret"),
                scope="openid",
                endpoints={},
            )
        )
    new = SecretBox.generate_key()
    rotated = make_app(sim, sqlite_url, GATEWAY_ENCRYPTION_KEYS=f"{new},{old}")
    outcome = rotated.test_cli_runner().invoke(args=["keys", "rotate"])
    assert outcome.exit_code == 0, outcome.output
    counts = json.loads(outcome.output)
    assert counts["host_users"] == 1 and counts["lti_tool_keys"] == 1
    assert counts["sso_providers"] == 1
    only_new = make_app(sim, sqlite_url, GATEWAY_ENCRYPTION_KEYS=new).extensions["gateway"]
    assert hosts.signing_key(only_new, hosts.get(only_new, host.id)) == secret.encode()
    with only_new.db.begin() as session:  # every encrypted value reads with the new key alone
        for model, column in ENCRYPTED:
            for value in session.scalars(select(getattr(model, column))):
                if value is not None:
                    only_new.box.decrypt(value)


def test_warm_launch_starts_a_stopped_project_in_the_background(pgw, host, sim):
    import requests

    profile = user()
    first = provisioning.provision(pgw, host, profile)
    requests.post(f"{sim.url}/_sim/projects/{first.project_id}/stop", timeout=5)
    assert sim.project(first.project_id)["running"] is False
    pgw.settings["GATEWAY_PROJECT_START_INTERVAL"] = 0  # every launch finds it stale
    sim.reset()
    again = provisioning.provision(pgw, host, profile)
    assert not again.did_work
    concurrency.wait_idle()
    assert sim.project(first.project_id)["running"] is True
    assert sim.calls() == {sim.endpoint("project_exec", "projects.start"): 1}


def test_a_lost_reply_to_a_project_creation_makes_no_second_project(pgw, host, sim):
    """The intent is written first; the retry finds the project made for it."""
    profile = user()
    endpoint = sim.endpoint("create_project", "projects.createProject")
    sim.fault(endpoint, "lose_reply")
    with pytest.raises(CoCalcUnavailable):
        provisioning.provision(pgw, host, profile)
    sim.reset()
    result = provisioning.provision(pgw, host, profile)
    with pgw.db.begin() as session:
        key = session.get(UserProject, result.user_project_id).creation_key
    marked = [p for p in sim.projects() if key in p["description"] or p["project_id"] == key]
    assert [p["project_id"] for p in marked] == [result.project_id]
    assert sim.calls().get(endpoint, 0) <= 1  # v1 asks first; current repeats the chosen id
    assert sim.project(result.project_id)["collaborators"] == [result.account_id]
