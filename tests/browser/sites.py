"""Several sites on loopback for the browser tests: names under ``example.test`` that
Chromium maps to 127.0.0.1 (``--host-resolver-rules``), served over https with a
certificate made here for ``*.example.test`` (``__Host-`` cookies need a secure scheme)."""

from __future__ import annotations

import datetime
import ssl
import tempfile
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.browser.conftest import ARGS

#: Chromium's arguments for these sites: every name under example.test is loopback, and the
#: certificate made here is not checked.
SITE_ARGS = [
    *ARGS,
    "--host-resolver-rules=MAP *.example.test 127.0.0.1",
    "--ignore-certificate-errors",
]


@cache
def _certificate_files() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("example.test"), x509.DNSName("*.example.test")]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    folder = Path(tempfile.mkdtemp(prefix="gateway-tls-"))
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(folder / "cert.pem"), str(folder / "key.pem")


def tls_context() -> ssl.SSLContext:
    """A server context with the certificate for every name under example.test."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*_certificate_files())
    return context
