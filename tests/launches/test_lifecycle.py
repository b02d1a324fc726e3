"""Launches under failure: replays cost nothing, links survive errors, revocation holds,
and pages render while CoCalc is down."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import delete, func, select, update

from gateway import hosts
from gateway.provisioning import tokens
from gateway.store.models import HostUser, Launch, Revocation, UserProject, utcnow
from gateway.support import concurrency
from gateway.web import current
from tests.conftest import gateway_config, make_app, start_simulator
from tests.launching import OWN_PAGE, api, forget_waiting_tokens, launch, mint, page_settings

pytestmark = pytest.mark.both_dialects


def count(gw, model):
    with gw.db.begin() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_replayed_token_makes_no_cocalc_call(sim, database_url):
    app = make_app(sim, database_url)
    gw = app.extensions["gateway"]
    host, secret = hosts.add(gw, "Course", ["https://lms.example.edu"])
    client = app.test_client()
    token = mint(host.id, secret, sub="replayer")
    assert launch(client, token).status_code == 303
    concurrency.wait_idle()
    forget_waiting_tokens(gw)  # the spare token is gone: a cold path would call CoCalc
    sim.reset()
    again = launch(client, token)
    assert again.status_code == 401 and "already been used" in again.get_data(as_text=True)
    assert sim.total_calls() == 0
    concurrency.wait_idle()
    current.close(app)


def test_a_one_time_link_survives_a_failure_while_it_is_redeemed(client, host, gw, sim):
    url = api(client, host.secret, {"user": {"id": "retry-me"}}).get_json()["url"]
    concurrency.wait_idle()
    forget_waiting_tokens(gw)  # the page must ask CoCalc for a token
    sim.fault(sim.endpoint("user_auth", "system.generateUserAuthToken"), "html502", count=3)
    path = url.removeprefix("http://127.0.0.1")
    assert client.get(path).status_code == 503
    sim.reset()
    assert client.get(path).status_code == 303  # "Try again" works
    assert client.get(path).status_code == 410  # and then it is used up


def current_app_and_host(simulators, sqlite_url, **settings):
    sim = simulators["current"]
    sim.reset()
    app = make_app(sim, sqlite_url, **settings)
    gw = app.extensions["gateway"]
    host, secret = hosts.add(gw, "Course", ["https://lms.example.edu"])
    return sim, app, gw, host, secret


def test_a_revocation_is_kept_until_cocalc_confirms(simulators, sqlite_url):
    sim, app, gw, host, secret = current_app_and_host(simulators, sqlite_url)
    client = app.test_client()
    page = launch(client, mint(host.id, secret, sub="r")).headers["Location"]
    page = page.removeprefix("http://127.0.0.1")
    sign_in = page_settings(client.get(page).get_data(as_text=True))["signInUrl"]
    sim.fault("system.revokeUserAuthToken", "html502", count=10)
    assert client.post(f"{page}/signed-in", headers=OWN_PAGE).status_code == 204
    concurrency.wait_idle()
    assert count(gw, Revocation) == 1  # CoCalc did not confirm: kept
    assert "window.location" in requests.get(sign_in, timeout=5).text  # still valid
    sim.reset()
    # A new process (after a restart) finds the revocation and finishes it, once it is due.
    restarted = make_app(sim, sqlite_url)
    regw = restarted.extensions["gateway"]
    with regw.db.begin() as session:
        session.execute(update(Revocation).values(next_try_at=Revocation.created_at))
    assert regw.housekeeping.run_once()["revoke tokens"] == 1
    assert count(regw, Revocation) == 0
    assert "unknown or expired token" in requests.get(sign_in, timeout=5).text
    for each in (app, restarted):
        current.close(each)


def test_the_token_of_a_page_that_never_signed_in_is_revoked_when_it_expires(
    simulators, sqlite_url
):
    _sim, app, gw, host, secret = current_app_and_host(simulators, sqlite_url)
    client = app.test_client()
    page = launch(client, mint(host.id, secret, sub="never")).headers["Location"]
    html = client.get(page.removeprefix("http://127.0.0.1")).get_data(as_text=True)
    sign_in = page_settings(html)["signInUrl"]
    with gw.db.begin() as session:
        session.execute(update(Launch).values(expires_at=utcnow() - timedelta(minutes=1)))
    assert gw.housekeeping.run_once()["revoke unused page tokens"] == 1
    concurrency.wait_idle()
    assert "unknown or expired token" in requests.get(sign_in, timeout=5).text
    current.close(app)


def test_pages_and_warm_launches_render_while_cocalc_is_down(sqlite_url):
    server, sim = start_simulator("current")
    config = gateway_config(sim, sqlite_url, COCALC_API_DIALECT="auto")
    first = make_app(sim, sqlite_url, COCALC_API_DIALECT="auto")
    gw = first.extensions["gateway"]
    gw.connector.wait_for_client(10)  # probed, and remembered in the database
    host, secret = hosts.add(gw, "Course", ["https://lms.example.edu"])
    page = launch(first.test_client(), mint(host.id, secret, sub="w")).headers["Location"]
    concurrency.wait_idle()  # the spare token for the next launch is in place
    server.stop()  # CoCalc goes away
    fresh = make_app(sim, sqlite_url, **{k: v for k, v in config.items() if k != "TESTING"})
    client = fresh.test_client()
    assert client.get(page.removeprefix("http://127.0.0.1")).status_code == 200
    warm = launch(client, mint(host.id, secret, sub="w"))
    assert warm.status_code == 303
    assert tokens.revocation_enabled(fresh.extensions["gateway"])
    concurrency.wait_idle()
    for each in (first, fresh):
        current.close(each)


def test_two_uses_at_once_of_an_unused_token_get_one_page_and_one_user(sim, database_url):
    """The token is spent in the transaction that records its page: of two uses racing,
    one gets the page and the other a refusal, and the user is set up exactly once (both
    may go through provisioning, which makes each thing once whatever runs at the same
    time; a replay that comes after the first use is refused before any work)."""
    import threading

    app = make_app(sim, database_url)
    gw = app.extensions["gateway"]
    host, secret = hosts.add(gw, "Course", ["https://lms.example.edu"])
    token = mint(host.id, secret, sub="racer")
    sim.configure(latency_ms=300)  # a cold launch takes a while: the two overlap
    statuses = []

    def use():
        statuses.append(launch(app.test_client(), token).status_code)

    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [303, 401]
    with gw.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Launch)) == 1
        (user,) = session.scalars(select(HostUser)).all()
        (project,) = session.scalars(select(UserProject)).all()
    accounts = [a for a in sim.accounts() if a["email_address"] == user.cocalc_email]
    made = [p for p in sim.projects() if project.creation_key in (p["description"] or "")]
    assert len(accounts) == 1 and len(made) == 1
    before = sim.total_calls()
    assert launch(app.test_client(), token).status_code == 401
    assert sim.total_calls() == before  # a later replay costs CoCalc nothing
    current.close(app)


def test_a_token_whose_launch_failed_may_try_again(client, host, sim):
    token = mint(host.id, host.secret, sub="unlucky")
    sim.fault(sim.endpoint("create_account", "v2/auth/sign-up"), "html502", count=5)
    assert launch(client, token).status_code in (502, 503)
    sim.reset()
    assert launch(client, token).status_code == 303
    assert launch(client, token).status_code == 401


def test_a_one_time_link_of_a_user_erased_meanwhile_is_gone(client, host, gw, sim):
    from gateway.store.models import HostUser

    url = api(client, host.secret, {"user": {"id": "erased"}}).get_json()["url"]
    concurrency.wait_idle()
    with gw.db.begin() as session:
        session.execute(delete(HostUser))
    reply = client.get(url.removeprefix("http://127.0.0.1"))
    assert reply.status_code in (404, 410)  # gone with its user (PostgreSQL cascades: 404)
    assert "Traceback" not in reply.get_data(as_text=True)
