"""Both ways in (signed launch tokens, the server-to-server API) and the embed page."""

from __future__ import annotations

import io
import logging
import re
import time
from datetime import timedelta
from html import unescape

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import func, select, update

from gateway import hosts
from gateway.dev.devserver import ThreadedServer
from gateway.store.models import HostUser, Launch, UsedTokenId, UserProject, utcnow
from gateway.support import concurrency, logs
from tests.conftest import make_app
from tests.launching import mint, unsigned

HOST_ORIGIN = "https://lms.example.edu"


@pytest.fixture
def host(gw):
    host, secret = hosts.add(gw, "Course", [HOST_ORIGIN, "https://other.example.org"])
    host.secret = secret
    return host


def rows(gw, model):
    with gw.db.begin() as session:
        return session.scalar(select(func.count()).select_from(model))


def launch(client, token):
    return client.post("/launch", data={"token": token})


def iframe_src(html: str, element_id: str, attribute: str = "src") -> str:
    match = re.search(rf'<iframe id="{element_id}"[^>]*?\s{attribute}="([^"]*)"', html, re.S)
    return unescape(match.group(1)) if match else None


def test_post_launch_redirects_to_the_embed_page(client, host, gw, sim):
    token = mint(host.id, host.secret, path="work/my notes.md")
    reply = launch(client, token)
    assert reply.status_code == 303
    location = reply.headers["Location"]
    assert re.fullmatch(r"/embed/[A-Za-z0-9_-]{43}", location)
    page = client.get(location)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    with gw.db.begin() as session:
        user = session.scalar(select(HostUser))
        launch_row = session.scalar(select(Launch))
    token_text = gw.box.decrypt(launch_row.token_encrypted)
    with gw.db.begin() as session:
        project_id = session.scalar(select(UserProject.project_id))
    kiosk = f"{sim.url}/projects/{project_id}/files/work/my%20notes.md"
    if sim.dialect == "v1":
        assert iframe_src(html, "cocalc") == (
            f"{kiosk}?auth_token={token_text}&fullscreen=kiosk&session="
        )
    else:
        assert iframe_src(html, "cocalc-sign-in", "data-src") == (
            f"{sim.url}/auth/impersonate?auth_token={token_text}"
        )
        assert iframe_src(html, "cocalc", "data-src") == f"{kiosk}?fullscreen=kiosk&session="
    # the token appears in exactly one iframe URL and nowhere else in the page
    assert html.count(token_text) == 1
    assert user.account_id


def test_get_launch_works_for_iframe_src_hosts(client, host):
    reply = client.get("/launch", query_string={"token": mint(host.id, host.secret)})
    assert reply.status_code == 303 and reply.headers["Location"].startswith("/embed/")


def test_embed_page_headers(client, host, sim):
    page = client.get(launch(client, mint(host.id, host.secret)).headers["Location"])
    csp = page.headers["Content-Security-Policy"]
    assert f"frame-ancestors {HOST_ORIGIN} https://other.example.org" in csp
    assert f"frame-src {sim.url}" in csp
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    html = page.get_data(as_text=True)
    assert 'referrerpolicy="no-referrer"' in html
    assert 'allow="clipboard-read; clipboard-write; fullscreen"' in html
    assert "Set-Cookie" not in page.headers


def test_other_pages_cannot_be_framed(client):
    for path in ("/", "/healthz", "/launch", "/embed/nope"):
        assert "frame-ancestors 'none'" in client.get(path).headers["Content-Security-Policy"]


