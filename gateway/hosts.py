"""Hosts (tenants): the sites that hand their users to the gateway, and their secrets."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
import time

from sqlalchemy import select

from .context import Gateway
from .errors import N_, BadRequest, NotFound, Unauthorized
from .provisioning.paths import clean_path
from .store.models import Host, utcnow
from .store.registry import Registry
from .support.languages import required_tag

#: What every host id looks like; anything else names no host (and is never looked up).
HOST_ID = re.compile(r"^host_[0-9a-f]{16}$")


#: Hosts, as every kind of registration is kept (``store.registry``); removed ones stay.
REGISTRY = Registry(
    Host,
    "host",
    (
        "id",
        "name",
        "origins",
        "template_project_id",
        "template_paths",
        "language",
        "created_at",
        "removed_at",
    ),
    removed_at="removed_at",
)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


ORIGIN = re.compile(r"(https?)://(\[[0-9A-Fa-f:.]+\]|[^/:?#\[\]@\s]+)(?::([0-9]{1,5}))?/?")
LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_host(text: str) -> str | None:
    """The host of an origin in the form browsers send: lower case, punycode, or an IP."""
    if text.startswith("["):
        try:
            return f"[{ipaddress.IPv6Address(text[1:-1]).compressed}]"
        except ValueError:
            return None
    try:
        ascii_host = text.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(LABEL.match(label) for label in labels):
        return None
    return ascii_host


def normalize_origin(origin: str) -> str:
    """Accept ``scheme://host[:port]`` only, and return it as browsers send ``Origin``.

    Strict on purpose: an origin is put in the embed page's ``frame-ancestors`` and matched
    exactly by the relay, so wildcards, spaces, ``;`` and paths are refused, and a default
    port (``:443``, ``:80``) is dropped because browsers never send it.
    """
    problem = BadRequest(
        N_("not an origin: %(origin)r (use e.g. https://lms.example.edu or http://host:8080)"),
        origin=origin,
    )
    match = ORIGIN.fullmatch(origin.strip()) if isinstance(origin, str) else None
    if match is None:
        raise problem
    scheme, raw_host, raw_port = match.groups()
    host = _origin_host(raw_host)
    port = int(raw_port) if raw_port else None
    if host is None or (port is not None and not 0 < port < 65536):
        raise problem
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _new_secret() -> str:
    return "hs_" + secrets.token_urlsafe(32)


def add(
    gw: Gateway,
    name: str,
    origins: list[str],
    *,
    template_project_id: str | None = None,
    template_paths: list[str] = (),
    language: str | None = None,
) -> tuple[Host, str]:
    """Create a host; return it with its secret, which is shown only this once."""
    if not name.strip():
        raise BadRequest(N_("a host needs a name"))
    secret = _new_secret()
    host = Host(
        id="host_" + secrets.token_hex(8),
        name=name.strip(),
        secret_encrypted=gw.box.encrypt(secret),
        secret_digest=digest(secret),
        origins=[normalize_origin(o) for o in origins],
        template_project_id=template_project_id,
        template_paths=[clean_path(p) for p in template_paths],
        language=required_tag(language) if language else None,
    )
    with gw.db.begin() as session:
        session.add(host)
    return host, secret


# Every launch looks its host up; a short per-process cache saves that query. A host removed
# in another process stops working here within this many seconds; a rotated secret works at
# once (a signature or digest that does not match makes a fresh read first).
CACHE_SECONDS = 5.0


def _memo(gw: Gateway, name: str) -> dict:
    return gw.memo.setdefault(name, {})


def forget_cached(gw: Gateway, host_id: str) -> None:
    _memo(gw, "hosts").pop(host_id, None)


def get(gw: Gateway, host_id: str, *, fresh: bool = False, removed: bool = False) -> Host:
    """Return a host, from this process's cache unless ``fresh`` (e.g. a secret may be new).

    A removed host is not found, unless ``removed`` asks for it (``hosts restore``).
    """
    if not isinstance(host_id, str) or not HOST_ID.match(host_id):
        raise NotFound(N_("no host with this id"))
    cached = _memo(gw, "hosts").get(host_id)
    if cached and not fresh and not removed and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    try:
        host = REGISTRY.get(gw.db, host_id, with_removed=removed)
    except NotFound:
        forget_cached(gw, host_id)
        raise
    if host.removed_at is None:
        _memo(gw, "hosts")[host_id] = (time.monotonic(), host)
    return host


def all_hosts(gw: Gateway, *, removed: bool = False) -> list[Host]:
    return REGISTRY.all(gw.db, with_removed=removed)


def rotate_secret(gw: Gateway, host_id: str) -> str:
    secret = _new_secret()
    with gw.db.begin() as session:
        host = session.get(Host, host_id)
        if host is None:
            raise NotFound(N_("no host with id %(host_id)r"), host_id=host_id)
        host.secret_encrypted, host.secret_digest = gw.box.encrypt(secret), digest(secret)
        forget_cached(gw, host_id)
    return secret


def remove(gw: Gateway, host_id: str, *, purge: bool = False) -> None:
    """Stop a host: its tokens, secret and pages stop working (in every process within
    ``CACHE_SECONDS``). Its users stay, so ``restore`` brings them back to their accounts;
    ``purge`` forgets them for good instead (their CoCalc accounts and projects stay)."""
    with gw.db.begin() as session:
        host = session.get(Host, host_id)
        if host is None or (host.removed_at is not None and not purge):
            raise NotFound(N_("no host with id %(host_id)r"), host_id=host_id)
        if purge:
            session.delete(host)
        else:
            host.removed_at = utcnow()
        forget_cached(gw, host_id)


def restore(gw: Gateway, host_id: str) -> str:
    """Bring a removed host back, with a new secret (the old one stays dead); return it."""
    with gw.db.begin() as session:
        host = session.get(Host, host_id)
        if host is None or host.removed_at is None:
            raise NotFound(N_("no removed host with id %(host_id)r"), host_id=host_id)
        host.removed_at = None
    return rotate_secret(gw, host_id)


def signing_key(gw: Gateway, host: Host) -> bytes:
    keys = _memo(gw, "keys")
    key = keys.get(host.secret_encrypted)
    if key is None:
        if len(keys) > 1000:
            keys.clear()
        key = keys[host.secret_encrypted] = gw.box.decrypt(host.secret_encrypted).encode()
    return key


def by_bearer(gw: Gateway, authorization: str | None) -> Host:
    """Find the host whose secret is the request's bearer token."""
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized(N_("send the host secret as 'Authorization: Bearer <secret>'"))
    # The secret has 256 random bits; looking up its SHA-256 leaks nothing useful by timing.
    wanted = digest(secret.strip())
    by_digest = _memo(gw, "by_digest")  # secret digest -> host id
    host_id = by_digest.get(wanted)
    if host_id is None:
        row = gw.db.fetch(select(Host.id).where(Host.secret_digest == wanted))
        if row is None:
            raise Unauthorized(N_("the host secret is not valid"))
        host_id = by_digest[wanted] = row.id
    try:
        host = get(gw, host_id)
        if host.secret_digest != wanted:
            host = get(gw, host_id, fresh=True)  # the cached copy may predate a rotation
    except NotFound:
        host = None
    if host is None or host.secret_digest != wanted:
        by_digest.pop(wanted, None)  # rotated or removed meanwhile
        raise Unauthorized(N_("the host secret is not valid"))
    return host


def describe(host: Host) -> dict:
    return REGISTRY.describe(host)
