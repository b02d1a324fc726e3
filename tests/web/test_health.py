"""Health and readiness: ready means this instance can serve; CoCalc and the doctor's
findings are reported beside it (``degraded``), never as "not ready"."""

from __future__ import annotations

import json
import threading

from gateway.operator import doctor
from gateway.store import migrate
from gateway.web import current
from tests.conftest import app_lifetime, gateway_config, make_app

LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}


def test_healthz(client):
    reply = client.get("/healthz")
    assert reply.status_code == 200 and reply.get_json() == {"status": "ok"}


def test_a_fresh_cocalc_is_degraded_with_its_failing_findings(client, sim):
    reply = client.get("/readyz", environ_base=LOOPBACK)
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["status"] == "degraded"
    assert {"iframe_comm_hosts", "dns"} <= set(body["failing"])
    assert body["checks"]["database"]["ok"] and body["checks"]["cocalc"]["ok"]
    assert body["checks"]["cocalc"]["dialect"] == sim.dialect
    assert body["checks"]["cocalc"]["key_is_admin"] == (True if sim.dialect == "current" else None)
    assert "synthetic_launch" not in {f["name"] for f in body["doctor"]}


def test_a_cocalc_set_up_for_embedding_is_ready(app, sim):
    assert app.test_cli_runner().invoke(args=["doctor", "--fix", "--yes", "--no-launch"])
    body = app.test_client().get("/readyz", environ_base=LOOPBACK).get_json()
    assert body["status"] == "ready" and body["failing"] == []


def test_cocalc_down_is_reported_but_the_instance_stays_in_service(sim, sqlite_url):
    for app in app_lifetime(make_app(sim, sqlite_url, COCALC_TIMEOUT=0.5, COCALC_RETRIES=0)):
        sim.fault(sim.endpoint("ping", "system.ping"), "html502", count=5)
        reply = app.test_client().get("/readyz", environ_base=LOOPBACK)
        assert reply.status_code == 200  # pages and warm launches work without CoCalc
        body = reply.get_json()
        assert body["status"] == "degraded" and "dialect" in body["failing"]
        assert body["checks"]["cocalc"]["ok"] is False and body["checks"]["database"]["ok"]
        assert sim.admin_key not in reply.get_data(as_text=True)


def test_a_database_not_migrated_makes_the_instance_unavailable(sim, blank_sqlite_url):
    from gateway import create_app

    app = create_app(gateway_config(sim, blank_sqlite_url))  # no `db upgrade` ran
    reply = app.test_client().get("/readyz")
    assert reply.status_code == 503 and reply.get_json()["status"] == "unavailable"
    assert "not 00" in reply.get_json()["checks"]["database"]["detail"]
    migrate.upgrade(app.extensions["db"].engine)
    assert app.test_client().get("/readyz").status_code == 200
    current.close(app)


def test_readyz_tells_anonymous_callers_only_whether(sim, sqlite_url):
    app = make_app(sim, sqlite_url, GATEWAY_METRICS_NETWORKS="10.0.0.0/8")
    outside = app.test_client().get("/readyz", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert outside.status_code == 200 and outside.get_json() == {"status": "degraded"}
    inside = app.test_client().get("/readyz", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert {"status", "checks", "doctor", "failing", "checked_s_ago"} == set(inside.get_json())


def test_concurrent_probes_share_one_refresh(app, monkeypatch):
    runs = []
    real = doctor.run
    monkeypatch.setattr(doctor, "run", lambda *a, **k: runs.append(1) or real(*a, **k))
    replies = []

    def probe():
        replies.append(app.test_client().get("/readyz").status_code)

    threads = [threading.Thread(target=probe) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert replies == [200] * 10 and runs == [1]
    for _ in range(5):
        app.test_client().get("/readyz")
    assert runs == [1]  # refreshed at most once a minute


def test_the_first_probe_says_starting_until_the_first_findings_are_in(app, monkeypatch):
    from gateway.operator import readiness

    release = threading.Event()
    real = doctor.run
    monkeypatch.setattr(doctor, "run", lambda *a, **k: release.wait(10) and real(*a, **k))
    monkeypatch.setattr(readiness, "FRESH_WAIT_S", 0.2)
    first = app.test_client().get("/readyz", environ_base=LOOPBACK)
    assert first.status_code == 200
    assert first.get_json()["status"] == "starting" and first.get_json()["checked_s_ago"] is None
    release.set()
    app.extensions["gateway"].background.wait_idle()
    later = app.test_client().get("/readyz", environ_base=LOOPBACK).get_json()
    assert later["status"] == "degraded" and later["checked_s_ago"] < 5


def test_after_a_long_idle_a_probe_answers_from_fresh_findings(app, monkeypatch):
    """The finding: after an idle the first probe answered with the findings of the last
    refresh, minutes old. Now it waits a moment for the refresh it starts."""
    from gateway.operator import readiness

    client = app.test_client()
    client.get("/readyz", environ_base=LOOPBACK)
    kept = app.extensions["gateway"].memo["readiness"]
    with kept.lock:
        kept.at -= 300  # five minutes of idle
    body = client.get("/readyz", environ_base=LOOPBACK).get_json()
    assert body["checked_s_ago"] < readiness.REFRESH_S


def test_the_findings_are_gauges_in_metrics(client):
    client.get("/readyz")
    text = client.get("/metrics", environ_base=LOOPBACK).get_data(as_text=True)
    assert 'gateway_doctor_check_ok{check="dns"} 0.0' in text
    assert 'gateway_doctor_check_ok{check="database"} 1.0' in text


def test_forwarding_headers_without_a_trusted_proxy_get_no_loopback_exemption(client, app):
    """A proxy on this machine makes every client 127.0.0.1: its forwarding headers show it."""
    forwarded = {"X-Forwarded-For": "198.51.100.7"}
    metrics = client.get("/metrics", environ_base=LOOPBACK, headers=forwarded)
    assert metrics.status_code == 403
    ready = client.get("/readyz", environ_base=LOOPBACK, headers=forwarded)
    assert set(ready.get_json()) == {"status"}
    assert client.get("/metrics", environ_base=LOOPBACK).status_code == 200  # no proxy: fine
    result = app.test_cli_runner().invoke(args=["doctor", "--json", "--no-launch"])
    found = {f["name"]: f for f in json.loads(result.output)["findings"]}
    assert found["proxy"]["status"] == "fail" and "X-Forwarded-For" in found["proxy"]["detail"]
