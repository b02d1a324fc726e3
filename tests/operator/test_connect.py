"""``cocalc-gateway connect``: an API key by signing in, in each dialect's own way."""

from __future__ import annotations

import secrets

import pytest
import requests
from click.testing import CliRunner

from gateway.cli import cli
from gateway.operator.connect import ConnectError, obtain_key
from tests.conftest import SIMULATOR_STATES


def state_of(sim):
    return next(s for s in SIMULATOR_STATES if s.url == sim.url)


def admin_account(sim) -> tuple[str, str]:
    email, password = f"op-{secrets.token_hex(4)}@example.edu", secrets.token_urlsafe(12)
    state_of(sim).add_account(email, admin=True, password=password)
    return email, password


def test_connect_gets_a_key_that_works(sim):
    email, password = admin_account(sim)
    got = obtain_key(sim.url, email, password)
    assert got.how == ("api-keys" if sim.dialect == "current" else "get_api_key")
    # The key is the signed-in account's own.
    assert state_of(sim).caller(got.api_key).email_address == email
    # And it works as that account's key: CoCalc searches users with it.
    path = "/api/v1/user_search" if sim.dialect == "v1" else "/api/conat/hub"
    body = (
        {"query": "nobody"}
        if sim.dialect == "v1"
        else {"name": "system.userSearch", "args": [{"query": "nobody"}]}
    )
    reply = requests.post(sim.url + path, auth=(got.api_key, ""), json=body, timeout=5)
    assert reply.status_code == 200 and "error" not in reply.text.lower()


def test_a_wrong_password_is_refused_clearly(sim):
    email, _ = admin_account(sim)
    with pytest.raises(ConnectError, match="refused the sign-in"):
        obtain_key(sim.url, email, "not-the-password")


def test_the_command_prompts_prints_settings_and_runs_the_doctor(sim, monkeypatch, tmp_path):
    email, password = admin_account(sim)
    for name in ("COCALC_URL", "COCALC_API_KEY", "GATEWAY_SECRET_KEY", "GATEWAY_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["connect", "--url", sim.url], input=f"{email}\n{password}\n")
    assert result.exit_code == 0, result.output
    assert f"COCALC_URL={sim.url}" in result.output
    assert "COCALC_API_KEY=sk" in result.output
    assert password not in result.output
    assert "cocalc-gateway doctor" in result.output  # no gateway set up here: what next


def test_the_command_runs_the_doctor_when_the_gateway_is_set_up(sim, monkeypatch, blank_sqlite_url):
    email, password = admin_account(sim)
    monkeypatch.setenv("GATEWAY_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("GATEWAY_PUBLIC_URL", "http://127.0.0.1")
    monkeypatch.setenv("DATABASE_URL", blank_sqlite_url)
    monkeypatch.setenv("COCALC_API_DIALECT", sim.dialect)
    result = CliRunner().invoke(cli, ["connect", "--url", sim.url], input=f"{email}\n{password}\n")
    assert "[FAIL] database" in result.output  # not migrated: the doctor says so
    assert "[ok  ] api_key" in result.output
    assert result.exit_code == 1


@pytest.fixture
def thief():
    """Another site that records whatever reaches it."""
    from flask import Flask, request

    from gateway.dev.devserver import ThreadedServer

    app = Flask("thief")
    app.config["GOT"] = []

    @app.route("/<path:anything>", methods=["GET", "POST"])
    def anything(anything):
        app.config["GOT"].append((anything, request.get_data(as_text=True)))
        return "ok"

    server = ThreadedServer(app).start()
    yield server, app.config["GOT"]
    server.stop()


@pytest.fixture
def hostile_cocalc(thief):
    """A "CoCalc" whose sign-in redirects to the thief, and whose form posts there."""
    from flask import Flask, redirect

    from gateway.dev.devserver import ThreadedServer

    thief_server, _ = thief
    app = Flask("hostile")
    app.config["MODE"] = "redirect"

    @app.post("/api/v2/auth/sign-in")
    def sign_in():
        if app.config["MODE"] == "redirect":
            return redirect(thief_server.url + "/sign-in", 307)  # 307 keeps the body
        return "not here", 404

    @app.get("/app")
    def app_page():
        return f'<form method="post" action="{thief_server.url}/steal"></form>'

    server = ThreadedServer(app).start()
    yield server, app
    server.stop()


def test_the_password_never_follows_a_redirect(hostile_cocalc, thief):
    server, _ = hostile_cocalc
    _, got = thief
    with pytest.raises(ConnectError, match="redirect"):
        obtain_key(server.url, "op@example.edu", "secret-password")
    assert got == []


def test_the_password_goes_only_to_the_urls_own_site(hostile_cocalc, thief):
    server, app = hostile_cocalc
    _, got = thief
    app.config["MODE"] = "v1"
    with pytest.raises(ConnectError, match="goes only to --url's own site"):
        obtain_key(server.url, "op@example.edu", "secret-password")
    assert got == []


def test_plain_http_elsewhere_is_refused_before_anything_is_sent():
    with pytest.raises(ConnectError, match="must be https"):
        obtain_key("http://cocalc.example.edu", "op@example.edu", "secret-password")