def test_warm_launch_makes_no_cocalc_call(client, host, sim):
    """A returning user's launch never waits on CoCalc; with revocation (current API) the
    page took the spare token, and the next spare is fetched in the background."""
    token_claims = {"sub": "returning-user"}
    location = launch(client, mint(host.id, host.secret, **token_claims)).headers["Location"]
    client.post(f"{location}/signed-in")  # what the page's script does once signed in
    concurrency.wait_idle()
    sim.reset()
    sim.configure(latency_ms=1500)
    began = time.monotonic()
    reply = launch(client, mint(host.id, host.secret, **token_claims))
    assert reply.status_code == 303
    assert client.get(reply.headers["Location"]).status_code == 200
    assert time.monotonic() - began < 1.0  # no CoCalc call on the way
    concurrency.wait_idle()
    expected = {} if sim.dialect == "v1" else {"system.generateUserAuthToken": 1}
    assert sim.calls() == expected


# -- bad launch tokens: a clear 4xx, nothing provisioned, database unchanged ---------------
def _bad_tokens(host_id, secret):
    now = int(time.time())
    rsa = RSAKey.generate_key(2048)
    return {
        "expired": (401, mint(host_id, secret, iat=now - 900, exp=now - 300)),
        "bad signature": (401, mint(host_id, "hs_" + "x" * 43)),
        "alg none": (401, unsigned(host_id)),
        "RS256 instead of HS256": (
            401,
            jwt.encode(
                {"alg": "RS256"}, {"iss": host_id, "sub": "u", "jti": "j", "exp": now + 60}, rsa
            ),
        ),
        "unknown issuer": (401, mint("host_unknown", secret)),
        "no issuer": (401, mint(host_id, secret, iss=None)),
        "missing sub": (400, mint(host_id, secret, sub=None)),
        "missing jti": (400, mint(host_id, secret, jti=None)),
        "missing exp": (400, mint(host_id, secret, exp=None)),
        "exp too far ahead": (400, mint(host_id, secret, exp=now + 3600)),
        "over 8 KB": (400, mint(host_id, secret, padding="x" * 9000)),
        "absolute path": (400, mint(host_id, secret, path="/etc/passwd")),
        "dot-dot path": (400, mint(host_id, secret, path="work/../../secret")),
        "NUL in path": (400, mint(host_id, secret, path="a\x00b")),
        "control character in path": (400, mint(host_id, secret, path="a\x1bb")),
        "long context": (400, mint(host_id, secret, context="c" * 256)),
        "long user id": (400, mint(host_id, secret, sub="u" * 256)),
        "not a JWT": (401, "hello.world"),
        "empty": (400, ""),
    }


BAD_TOKEN_CASES = list(_bad_tokens("h", "s"))


@pytest.mark.parametrize("case", BAD_TOKEN_CASES)
def test_bad_launch_tokens(client, host, gw, sim, case):
    status, token = _bad_tokens(host.id, host.secret)[case]
    reply = launch(client, token)
    assert reply.status_code == status, reply.get_data(as_text=True)
    body = reply.get_data(as_text=True)
    assert "<h1>" in body and "Traceback" not in body
    assert rows(gw, HostUser) == 0 and rows(gw, UsedTokenId) == 0
    assert sim.total_calls() == 0


def test_bad_token_as_json(client, host):
    reply = client.post("/launch", data={"token": "nope"}, headers={"Accept": "application/json"})
    assert reply.status_code == 401
    assert reply.get_json()["error"]["code"] == "unauthorized"


def test_a_token_works_once(client, host, gw):
    token = mint(host.id, host.secret)
    assert launch(client, token).status_code == 303
    second = launch(client, token)
    assert second.status_code == 401
    assert "already been used" in second.get_data(as_text=True)
    assert rows(gw, HostUser) == 1


# -- CoCalc trouble: 502/503/504 with a retry, and the same token can be retried -------------------
@pytest.mark.parametrize(
    ("mode", "status"), [("html502", 503), ("timeout", 504), ("error", 502), ("drop", 503)]
)
def test_cocalc_failures_give_a_clear_page(sim, sqlite_url, mode, status):
    app = make_app(sim, sqlite_url, COCALC_TIMEOUT=0.5, COCALC_RETRIES=0)
    gw = app.extensions["gateway"]
    host, secret = hosts.add(gw, "Course", [HOST_ORIGIN])
    client = app.test_client()
    sim.fault(sim.endpoint("create_account", "v2/auth/sign-up"), mode)
    token = mint(host.id, secret)
    reply = launch(client, token)
    assert reply.status_code == status
    html = reply.get_data(as_text=True)
    assert "CoCalc" in html and 'id="retry"' in html
    for secret_text in (sim.admin_key, secret):
        assert secret_text not in html and secret_text not in str(reply.headers)
    sim.reset()
    assert launch(client, token).status_code == 303  # the retry with the same token works
    app.extensions["db"].dispose()


