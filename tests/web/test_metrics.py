"""The protected /metrics endpoint and what it counts."""

from __future__ import annotations

from gateway import hosts
from gateway.support import concurrency
from tests.conftest import make_app
from tests.launching import mint


def test_metrics_are_protected_and_count(sim, sqlite_url):
    app = make_app(
        sim,
        sqlite_url,
        GATEWAY_METRICS_TOKEN="metrics-token-123",
        GATEWAY_METRICS_NETWORKS="10.0.0.0/8",
    )
    gw = app.extensions["gateway"]
    host, secret = hosts.add(gw, "Course", [])
    client = app.test_client()
    client.post("/launch", data={"token": mint(host.id, secret)})
    assert client.get("/metrics").status_code == 403
    reply = client.get("/metrics", headers={"Authorization": "Bearer metrics-token-123"})
    assert reply.status_code == 200
    text = reply.get_data(as_text=True)
    assert 'gateway_launches_total{outcome="ok",way="token"}' in text
    assert "gateway_cocalc_call_seconds_bucket" in text
    assert 'gateway_launch_paths_total{path="cold"}' in text
    concurrency.wait_idle()


def test_metrics_from_an_allowed_network(client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 403
