"""The service provider's own keys: the newest signs, every kept one decrypts.

Each key is RSA with a self-signed certificate (SAML metadata carries keys as X.509
certificates; nobody checks their issuer, only that the key is the one in the metadata).
Rotation without a failed sign-in: ``rotate`` adds a key, which signs from then on and is
published first in every host's SP metadata; the older keys stay published for encryption
(an IdP that still encrypts to one, until it reads the new metadata, is still understood)
until ``remove`` drops them. Private keys are encrypted at rest with the gateway's box.

``xmlsec1``, which pysaml2 runs, reads keys from files: ``files`` writes each key once per
process into a directory only this user may read (``0700``, files ``0600``), removed when
the process ends.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import delete, select

from ...context import Gateway
from ...errors import N_, BadRequest, NotFound
from ...store.models import utcnow
from ...store.saml_tables import SamlSpKey

KEY_BITS = 3072
#: A certificate in SAML metadata is a key holder, not a trust anchor: its dates are not
#: checked by IdPs that follow the metadata profile, so it is made to outlast the key.
CERTIFICATE_YEARS = 20
CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class SpKey:
    kid: str
    private_pem: str
    certificate_pem: str

    @property
    def certificate_base64(self) -> str:
        """The certificate as metadata's ``ds:X509Certificate`` holds it."""
        lines = self.certificate_pem.strip().splitlines()
        return "".join(line for line in lines if not line.startswith("-----"))


@dataclass(frozen=True)
class SpKeys:
    signing: SpKey  # the newest
    published: tuple[SpKey, ...]  # newest first: all decrypt


def _certificate(key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cocalc-gateway SAML SP")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * CERTIFICATE_YEARS))
        .sign(key, hashes.SHA256())
    )


def _new_row(gw: Gateway) -> SamlSpKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    certificate = _certificate(key)
    der = certificate.public_bytes(serialization.Encoding.DER)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return SamlSpKey(
        kid=hashlib.sha256(der).hexdigest()[:40],
        private_key_encrypted=gw.box.encrypt(pem),
        certificate=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        created_at=utcnow(),
    )


def _load(gw: Gateway) -> SpKeys:
    with gw.db.read() as session:
        rows = list(session.scalars(select(SamlSpKey).order_by(SamlSpKey.created_at.desc())))
    if not rows:
        # The first use makes the first key (two processes at once each add one: both are
        # published, the newer signs).
        with gw.db.begin() as session:
            session.add(_new_row(gw))
        return _load(gw)
    keys = tuple(SpKey(r.kid, gw.box.decrypt(r.private_key_encrypted), r.certificate) for r in rows)
    return SpKeys(signing=keys[0], published=keys)


def current(gw: Gateway) -> SpKeys:
    memo = gw.memo.setdefault("saml_sp_keys", {})
    cached = memo.get("keys")
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    keys = _load(gw)
    memo["keys"] = (time.monotonic(), keys)
    return keys


def forget_cached(gw: Gateway) -> None:
    gw.memo.setdefault("saml_sp_keys", {}).pop("keys", None)


def rotate(gw: Gateway) -> str:
    """Add a key that signs from now on; return its kid."""
    row = _new_row(gw)
    with gw.db.begin() as session:
        session.add(row)
    forget_cached(gw)
    return row.kid


def remove(gw: Gateway, kid: str) -> None:
    """Stop publishing a key (and decrypting with it). The newest signs: rotate first."""
    with gw.db.begin() as session:
        newest = session.scalar(select(SamlSpKey.kid).order_by(SamlSpKey.created_at.desc()))
        if kid == newest:
            raise BadRequest(N_("this key signs now; run `saml keys rotate` before removing it"))
        if session.execute(delete(SamlSpKey).where(SamlSpKey.kid == kid)).rowcount != 1:
            raise NotFound(N_("there is no service provider key %(kid)s"), kid=kid)
    forget_cached(gw)


def describe_all(gw: Gateway) -> list[dict]:
    with gw.db.read() as session:
        rows = session.execute(
            select(SamlSpKey.kid, SamlSpKey.created_at).order_by(SamlSpKey.created_at.desc())
        ).all()
    return [
        {"kid": kid, "created_at": created.isoformat(), "signing": i == 0}
        for i, (kid, created) in enumerate(rows)
    ]


# -- the files xmlsec1 reads -------------------------------------------------------------------
@dataclass(frozen=True)
class KeyFiles:
    key: str
    certificate: str


class _Directory:
    """One private directory per process, removed when the process ends."""

    def __init__(self):
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._written: dict[str, KeyFiles] = {}

    def files(self, key: SpKey) -> KeyFiles:
        with self._lock:
            found = self._written.get(key.kid)
            if found is not None and Path(found.key).exists():
                return found
            if self._path is None or not self._path.exists():
                self._path = Path(tempfile.mkdtemp(prefix="cocalc-gateway-saml-"))
                os.chmod(self._path, 0o700)
                atexit.register(shutil.rmtree, self._path, True)
            found = KeyFiles(
                self._write(f"{key.kid}.key", key.private_pem),
                self._write(f"{key.kid}.crt", key.certificate_pem),
            )
            self._written[key.kid] = found
            return found

    def _write(self, name: str, text: str) -> str:
        path = self._path / name
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(text)
        return str(path)


_DIRECTORY = _Directory()


def files(key: SpKey) -> KeyFiles:
    """The key and its certificate as files xmlsec1 can read (written once per process)."""
    return _DIRECTORY.files(key)
