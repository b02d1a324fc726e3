"""Headers, trusted proxies, and the links that mail scanners open with HEAD."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.errors import BadRequest
from gateway.provisioning.paths import clean_path
from gateway.store.models import HostUser, UsedTokenId
from gateway.support import concurrency
from gateway.web import current
from tests.conftest import make_app
from tests.launching import api, mint, rows

PATHS = json.loads((Path(__file__).parents[1] / "data" / "paths.json").read_text())["cases"]


@pytest.mark.parametrize(("given", "wanted"), PATHS, ids=repr)
def test_path_rules(given, wanted):
    """The cases the relay's cleanPath (JavaScript) must agree on too (tests/browser)."""
    if wanted is None:
        with pytest.raises(BadRequest):
            clean_path(given)
    else:
        assert clean_path(given) == wanted


def test_head_uses_up_no_launch_token(client, host, gw, sim):
    token = mint(host.id, host.secret)
    for _ in range(3):
        assert client.head("/launch", query_string={"token": token}).status_code == 200
    assert rows(gw, UsedTokenId) == 0 and rows(gw, HostUser) == 0 and sim.total_calls() == 0
    assert client.get("/launch", query_string={"token": token}).status_code == 303


def test_head_uses_up_no_one_time_link(client, host):
    link = api(client, host.secret, {"user": {"id": "scanned"}}).get_json()["url"]
    path = link.removeprefix("http://127.0.0.1")
    for _ in range(3):
        assert client.head(path).status_code == 200
    assert client.get(path).status_code == 303


@pytest.fixture
def proxied(sim, sqlite_url):
    app = make_app(sim, sqlite_url, GATEWAY_PROXY_FIX=1, GATEWAY_METRICS_NETWORKS="10.0.0.0/8")
    yield app
    concurrency.wait_idle()
    current.close(app)


def test_a_forwarded_prefix_cannot_make_an_open_redirect(proxied, host_of):
    host, secret = host_of(proxied)
    reply = proxied.test_client().post(
        "/launch",
        data={"token": mint(host.id, secret)},
        headers={"X-Forwarded-Prefix": "//evil.example", "X-Forwarded-Host": "evil.example"},
    )
    assert reply.status_code == 303
    assert reply.headers["Location"].startswith("http://127.0.0.1/embed/")


def test_forwarded_for_counts_only_from_a_trusted_proxy(proxied):
    client = proxied.test_client()
    direct = {"REMOTE_ADDR": "192.0.2.7"}  # a client that reached the gateway directly
    claim = {"X-Forwarded-For": "10.0.0.5"}  # an address /metrics would trust
    assert client.get("/metrics", headers=claim, environ_base=direct).status_code == 403
    via_proxy = {"REMOTE_ADDR": "127.0.0.1"}
    assert client.get("/metrics", headers=claim, environ_base=via_proxy).status_code == 200


@pytest.fixture
def host_of():
    from gateway import hosts

    def make(app):
        return hosts.add(app.extensions["gateway"], "Proxied", ["https://lms.example.edu"])

    return make


def test_the_demo_host_answers_non_objects_with_400():
    from gateway.dev.demo import host_site

    client = host_site("http://127.0.0.1:9", "host_" + "0" * 16, "s" * 40).test_client()
    for body in ("[1, 2]", '"text"', "3", "not json"):
        reply = client.post("/demo/launch", data=body, content_type="application/json")
        assert reply.status_code == 400
