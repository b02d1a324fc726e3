"""Start the OpenID Provider of the tests and the demo: npm ``oidc-provider`` (a certified
provider that nobody here wrote), run by Node from ``tests/peers/oidc`` of a checkout.

``make test`` and ``make demo`` install it with npm. It runs on 127.0.0.1 with one
confidential client, PKCE required, and signs in whoever ``choose`` names, without asking.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import requests

from . import node_peers

PEER_DIR = Path(__file__).resolve().parents[2] / "tests" / "peers" / "oidc"
STARTUP_TIMEOUT_S = 30


class ProviderMissing(RuntimeError):
    """Node or the provider's npm package is not installed (run ``make test`` once)."""


@dataclass
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str
    process: subprocess.Popen = field(repr=False)

    def choose(self, account: str = "alice", *, deny: bool = False) -> None:
        """Who signs in next (or that the user declines)."""
        reply = requests.post(
            f"{self.issuer}/_control", json={"account": account, "deny": deny}, timeout=5
        )
        reply.raise_for_status()

    def stop(self) -> None:
        node_peers.stop(self.process)


def start_provider(redirect_uri: str, post_logout_uri: str) -> OidcProvider:
    node = shutil.which("node")
    if node is None or not (PEER_DIR / "node_modules" / "oidc-provider").is_dir():
        raise ProviderMissing(f"install the test OpenID Provider: npm ci --prefix {PEER_DIR}")
    port, client_id = node_peers.free_port(), "gateway-" + secrets.token_hex(4)
    secret = secrets.token_urlsafe(24)
    process = subprocess.Popen(
        [
            node,
            str(PEER_DIR / "provider.mjs"),
            str(port),
            redirect_uri,
            client_id,
            secret,
            post_logout_uri,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline()  # "READY <issuer>" once it listens
    if not line.startswith("READY "):
        process.kill()
        raise ProviderMissing(f"the test OpenID Provider did not start: {line!r}")
    return OidcProvider(line.split()[1], client_id, secret, process)
