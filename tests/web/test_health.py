"""Health and readiness endpoints."""

from __future__ import annotations

from tests.conftest import make_app


def test_healthz(client):
    reply = client.get("/healthz")
    assert reply.status_code == 200 and reply.get_json() == {"status": "ok"}


def test_readyz_reports_dialect_and_admin_key(client, sim):
    reply = client.get("/readyz")
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["status"] == "ready" and body["checks"]["database"]["ok"]
    assert body["checks"]["cocalc"]["dialect"] == sim.dialect
    assert body["checks"]["cocalc"]["key_is_admin"] == (True if sim.dialect == "current" else None)


def test_readyz_reports_a_non_admin_key(sim, sqlite_url):
    app = make_app(sim, sqlite_url, COCALC_API_KEY=sim.user_key)
    admin = app.test_client().get("/readyz").get_json()["checks"]["cocalc"]["key_is_admin"]
    assert admin == (False if sim.dialect == "current" else None)


def test_readyz_when_cocalc_is_down(sim, sqlite_url):
    app = make_app(sim, sqlite_url, COCALC_TIMEOUT=0.5, COCALC_RETRIES=0)
    sim.fault(sim.endpoint("ping", "system.ping"), "html502")
    reply = app.test_client().get("/readyz")
    assert reply.status_code == 503
    body = reply.get_json()
    assert body["checks"]["cocalc"]["ok"] is False and body["checks"]["database"]["ok"]
    assert sim.admin_key not in reply.get_data(as_text=True)


def test_readyz_with_auto_dialect_and_a_non_cocalc_server(sim, sqlite_url):
    app = make_app(
        sim,
        sqlite_url,
        COCALC_URL="http://127.0.0.1:9",
        COCALC_API_DIALECT="auto",
        COCALC_TIMEOUT=0.5,
        COCALC_RETRIES=0,
    )
    reply = app.test_client().get("/readyz")
    assert reply.status_code == 503 and "cocalc" in reply.get_json()["checks"]


def test_readyz_tells_anonymous_callers_only_whether(sim, sqlite_url):
    app = make_app(sim, sqlite_url, GATEWAY_METRICS_NETWORKS="10.0.0.0/8")
    outside = app.test_client().get("/readyz", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert outside.status_code == 200 and outside.get_json() == {"status": "ready"}
    inside = app.test_client().get("/readyz", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert set(inside.get_json()) == {"status", "checks", "doctor"}
    names = {f["name"] for f in inside.get_json()["doctor"]}
    assert {"iframe_comm_hosts", "dns", "database"} <= names
    assert "synthetic_launch" not in names
