"""The service provider's own keys: one signs, every kept one decrypts and is published.

Each key is RSA with a self-signed certificate (SAML metadata carries keys as X.509
certificates; nobody checks their issuer, only that the key is the one in the metadata).
Rotation without a failed sign-in: ``rotate`` adds a key that is published in every host's
SP metadata at once and **signs only from a day later** (``ROTATION_DELAY``), once the IdPs
that verify signed requests (and the federations that publish the SP's metadata) have
fetched it; ``rotate(at_once=True)`` is for a key that leaked. The key that signs is also
the one offered for encryption; the older keys keep decrypting (an IdP that still encrypts
to one is still understood) until ``remove`` drops them. Private keys are encrypted at rest
with the gateway's box.

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
#: How long a rotated key is published before it signs.
ROTATION_DELAY = timedelta(days=1)


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


def _new_row(gw: Gateway, signs_from: datetime | None = None) -> SamlSpKey:
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
        signs_from=signs_from or utcnow(),
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
    return SpKeys(signing=keys[_signing_index(rows)], published=keys)


def _signing_index(rows) -> int:
    """The newest key whose time to sign has come (else the oldest: one always signs)."""
    now = utcnow()
    return next((i for i, r in enumerate(rows) if _aware(r.signs_from) <= now), len(rows) - 1)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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


def rotate(gw: Gateway, *, at_once: bool = False) -> str:
    """Add a key, published now, that signs after ``ROTATION_DELAY`` (or now, ``at_once``:
    for a key that leaked, accepting that IdPs that verify requests refuse them until they
    fetch the new metadata); return its kid."""
    row = _new_row(gw, None if at_once else utcnow() + ROTATION_DELAY)
    with gw.db.begin() as session:
        session.add(row)
    forget_cached(gw)
    return row.kid


def remove(gw: Gateway, kid: str) -> None:
    """Stop publishing a key (and decrypting with it). The key that signs cannot go: rotate
    first, and wait until the new one signs."""
    with gw.db.begin() as session:
        rows = list(session.scalars(select(SamlSpKey).order_by(SamlSpKey.created_at.desc())))
        if rows and kid == rows[_signing_index(rows)].kid:
            raise BadRequest(N_("this key signs now; run `saml keys rotate` before removing it"))
        if session.execute(delete(SamlSpKey).where(SamlSpKey.kid == kid)).rowcount != 1:
            raise NotFound(N_("there is no service provider key %(kid)s"), kid=kid)
    forget_cached(gw)


def describe_all(gw: Gateway) -> list[dict]:
    """Every kept key, newest first: when it was made, when it signs (or signed) from, and
    whether it is the one that signs now."""
    with gw.db.read() as session:
        rows = list(session.scalars(select(SamlSpKey).order_by(SamlSpKey.created_at.desc())))
    signing = _signing_index(rows) if rows else None
    return [
        {
            "kid": row.kid,
            "created_at": _aware(row.created_at).isoformat(),
            "signs_from": _aware(row.signs_from).isoformat(),
            "signing": i == signing,
        }
        for i, row in enumerate(rows)
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
