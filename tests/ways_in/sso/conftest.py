"""Fixtures of the SSO tests: the gateway on a real port, and npm ``oidc-provider`` (a
certified OpenID Provider that nobody here wrote) as the host's identity provider."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gateway import hosts
from gateway.dev.devserver import ThreadedServer
from gateway.dev.oidc_peer import start_provider
from gateway.support import concurrency
from gateway.ways_in.sso import providers
from gateway.web import current
from tests.conftest import make_app


@dataclass
class Sso:
    url: str
    app: object
    gw: object
    host: object
    provider: object  # the gateway's record
    op: object  # the running OpenID Provider
    sim: object

    def login_url(self, path: str = "") -> str:
        return f"{self.url}/sso/{self.host.id}/login" + (f"?path={path}" if path else "")


@pytest.fixture(scope="module", params=["v1", "current"])
def sso(request, simulators, tmp_path_factory):
    sim = simulators[request.param]
    server = ThreadedServer()
    op = start_provider(server.url + "/sso/callback", server.url + "/sso/signed-out")
    database = tmp_path_factory.mktemp("sso") / "gateway.sqlite3"
    app = make_app(sim, f"sqlite:///{database}", GATEWAY_PUBLIC_URL=server.url)
    server.start(app)
    gw = app.extensions["gateway"]
    with app.app_context():
        host, _ = hosts.add(gw, "Company portal", [])
        provider = providers.add(
            gw, host.id, issuer=op.issuer, client_id=op.client_id, client_secret=op.client_secret
        )
    yield Sso(server.url, app, gw, host, provider, op, sim)
    concurrency.wait_idle()
    op.stop()
    server.stop()
    current.close(app)


@pytest.fixture
def fresh(sso):
    """Each test starts with no faults, and alice signing in."""
    sso.sim.reset()
    sso.op.choose("alice")
    yield sso
    concurrency.wait_idle()
