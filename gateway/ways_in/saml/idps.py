"""The identity providers a host's users sign in at: added, listed, removed, refreshed.

Each IdP belongs to one host (the same university IdP added to two hosts is two rows: each
host is a service provider of its own, ``sp``). What is kept is the metadata as verified
(``metadata``); a refresh that fails keeps the last good metadata until its ``validUntil``
and says why (``refresh_error``, reported by ``doctor``).
"""

from __future__ import annotations

import functools
import logging
import secrets
from datetime import UTC, datetime

from sqlalchemy import select, update

from ... import hosts
from ...context import Gateway
from ...errors import N_, BadRequest, GatewayError, NotFound
from ...store.models import utcnow
from ...store.registry import Registry
from ...store.saml_tables import SamlIdp
from . import metadata, sources
from .metadata import IdpMetadata, Refused

log = logging.getLogger(__name__)

SOURCES = ("url", "file", "mdq")

REGISTRY = Registry(
    SamlIdp,
    "SAML identity provider",
    (
        "id",
        "host_id",
        "entity_id",
        "source",
        "location",
        "allow_unsolicited",
        "allow_unencrypted",
        "created_at",
        "fetched_at",
        "valid_until",
        "refresh_after",
        "refresh_error",
    ),
)


@functools.lru_cache(maxsize=256)
def _read_stored(xml: str) -> IdpMetadata:
    return metadata.read(xml.encode())


def metadata_of(idp: SamlIdp) -> IdpMetadata:
    """The metadata kept for ``idp`` (parsed once per process and version)."""
    return _read_stored(idp.metadata_xml)


def add(
    gw: Gateway,
    host_id: str,
    *,
    source: str,
    location: str | None = None,
    data: bytes | None = None,
    entity_id: str | None = None,
    signer_pem: str | None = None,
    allow_unsolicited: bool = False,
    allow_unencrypted: bool = False,
) -> SamlIdp:
    """Add an IdP to a host from its metadata (checked now: a bad one is never stored)."""
    hosts.get(gw, host_id)
    if source not in SOURCES:
        raise BadRequest(N_("a metadata source is a URL, a file or an MDQ service"))
    if entity_id is not None:
        entity_id = metadata.check_entity_id(entity_id)
    if signer_pem is not None and "BEGIN CERTIFICATE" not in signer_pem:
        raise BadRequest(N_("the signer's certificate must be a PEM certificate"))
    fetched, location = sources.obtain(gw, source, location, entity_id, signer_pem, data)
    found = fetched.metadata
    if REGISTRY.find(gw.db, host_id=host_id, entity_id=found.entity_id):
        raise BadRequest(N_("this identity provider is already set up for this host"))
    now = utcnow()
    idp = SamlIdp(
        id="idp_" + secrets.token_hex(8),
        host_id=host_id,
        entity_id=found.entity_id,
        source=source,
        location=location,
        signer_certificate=signer_pem,
        metadata_xml=found.xml,
        valid_until=found.valid_until,
        refresh_after=None if source == "file" else sources.next_refresh(found, now),
        fetched_at=now,
        clock_offset_s=fetched.clock_offset_s,
        allow_unsolicited=allow_unsolicited,
        allow_unencrypted=allow_unencrypted,
        created_at=now,
    )
    with gw.db.begin() as session:
        session.add(idp)
    return idp


def refresh(gw: Gateway, idp: SamlIdp) -> SamlIdp:
    """Fetch an IdP's metadata again; on failure keep the last good one and say why."""
    if idp.source == "file":
        return idp
    now = utcnow()
    try:
        fetched, _ = sources.obtain(
            gw, idp.source, idp.location, idp.entity_id, idp.signer_certificate, None
        )
    except GatewayError as exc:
        log.warning("SAML metadata of %s not refreshed: %s", idp.id, exc.message)
        values = {
            "refresh_error": exc.message[:255],
            "refresh_after": now + sources.SHORTEST_REFRESH,
        }
    else:
        found = fetched.metadata
        values = {
            "metadata_xml": found.xml,
            "valid_until": found.valid_until,
            "refresh_after": sources.next_refresh(found, now),
            "fetched_at": now,
            "refresh_error": None,
            "clock_offset_s": fetched.clock_offset_s,
        }
    with gw.db.begin() as session:
        session.execute(update(SamlIdp).where(SamlIdp.id == idp.id).values(**values))
    return get(gw, idp.id)


def refresh_due(gw: Gateway) -> int:
    """Housekeeping: refresh every IdP whose metadata is due; return how many were."""
    with gw.db.read() as session:
        due = list(
            session.scalars(
                select(SamlIdp).where(
                    SamlIdp.refresh_after.is_not(None), SamlIdp.refresh_after <= utcnow()
                )
            )
        )
    for idp in due:
        refresh(gw, idp)
    return len(due)


def get(gw: Gateway, idp_id) -> SamlIdp:
    return REGISTRY.get(gw.db, idp_id)


def all_idps(gw: Gateway) -> list[SamlIdp]:
    return REGISTRY.all(gw.db)


def of_host(gw: Gateway, host_id: str) -> list[SamlIdp]:
    return sorted(REGISTRY.find(gw.db, host_id=host_id), key=lambda i: i.created_at)


def for_sign_in(gw: Gateway, host_id: str, entity_id: str) -> SamlIdp:
    """The host's IdP with ``entity_id`` whose metadata is still valid."""
    found = REGISTRY.find(gw.db, host_id=host_id, entity_id=entity_id)
    if not found:
        raise NotFound(N_("this site has no such identity provider"))
    idp = found[0]
    if idp.valid_until is not None and idp.valid_until <= datetime.now(UTC):
        raise BadRequest(
            N_("this identity provider's metadata has expired; ask the site's operator")
        )
    return idp


def remove(gw: Gateway, idp_id: str) -> None:
    """Remove an IdP: its sessions end with it; its users stay, and sign in again once it
    is back (their keys name its entity ID, not this row)."""
    REGISTRY.remove(gw.db, idp_id)


def describe(idp: SamlIdp) -> dict:
    found = REGISTRY.describe(idp)
    try:
        meta = metadata_of(idp)
    except Refused:
        return found
    expires = meta.certificate_expiry()
    return {
        **found,
        "name": meta.name(),
        "single_logout": bool(meta.slo_url),
        "scopes": [s.value for s in meta.scopes],
        "signing_certificate_expires": expires.isoformat() if expires else None,
    }
