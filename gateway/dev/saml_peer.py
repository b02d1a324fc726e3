"""Start the SAML identity provider of the tests and the demo: npm ``samlify`` (its own
C14N, signing and encryption, written by others), run by Node from ``tests/peers/saml``.

``make test`` and ``make demo`` install it with npm. It runs on 127.0.0.1 with a key and
a certificate made here, and signs in whoever ``choose`` names (a test's HTTP client), or
whoever is picked on its login form (a browser).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from . import node_peers

PEER_DIR = Path(__file__).resolve().parents[2] / "tests" / "peers" / "saml"
SUBJECT_ID = "urn:oasis:names:tc:SAML:attribute:subject-id"
GIVEN_NAME, SURNAME = "urn:oid:2.5.4.42", "urn:oid:2.5.4.4"
MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
PRINCIPAL_NAME = "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"
AFFILIATION = "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"


class IdpMissing(RuntimeError):
    """Node or the IdP's npm packages are not installed (run ``make test`` once)."""


def key_and_certificate(name: str = "test SAML IdP") -> tuple[str, str]:
    """A new RSA key and a self-signed certificate for it, both PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem, certificate.public_bytes(serialization.Encoding.PEM).decode()


def default_users(scope: str) -> dict:
    return {
        "alice": {
            "nameID": "a1b2c3-alice",
            "attributes": {
                SUBJECT_ID: [f"alice@{scope}"],
                GIVEN_NAME: ["Alice"],
                SURNAME: ["Liddell"],
                MAIL: [f"alice@{scope}"],
                AFFILIATION: ["student"],
            },
        },
        "bob": {
            "nameID": "d4e5f6-bob",
            "attributes": {PRINCIPAL_NAME: [f"bob@{scope}"], GIVEN_NAME: ["Bob"]},
        },
    }


@dataclass
class SamlifyIdp:
    entity_id: str
    key_pem: str
    certificate_pem: str
    process: subprocess.Popen = field(repr=False)

    @property
    def base(self) -> str:
        return self.entity_id.rsplit("/", 1)[0]

    @property
    def metadata_url(self) -> str:
        return self.entity_id  # its entity ID is where its metadata is

    def choose(self, user: str | None = "alice") -> None:
        """Who signs in next when a test's client asks (None: the login form)."""
        reply = requests.post(f"{self.base}/_peer/control", json={"user": user}, timeout=5)
        reply.raise_for_status()

    def state(self) -> dict:
        return requests.get(f"{self.base}/_peer/state", timeout=5).json()

    def respond(self, authn_request_url: str) -> dict:
        """The auto-post form's fields for an AuthnRequest (the user ``choose`` named)."""
        reply = requests.get(authn_request_url, headers={"Accept": "application/json"}, timeout=10)
        if reply.status_code != 200:
            raise AssertionError(f"the IdP refused the request: {reply.text}")
        return reply.json()

    def unsolicited(self, user: str, sp_entity_id: str) -> dict:
        reply = requests.post(
            f"{self.base}/_peer/unsolicited", json={"user": user, "sp": sp_entity_id}, timeout=10
        )
        reply.raise_for_status()
        return reply.json()

    def logout_request(self, user: str, sp_entity_id: str) -> str:
        reply = requests.post(
            f"{self.base}/_peer/logout", json={"user": user, "sp": sp_entity_id}, timeout=10
        )
        reply.raise_for_status()
        return reply.json()["url"]

    def stop(self) -> None:
        node_peers.stop(self.process)


def start_idp(
    *,
    scope: str = "example.test",
    name: str = "Example University",
    encrypt: bool = True,
    sign_assertion: bool = False,
    sign_response: bool = True,
    want_signed_requests: bool = False,
    users: dict | None = None,
) -> SamlifyIdp:
    node = shutil.which("node")
    if node is None or not (PEER_DIR / "node_modules" / "samlify").is_dir():
        raise IdpMissing(f"install the test SAML IdP: npm ci --prefix {PEER_DIR}")
    key, certificate = key_and_certificate(name)
    config = {
        "key": key,
        "cert": certificate,
        "scope": scope,
        "name": name,
        "encrypt": encrypt,
        "signAssertion": sign_assertion,
        "signResponse": sign_response,
        "wantSignedRequests": want_signed_requests,
        "users": users if users is not None else default_users(scope),
    }
    port = node_peers.free_port()
    process = subprocess.Popen(
        [node, str(PEER_DIR / "idp.mjs"), str(port), json.dumps(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline()  # "READY <entityID>" once it listens
    if not line.startswith("READY "):
        process.kill()
        raise IdpMissing(f"the test SAML IdP did not start: {line!r}")
    return SamlifyIdp(line.split()[1], key, certificate, process)