# -- the server-to-server API ----------------------------------------------------------------------
def api(client, secret, body, **headers):
    return client.post(
        "/api/v1/launches", json=body, headers={"Authorization": f"Bearer {secret}", **headers}
    )


def test_api_launch_and_one_time_url(client, host, sim):
    reply = api(
        client,
        host.secret,
        {
            "user": {"id": "42", "email": "ada@example.edu", "first_name": "Ada", "last_name": "L"},
            "path": "intro.md",
            "context": "course-1",
        },
    )
    assert reply.status_code == 201
    body = reply.get_json()
    assert set(body) == {"url", "expires_at", "account_id", "project_id"}
    assert sim.project(body["project_id"])["collaborators"] == [body["account_id"]]
    path = body["url"].removeprefix("http://localhost")
    first = client.get(path)
    assert first.status_code == 303 and first.headers["Location"].startswith("/embed/")
    second = client.get(path)
    assert second.status_code == 410


def test_api_launch_url_expires(client, host, gw):
    body = api(client, host.secret, {"user": {"id": "7"}}).get_json()
    with gw.db.begin() as session:
        session.execute(update(Launch).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get(body["url"].removeprefix("http://localhost")).status_code == 410


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, {"user": {"id": "1"}}, 401),
        ({"Authorization": "Bearer hs_wrong"}, {"user": {"id": "1"}}, 401),
        ({"Authorization": "Basic abc"}, {"user": {"id": "1"}}, 401),
        (None, ["not", "an", "object"], 400),
        (None, {"user": {}}, 400),
        (None, {"user": {"id": 5}}, 400),
        (None, {"user": "bob"}, 400),
        (None, {"user": {"id": "1"}, "path": "../x"}, 400),
        (None, {"user": {"id": "1"}, "context": "c" * 256}, 400),
        (None, {"user": {"id": "u" * 256}}, 400),
        (None, {"user": {"id": "1", "email": "nope"}}, 400),
    ],
)
def test_api_bad_requests(client, host, gw, sim, headers, body, status):
    headers = {"Authorization": f"Bearer {host.secret}"} if headers is None else headers
    reply = client.post("/api/v1/launches", json=body, headers=headers)
    assert reply.status_code == status
    assert reply.get_json()["error"]["message"]
    assert rows(gw, HostUser) == 0 and sim.total_calls() == 0


def test_api_needs_json(client, host):
    reply = client.post(
        "/api/v1/launches", data="user=1", headers={"Authorization": f"Bearer {host.secret}"}
    )
    assert reply.status_code == 400


def test_api_unknown_route_is_json_404(client):
    reply = client.get("/api/v1/nothing")
    assert reply.status_code == 404 and reply.get_json()["error"]["code"] == "http_404"


# -- embed page lifetime, revocation, proxies, logs ------------------------------------------------
def test_embed_page_expires(client, host, gw):
    location = launch(client, mint(host.id, host.secret)).headers["Location"]
    with gw.db.begin() as session:
        session.execute(update(Launch).values(expires_at=utcnow() - timedelta(seconds=1)))
    page = client.get(location)
    assert page.status_code == 410
    assert "expired" in page.get_data(as_text=True)


