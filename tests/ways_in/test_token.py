"""Way in 1: signed launch tokens, every bad one a clear 4xx that changes nothing."""

from __future__ import annotations

import re
import time

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select

from gateway import hosts
from gateway.store.models import HostUser, Launch, UsedTokenId, UserProject
from gateway.support import concurrency
from gateway.web import current
from tests.conftest import make_app
from tests.launching import HOST_ORIGIN, iframe_src, launch, mint, page_settings, rows, unsigned

pytestmark = pytest.mark.both_dialects


def test_post_launch_redirects_to_the_embed_page(client, host, gw, sim):
    token = mint(host.id, host.secret, path="work/my notes.md")
    reply = launch(client, token)
    assert reply.status_code == 303
    location = reply.headers["Location"]
    # Built from GATEWAY_PUBLIC_URL, never from the request's Host.
    assert re.fullmatch(r"http://127\.0\.0\.1/embed/[A-Za-z0-9_-]{43}", location)
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
        assert iframe_src(html, "cocalc", "data-src") == (
            f"{kiosk}?auth_token={token_text}&fullscreen=kiosk&session="
        )
    else:
        assert page_settings(html)["signInUrl"] == (
            f"{sim.url}/auth/impersonate?auth_token={token_text}"
        )
        assert iframe_src(html, "cocalc", "data-src") == f"{kiosk}?fullscreen=kiosk&session="
    # the token appears in exactly one URL (of the frame, or of the sign-in) and nowhere else
    assert html.count(token_text) == 1
    assert user.account_id


def test_get_launch_works_for_iframe_src_hosts(client, host):
    reply = client.get("/launch", query_string={"token": mint(host.id, host.secret)})
    assert reply.status_code == 303 and reply.headers["Location"].startswith(
        "http://127.0.0.1/embed/"
    )


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
    current.close(app)


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
    current.close(app)


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
