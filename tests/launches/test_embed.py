"""Embed pages: headers, lifetime, revocation, and no session."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, update

from gateway import hosts
from gateway.store.models import Launch, utcnow
from gateway.support import concurrency
from gateway.web import current
from tests.conftest import make_app
from tests.launching import HOST_ORIGIN, OWN_PAGE, calls_waited_on, launch, mint, page_settings

pytestmark = pytest.mark.both_dialects


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
    client.post(
        f"{location}/signed-in", headers=OWN_PAGE
    )  # what the page's script does once signed in
    sim.reset()
    sim.configure(latency_ms=1500)
    began = time.monotonic()
    reply = launch(client, mint(host.id, host.secret, **token_claims))
    assert reply.status_code == 303
    assert client.get(reply.headers["Location"]).status_code == 200
    assert time.monotonic() - began < 1.0  # no CoCalc call on the way
    expected = {} if sim.dialect == "v1" else {"system.generateUserAuthToken": 1}
    assert sim.calls() == expected


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
    current.close(app)


def test_current_dialect_revokes_the_token_after_sign_in(simulators, sqlite_url):
    sim = simulators["current"]
    sim.reset()
    app = make_app(sim, sqlite_url)
    gw = app.extensions["gateway"]
    host, secret = hosts.add(gw, "Course", [HOST_ORIGIN])
    client = app.test_client()
    location = launch(client, mint(host.id, secret, sub="r")).headers["Location"]
    html = client.get(location).get_data(as_text=True)
    sign_in = page_settings(html)["signInUrl"]
    assert requests.get(sign_in, timeout=5).text.count("window.location") == 1  # token works
    assert client.post(f"{location}/signed-in", headers=OWN_PAGE).status_code == 204
    concurrency.wait_idle()
    assert "unknown or expired token" in requests.get(sign_in, timeout=5).text
    # the reloaded page no longer carries any token; the next launch found a refilled cache
    assert "auth_token" not in client.get(location).get_data(as_text=True)
    sim.reset()
    with calls_waited_on(sim.url) as waited_on:
        assert launch(client, mint(host.id, secret, sub="r")).status_code == 303
    assert waited_on == []
    assert sim.calls() == {"system.generateUserAuthToken": 1}  # its spare, refilled after
    current.close(app)


def test_the_gateway_keeps_no_session(app, client, host):
    from flask import session

    reply = launch(client, mint(host.id, host.secret))
    page = client.get(reply.headers["Location"])
    # The one cookie is the page's own binding (guard): no session cookie, ever.
    (cookie,) = reply.headers.getlist("Set-Cookie")
    assert cookie.startswith("__Host-gw_page_") and "Set-Cookie" not in page.headers
    with app.test_request_context("/"), pytest.raises(RuntimeError):
        session["anything"] = 1
