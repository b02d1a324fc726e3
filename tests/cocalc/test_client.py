"""The CoCalc client against the simulator over real HTTP: every success shape and failure."""

from __future__ import annotations

import socket
import uuid

import pytest
import requests

from gateway.cocalc import (
    AccountCreationFailed,
    CoCalcAPIError,
    CoCalcConnector,
    CoCalcProtocolError,
    CoCalcRequestRejected,
    CoCalcTimeout,
    CoCalcUnavailable,
)
from gateway.cocalc.types import Account, AuthToken, Project

PASSWORD = "Kq7-vX2p!mW9zR4t"


def client_for(sim, key=None, **options):
    options = {"timeout": 1.0, "retries": 1, **options}
    return CoCalcConnector(sim.url, key or sim.admin_key, dialect=sim.dialect, **options).client


def new_email():
    return f"user-{uuid.uuid4().hex[:12]}@example.edu"


@pytest.fixture
def cocalc(sim):
    return client_for(sim)


def make_account(cocalc, email=None):
    return cocalc.create_account(
        first_name="Ada", last_name="Lovelace", email=email or new_email(), password=PASSWORD
    )


def test_ping(cocalc):
    assert cocalc.ping().now


def test_account_project_collaborator_token(cocalc, sim):
    account = make_account(cocalc)
    assert isinstance(account, Account) and uuid.UUID(account.account_id)
    project = cocalc.create_project(title="Course", start=True)
    assert isinstance(project, Project)
    cocalc.invite_collaborator(project.project_id, account.account_id)
    info = sim.project(project.project_id)
    assert account.account_id in info["collaborators"]
    assert info["running"] is True
    token = cocalc.user_auth(account.account_id, PASSWORD)
    assert isinstance(token, AuthToken)
    assert len(token.token) == 24 and token.token.isalnum()
    assert token.token not in repr(token)
    cocalc.remove_collaborator(project.project_id, account.account_id)
    assert account.account_id not in sim.project(project.project_id)["collaborators"]


def test_email_taken_is_typed(cocalc):
    email = new_email()
    make_account(cocalc, email)
    with pytest.raises(AccountCreationFailed) as failure:
        cocalc.create_account(first_name="A", last_name="B", email=email, password=PASSWORD + "x")
    assert failure.value.email_taken
    assert failure.value.fields in (["email_address"], ["email"])


def test_a_repeated_sign_up_leaves_no_cookie_in_the_client(simulators):
    """Current CoCalc signs the caller in when the e-mail and password match an account;
    a client that kept that cookie would act as that user on every REST call after."""
    sim = simulators["current"]
    cocalc = client_for(sim)
    email = new_email()
    first = make_account(cocalc, email)
    assert make_account(cocalc, email).account_id == first.account_id  # signed in, cookies set
    assert len(cocalc.transport.session.cookies) == 0
    other = make_account(cocalc)  # still the admin's key: sign-up works
    assert other.account_id != first.account_id
    project = cocalc.create_project(title="t").project_id
    source = cocalc.create_project(title="s").project_id
    cocalc.write_text_file_to_project(source, "a.md", "A")
    cocalc.copy_path_between_projects(
        src_project_id=source, src_path="a.md", target_project_id=project
    )
    assert sim.project(project)["files"] == {"a.md": "A"}


def test_password_rule_is_typed(cocalc):
    with pytest.raises(AccountCreationFailed) as failure:
        cocalc.create_account(first_name="A", last_name="B", email=new_email(), password="abc")
    assert failure.value.fields == ["password"]
    assert not failure.value.email_taken
    assert not failure.value.retryable


def test_user_search_finds_exact_email(cocalc):
    email = new_email()
    account = make_account(cocalc, email)
    assert cocalc.find_account_by_email(email.upper()) == account.account_id
    assert cocalc.find_account_by_email(new_email()) is None


def test_wrong_password(cocalc, sim):
    """API v1 refuses a wrong password even from an admin; the current API's admin token
    call never checks one (so a token proves nothing about who made the account)."""
    account = make_account(cocalc)
    if sim.dialect == "v1":
        with pytest.raises(CoCalcAPIError, match="incorrect password"):
            cocalc.user_auth(account.account_id, "not-the-password")
    else:
        assert cocalc.user_auth(account.account_id, "not-the-password").token
    user = CoCalcConnector(sim.url, sim.user_key, dialect=sim.dialect).client
    with pytest.raises(CoCalcAPIError, match="incorrect password"):
        user.user_auth(account.account_id, "not-the-password")
    with pytest.raises(CoCalcAPIError, match="wait"):  # the pair is banned for a while
        user.user_auth(account.account_id, PASSWORD)


def test_write_and_copy_files(cocalc, sim):
    source = cocalc.create_project(title="template").project_id
    target = cocalc.create_project(title="copy").project_id
    cocalc.write_text_file_to_project(source, "course/intro.md", "# Intro")
    started = cocalc.copy_path_between_projects(
        src_project_id=source, src_path="course", target_project_id=target
    )
    assert started.copy_path_id is None
    assert sim.project(target)["files"] == {"course/intro.md": "# Intro"}