def test_embed_lifetime_setting(sim, sqlite_url):
    app = make_app(sim, sqlite_url, GATEWAY_EMBED_LIFETIME=120)
    gw = app.extensions["gateway"]
    host, secret = hosts.add(gw, "Course", [HOST_ORIGIN])
    app.test_client().post("/launch", data={"token": mint(host.id, secret)})
    with gw.db.begin() as session:
        expires = session.scalar(select(Launch.expires_at).where(Launch.kind == "embed"))
    assert timedelta(seconds=100) < expires - utcnow() <= timedelta(seconds=120)
    concurrency.wait_idle()
    app.extensions["db"].dispose()


def test_current_dialect_revokes_the_token_after_sign_in(simulators, sqlite_url):
    sim = simulators["current"]
    sim.reset()
    app = make_app(sim, sqlite_url)
    gw = app.extensions["gateway"]
    host, secret = hosts.add(gw, "Course", [HOST_ORIGIN])
    client = app.test_client()
    location = launch(client, mint(host.id, secret, sub="r")).headers["Location"]
    html = client.get(location).get_data(as_text=True)
    sign_in = iframe_src(html, "cocalc-sign-in", "data-src")
    assert requests.get(sign_in, timeout=5).text.count("window.location") == 1  # token works
    assert client.post(f"{location}/signed-in").status_code == 204
    concurrency.wait_idle()
    assert "unknown or expired token" in requests.get(sign_in, timeout=5).text
    # the reloaded page no longer carries any token; the next launch found a refilled cache
    assert "auth_token" not in client.get(location).get_data(as_text=True)
    sim.reset()
    assert launch(client, mint(host.id, secret, sub="r")).status_code == 303
    assert sim.total_calls() == 0
    concurrency.wait_idle()
    app.extensions["db"].dispose()


def test_proxy_fix_builds_public_urls(sim, sqlite_url):
    app = make_app(sim, sqlite_url, GATEWAY_PROXY_FIX=1)
    gw = app.extensions["gateway"]
    _host, secret = hosts.add(gw, "Course", [HOST_ORIGIN])
    reply = app.test_client().post(
        "/api/v1/launches",
        json={"user": {"id": "p"}},
        headers={
            "Authorization": f"Bearer {secret}",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "gateway.example.edu",
            "X-Forwarded-Prefix": "/cocalc",
        },
    )
    assert reply.get_json()["url"].startswith("https://gateway.example.edu/cocalc/launch/")
    concurrency.wait_idle()
    app.extensions["db"].dispose()


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
        requests.get(server.url + reply.headers["Location"], timeout=10)
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


def test_a_token_works_once_on_each_database(sim, database_url):
    app = make_app(sim, database_url)
    gw = app.extensions["gateway"]
    host, secret = hosts.add(gw, "Course", [HOST_ORIGIN])
    client = app.test_client()
    token = mint(host.id, secret)
    first = launch(client, token)
    assert first.status_code == 303 and client.get(first.headers["Location"]).status_code == 200
    assert launch(client, token).status_code == 401
    assert rows(gw, UsedTokenId) == 1 and rows(gw, Launch) == 1
    concurrency.wait_idle()
    app.extensions["db"].dispose()


def test_oversized_bodies_are_refused(client, host, gw):
    reply = client.post("/launch", data={"token": "x" * 100_000})
    assert reply.status_code == 413 and "Traceback" not in reply.get_data(as_text=True)
    reply = client.post(
        "/api/v1/launches",
        data="{" + " " * 100_000 + "}",
        headers={"Authorization": f"Bearer {host.secret}", "Content-Type": "application/json"},
    )
    assert reply.status_code == 413 and reply.get_json()["error"]["code"] == "http_413"
    assert rows(gw, HostUser) == 0


def test_the_gateway_keeps_no_session(app, client, host):
    from flask import session

    reply = launch(client, mint(host.id, host.secret))
    page = client.get(reply.headers["Location"])
    assert "Set-Cookie" not in reply.headers and "Set-Cookie" not in page.headers
    with app.test_request_context("/"), pytest.raises(RuntimeError):
        session["anything"] = 1
