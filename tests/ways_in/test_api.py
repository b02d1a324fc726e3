"""Way in 2: the server-to-server API and its one-time links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from gateway import hosts
from gateway.store.models import HostUser, Launch, utcnow
from gateway.support import concurrency
from gateway.web import current
from tests.conftest import make_app
from tests.launching import HOST_ORIGIN, api, rows


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
    path = body["url"].removeprefix("http://127.0.0.1")
    first = client.get(path)
    assert first.status_code == 303 and first.headers["Location"].startswith(
        "http://127.0.0.1/embed/"
    )
    second = client.get(path)
    assert second.status_code == 410


def test_api_launch_url_expires(client, host, gw):
    body = api(client, host.secret, {"user": {"id": "7"}}).get_json()
    with gw.db.begin() as session:
        session.execute(update(Launch).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get(body["url"].removeprefix("http://127.0.0.1")).status_code == 410


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
    # The link comes from GATEWAY_PUBLIC_URL, whatever the request's forwarded headers say.
    assert reply.get_json()["url"].startswith("http://127.0.0.1/launch/")
    concurrency.wait_idle()
    current.close(app)