def test_v1_only_operations(simulators):
    sim = simulators["v1"]
    cocalc = client_for(sim)
    project = cocalc.create_project(title="p").project_id
    cocalc.write_text_file_to_project(project, "a.txt", "hello")
    assert cocalc.read_text_file_from_project(project, "a.txt").content == "hello"
    output = cocalc.project_exec(project, "echo", args=["x", "y"])
    assert (output.stdout, output.exit_code) == ("x y\n", 0)
    sim.configure(copy_reply="async")
    try:
        other = cocalc.create_project(title="q").project_id
        started = cocalc.copy_path_between_projects(
            src_project_id=project, src_path="a.txt", target_project_id=other
        )
        assert started.copy_path_id
        status = cocalc.copy_path_status(started.copy_path_id)
        assert status.started
    finally:
        sim.reset()


def test_exec_in_both_dialects(simulators):
    """``/api/v2/exec`` (current) and ``project_exec`` (v1) run a command in a project."""
    for sim in simulators.values():
        cocalc = client_for(sim)
        project = cocalc.create_project(title="p").project_id
        output = cocalc.project_exec(project, "echo", args=["x", "y"])
        assert (output.stdout, output.exit_code) == ("x y\n", 0)
        with pytest.raises(CoCalcAPIError):
            cocalc.project_exec(str(uuid.uuid4()), "ls")  # not a project of the gateway's


def test_revoke_token_current(simulators):
    import requests

    sim = simulators["current"]
    cocalc = client_for(sim)
    account = make_account(cocalc)
    token = cocalc.user_auth(account.account_id, PASSWORD).token
    assert cocalc.revoke_token(token) is True
    page = requests.get(f"{sim.url}/auth/impersonate", params={"auth_token": token}, timeout=5)
    assert "unknown or expired token" in page.text


def test_browser_sign_in_urls(simulators):
    project_id = str(uuid.uuid4())
    v1 = client_for(simulators["v1"]).browser_sign_in("T" * 24, project_id, "dir one/a b.md")
    assert v1.sign_in_url is None
    assert v1.kiosk_url == (
        f"{simulators['v1'].url}/projects/{project_id}/files/dir%20one/a%20b.md"
        f"?auth_token={'T' * 24}&fullscreen=kiosk&session="
    )
    current = client_for(simulators["current"]).browser_sign_in("T" * 24, project_id, "x.md")
    assert current.kiosk_url.endswith(
        f"/projects/{project_id}/files/x.md?fullscreen=kiosk&session="
    )
    assert "auth_token" not in current.kiosk_url
    assert current.sign_in_url.endswith(f"/auth/impersonate?auth_token={'T' * 24}")


# -- failures ------------------------------------------------------------------------------------
def test_proxy_html_page_is_unavailable(cocalc, sim):
    sim.fault(sim.endpoint("create_project", "projects.createProject"), "html502")
    with pytest.raises(CoCalcUnavailable) as failure:
        cocalc.create_project(title="x")
    assert failure.value.status == 502 and failure.value.retryable


def test_error_reply_with_http_200(cocalc, sim):
    sim.fault(sim.endpoint("create_project", "projects.createProject"), "error")
    with pytest.raises(CoCalcAPIError) as failure:
        cocalc.create_project(title="x")
    assert "simulated failure" in str(failure.value)
    assert not failure.value.retryable


def test_invalid_json_is_a_protocol_error(cocalc, sim):
    sim.fault(sim.endpoint("ping", "system.ping"), "garbage", count=5)
    with pytest.raises(CoCalcProtocolError):
        cocalc.ping()


def test_timeout(sim):
    cocalc = client_for(sim, timeout=0.3, retries=0)
    sim.fault(sim.endpoint("ping", "system.ping"), "timeout")
    with pytest.raises(CoCalcTimeout):
        cocalc.ping()


def test_dropped_connection(cocalc, sim):
    sim.fault(sim.endpoint("create_project", "projects.createProject"), "drop")
    with pytest.raises(CoCalcUnavailable):
        cocalc.create_project(title="x")


def test_connection_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    connector = CoCalcConnector(
        f"http://127.0.0.1:{port}", "sk_x", dialect="v1", timeout=0.5, retries=2
    )
    connector.client.transport.backoff = 0.01
    with pytest.raises(CoCalcUnavailable) as failure:
        connector.client.create_project(title="x")
    assert failure.value.never_sent is True


def test_bad_key(sim):
    cocalc = client_for(sim, key="sk_not_a_key")
    expected = CoCalcRequestRejected if sim.dialect == "v1" else CoCalcAPIError
    with pytest.raises(expected) as failure:
        cocalc.ping()
    assert "sk_not_a_key" not in str(failure.value)


def test_safe_calls_are_retried(cocalc, sim):
    endpoint = sim.endpoint("ping", "system.ping")
    sim.fault(endpoint, "html502", count=1)
    assert cocalc.ping().now
    assert sim.calls()[endpoint] == 2


