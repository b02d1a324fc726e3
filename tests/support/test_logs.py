"""Logs: JSON lines with request ids, and no secret in any line, gunicorn's included."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest
import requests

from gateway import hosts
from gateway.dev.devserver import ThreadedServer
from gateway.support import logs
from tests.launching import mint


def test_access_log_redacts_launch_tokens(app, host):
    stream = io.StringIO()
    handler = logs.configure("text", stream)
    server = ThreadedServer(app, access_log=True).start()
    try:
        token = mint(host.id, host.secret)
        reply = requests.get(
            f"{server.url}/launch", params={"token": token}, allow_redirects=False, timeout=10
        )
        assert reply.status_code == 303
        page = reply.headers["Location"].removeprefix("http://127.0.0.1")
        requests.get(server.url + page, timeout=10)
    finally:
        server.stop()
        logging.getLogger().removeHandler(handler)
    output = stream.getvalue()
    assert "GET /launch?token=[redacted]" in output
    assert token not in output and token.split(".")[2] not in output
    assert reply.headers["Location"] not in output and "/embed/[redacted]" in output


def test_gunicorn_access_log_is_redacted():
    from types import SimpleNamespace

    from gunicorn.config import Config

    config = Config()
    # The default fields, plus the query and a header someone might choose to log.
    config.set("access_log_format", config.access_log_format + ' %(q)s "%({Authorization}i)s"')
    logger = logs.GunicornLogger(config)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/launch?token=eyJabc.eyJdef.sig",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/launch",
        "QUERY_STRING": "token=eyJabc.eyJdef.sig",
    }
    response = SimpleNamespace(status="303 See Other", headers=[], sent=0)
    request = SimpleNamespace(headers=[("AUTHORIZATION", "Bearer hs_topsecret")])
    atoms = logger.atoms(response, request, environ, timedelta(seconds=0))
    assert "sig" not in atoms["r"] and "sig" not in atoms["q"]
    assert "hs_topsecret" not in atoms["{authorization}i"]
    from gunicorn.glogging import SafeAtoms

    line = config.access_log_format % SafeAtoms(atoms)
    assert "Bearer [redacted]" in line and "sig" not in line and "hs_topsecret" not in line


def test_json_logs_carry_request_ids_to_cocalc(app, host_and_secret, sim):
    stream = io.StringIO()
    handler = logs.configure("json", stream)
    try:
        host, secret = host_and_secret
        sim.fault(sim.endpoint("create_project", "projects.createProject"), "error")
        reply = app.test_client().post(
            "/launch", data={"token": mint(host.id, secret)}, headers={"X-Request-Id": "req-12345"}
        )
        assert reply.headers["X-Request-Id"] == "req-12345"
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    failed = [e for e in lines if "CoCalc call failed" in e["message"]]
    assert failed and failed[0]["request_id"] == "req-12345"
    assert all({"time", "level", "logger", "message", "request_id"} <= set(e) for e in lines)


@pytest.fixture
def host_and_secret(gw):
    return hosts.add(gw, "Course", ["https://lms.example.edu"])


def test_redaction():
    text = (
        "GET /launch?token=eyJa.eyJb.c auth_token=abc123 Bearer hs_secret sk_live_123456 "
        "/embed/ABCDEFGHIJKLMNOPQRSTUVWX password=hunter2"
    )
    redacted = logs.redact(text)
    for secret in (
        "eyJa.eyJb.c",
        "abc123",
        "hs_secret",
        "sk_live_123456",
        "ABCDEFGHIJKLMNOP",
        "hunter2",
    ):
        assert secret not in redacted


def test_redaction_of_encoded_tokens_and_oauth_callbacks():
    """A token inside another URL (a redirect's ?target=), an OAuth code and state, and an
    SSO notebook page's key are redacted too."""
    text = (
        "GET /static/app.html?target=%2Fp%2Fa.md%3Fauth_token%3DOlwy7T9BLIMlnLyp%26fullscreen "
        "GET /sso/callback?code=Zx81kq0&state=Qm2nVb7 /sso/notebook/ABCDEFGHIJKLMNOPQRSTUVWX"
    )
    redacted = logs.redact(text)
    for secret in ("Olwy7T9BLIMlnLyp", "Zx81kq0", "Qm2nVb7", "ABCDEFGHIJKLMNOP"):
        assert secret not in redacted
    assert "%26fullscreen" in redacted  # only the value goes
