"""Fixtures of the SAML tests: the gateway on a real port, npm samlify (in Node) and
pysaml2's own IdP as identity providers nobody here wrote, and a host per test."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import pytest

from gateway import hosts
from gateway.dev.devserver import ThreadedServer
from gateway.dev.saml_peer import SamlifyIdp, start_idp
from gateway.support import concurrency
from gateway.ways_in.saml import idps, sp
from gateway.web import current
from tests.conftest import make_app
from tests.ways_in.lti.conftest import Agent
from tests.ways_in.saml.idp_peers import Pysaml2Idp


@dataclass
class SamlStack:
    url: str
    app: object
    gw: object
    sim: object
    peers: dict = field(default_factory=dict)
    pysaml2_idps: dict = field(default_factory=dict)

    def peer(self, **config) -> SamlifyIdp:
        """A samlify IdP with these settings (started once per run and settings)."""
        key = tuple(sorted(config.items()))
        if key not in self.peers:
            self.peers[key] = start_idp(**config)
        return self.peers[key]

    def host(self, name: str = "University") -> object:
        with self.app.app_context():
            host, _ = hosts.add(self.gw, f"{name} {secrets.token_hex(3)}", [])
        return host

    def add(self, host, **kwargs):
        with self.app.app_context():
            return idps.add(self.gw, host.id, **kwargs)

    def login_url(self, host, path: str = "", idp: str | None = None) -> str:
        query = "&".join(
            f"{k}={v}" for k, v in (("path", path), ("idp", idp)) if v
        )  # fmt: skip
        return f"{self.url}/saml/{host.id}/login" + (f"?{query}" if query else "")

    def sp_metadata(self, host) -> str:
        with self.app.app_context():
            return sp.metadata_document(self.gw, host.id)

    def endpoints(self, host):
        return sp.endpoints(self.gw, host.id)


@pytest.fixture(scope="session")
def saml_stack(simulators, tmp_path_factory):
    sim = simulators["current"]
    server = ThreadedServer()
    database = tmp_path_factory.mktemp("saml") / "gateway.sqlite3"
    app = make_app(sim, f"sqlite:///{database}", GATEWAY_PUBLIC_URL=server.url, SERVER_NAME=None)
    server.start(app)
    stack = SamlStack(server.url, app, app.extensions["gateway"], sim)
    yield stack
    concurrency.wait_idle()
    for peer in stack.peers.values():
        peer.stop()
    server.stop()
    current.close(app)


class SamlifyWay:
    """A sign-in at samlify: the gateway fetches its metadata by URL."""

    name = "samlify"
    user = "alice"

    def __init__(self, stack: SamlStack, **config):
        self.stack = stack
        self.peer = stack.peer(**config)
        self.entity_id = self.peer.entity_id

    def register(self, host, **flags):
        return self.stack.add(host, source="url", location=self.peer.metadata_url, **flags)

    def sign_in(self, agent: Agent, login_url: str, user: str | None = None, **_):
        self.peer.choose(user or self.user)
        return agent.open(login_url)


class Pysaml2Way:
    """A sign-in at pysaml2's IdP: registered from its metadata as a file."""

    name = "pysaml2"
    user = "carol"

    def __init__(self, stack: SamlStack):
        self.stack = stack
        self.idp: Pysaml2Idp | None = None

    def register(self, host, **flags):
        # Its IdP reads this host's SP metadata (each host is an SP of its own); it answers
        # unencrypted (its encryption is 3DES, which the gateway refuses).
        self.idp = Pysaml2Idp(self.stack.sp_metadata(host))
        self.entity_id = self.idp.entity_id
        flags.setdefault("allow_unencrypted", True)
        return self.stack.add(host, source="file", data=self.idp.metadata.encode(), **flags)

    def sign_in(self, agent: Agent, login_url: str, user: str | None = None, **options):
        return self.idp.sign_in(agent, login_url, user, **options)


@pytest.fixture(params=["samlify", "pysaml2"])
def way(request, saml_stack):
    """Each sign-in test runs at both identity providers."""
    saml_stack.sim.reset()
    yield SamlifyWay(saml_stack) if request.param == "samlify" else Pysaml2Way(saml_stack)
    concurrency.wait_idle()


@pytest.fixture
def stack(saml_stack):
    saml_stack.sim.reset()
    yield saml_stack
    concurrency.wait_idle()