def test_creating_calls_are_never_retried(sim):
    cocalc = client_for(sim, retries=3)
    endpoint = sim.endpoint("create_account", "v2/auth/sign-up")
    sim.fault(endpoint, "html502", count=1)
    with pytest.raises(CoCalcUnavailable):
        make_account(cocalc)
    assert sim.calls()[endpoint] == 1


def test_key_never_in_reprs_or_errors(sim):
    cocalc = client_for(sim)
    sim.fault(sim.endpoint("ping", "system.ping"), "error", count=5)
    with pytest.raises(CoCalcAPIError) as failure:
        cocalc.ping()
    for text in (repr(cocalc), repr(cocalc.transport), str(failure.value), repr(failure.value)):
        assert sim.admin_key not in text


def test_auto_detects_dialect(sim):
    connector = CoCalcConnector(sim.url, sim.admin_key, dialect="auto", timeout=1.0)
    assert connector.wait_for_client(10).dialect == sim.dialect


def test_a_v1_era_server_whose_hub_path_answers_500_is_found_as_v1(simulators):
    """The v1-era build answers ``/api/conat/hub`` with a Next.js 500 page: that is an
    answer (no current API here), not an outage, and the v1 probe still runs."""
    v1 = simulators["v1"]
    hub = requests.post(v1.url + "/api/conat/hub", json={"name": "system.ping"}, timeout=5)
    assert hub.status_code == 500 and "text/html" in hub.headers["Content-Type"]
    connector = CoCalcConnector(v1.url, v1.admin_key, dialect="auto", timeout=1.0)
    assert connector.detect() == "v1"


def test_the_dialects_are_one_table():
    from gateway.cocalc.dialects import DIALECTS, UnknownDialect
    from gateway.cocalc.transport import FAILURES_IN_200
    from gateway.config.table import SETTINGS

    choices = next(s.choices for s in SETTINGS if s.name == "COCALC_API_DIALECT")
    assert set(choices) == {"auto", *DIALECTS} and set(FAILURES_IN_200) == set(DIALECTS)
    for name, dialect in DIALECTS.items():
        client = CoCalcConnector("http://127.0.0.1:9", "sk_x", dialect=name).client
        assert client.dialect == name == dialect.name
    with pytest.raises(UnknownDialect):
        CoCalcConnector("http://127.0.0.1:9", "sk_x", dialect="v2")  # never "current" quietly


def test_auto_detection_of_a_non_cocalc_server(tmp_path):
    from flask import Flask

    from gateway.dev.devserver import ThreadedServer

    server = ThreadedServer(Flask("not_cocalc")).start()
    try:
        connector = CoCalcConnector(server.url, "sk_x", dialect="auto", timeout=1.0)
        with pytest.raises(CoCalcProtocolError, match="neither API v1 nor the current API"):
            connector.detect()
        with pytest.raises(CoCalcUnavailable, match="neither API v1 nor the current API"):
            connector.wait_for_client(3)
    finally:
        server.stop()


def test_the_probe_never_holds_up_a_caller(simulators):
    """A cold current server answers /api/v1/ping with a slow, large 404 page; the probe
    asks the hub first, has a short timeout of its own, and nobody waits for it."""
    import time

    sim = simulators["current"]
    sim.configure(v1_ping_delay_ms=4000, latency_ms=300)
    try:
        connector = CoCalcConnector(
            sim.url, sim.admin_key, dialect="auto", timeout=5.0, probe_timeout=2.0
        )
        connector.start()
        began = time.monotonic()
        with pytest.raises(CoCalcUnavailable, match="not known yet"):
            _ = connector.client
        assert time.monotonic() - began < 0.1  # no waiting on the probe's lock
        assert connector.wait_for_client(5).dialect == "current"
        assert sim.calls() == {"system.ping": 1}  # the slow v1 ping was never needed
    finally:
        sim.reset()


def test_a_remembered_dialect_needs_no_probe(sim):
    from gateway.cocalc import DialectMemory

    saved = []
    memory = DialectMemory(load=lambda: sim.dialect, save=saved.append)
    connector = CoCalcConnector("http://127.0.0.1:9", "sk_x", dialect="auto", memory=memory)
    connector.start()
    assert connector.client.dialect == sim.dialect  # known at once, CoCalc not even reachable
    found = CoCalcConnector(
        sim.url,
        sim.admin_key,
        dialect="auto",
        memory=DialectMemory(load=lambda: None, save=saved.append),
    )
    assert found.wait_for_client(10).dialect == sim.dialect and saved == [sim.dialect]


def test_the_proxy_settings_of_the_environment_are_honoured(sim, monkeypatch):
    """Read once when the client is made (not on every call), but read."""
    for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", sim.url)  # the simulator answers absolute URLs too
    assert client_for(sim.__class__("http://cocalc.invalid", sim.dialect), sim.admin_key).ping()
    monkeypatch.setenv("no_proxy", "cocalc.invalid")
    bypassing = client_for(sim.__class__("http://cocalc.invalid", sim.dialect), sim.admin_key)
    with pytest.raises(CoCalcUnavailable):
        bypassing.ping()  # straight to a name that does not resolve
