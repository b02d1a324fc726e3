"""Where an IdP's metadata comes from (``saml add``: a file, a URL, a federation's MDQ
service), fetched through the gateway's one outbound client, and when to fetch it again:
its ``cacheDuration`` within bounds, and before its ``validUntil``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote

from ...context import Gateway
from ...errors import N_, BadGateway, BadRequest
from ...support import outbound
from . import metadata
from .metadata import IdpMetadata, Refused, read

#: How soon metadata is fetched again when it names no cacheDuration.
DEFAULT_REFRESH = timedelta(hours=6)
#: Fetched again at least this often, and at most this often, whatever it says.
SHORTEST_REFRESH, LONGEST_REFRESH = timedelta(minutes=10), timedelta(days=1)


def mdq_url(base: str, entity_id: str) -> str:
    """Where a Metadata Query service answers for one entity (its SHA-1 form)."""
    sha1 = hashlib.sha1(entity_id.encode(), usedforsecurity=False).hexdigest()
    return base.rstrip("/") + "/entities/" + quote("{sha1}", safe="") + sha1


@dataclass(frozen=True)
class Fetched:
    metadata: IdpMetadata
    #: How far the server's clock (its HTTP Date) was from ours, in seconds.
    clock_offset_s: float | None


def fetch(gw: Gateway, url: str, *, entity_id=None, signer_pem=None) -> Fetched:
    """Fetch and read a metadata document over the outbound client."""
    reply, body = gw.outbound.call(
        "GET",
        url,
        "SAML metadata",
        headers={"Accept": "application/samlmetadata+xml, application/xml"},
    )
    offset = None
    try:
        served = parsedate_to_datetime(reply.headers.get("Date", ""))
        offset = round((served - datetime.now(UTC)).total_seconds(), 1)
    except (TypeError, ValueError):
        pass
    try:
        found = read(body, entity_id=entity_id, signer_pem=signer_pem)
    except Refused as exc:
        raise BadGateway(
            N_("the SAML metadata was refused: %(reason)s"), reason=exc.phrase
        ) from None
    return Fetched(found, offset)


def next_refresh(metadata: IdpMetadata, now: datetime) -> datetime:
    """When to fetch again: its cacheDuration within bounds, and before it expires."""
    wait = metadata.cache_duration or DEFAULT_REFRESH
    wait = max(SHORTEST_REFRESH, min(LONGEST_REFRESH, wait))
    when = now + wait
    if metadata.valid_until is not None:
        when = min(when, max(now + SHORTEST_REFRESH, metadata.valid_until - SHORTEST_REFRESH))
    return when


def obtain(
    gw: Gateway, source: str, location, entity_id, signer_pem, data
) -> tuple[Fetched, str | None]:
    """The metadata from where ``saml add`` said, checked; and the location to keep."""
    if source == "file":
        try:
            return Fetched(
                metadata.read(data, entity_id=entity_id, signer_pem=signer_pem), None
            ), None
        except Refused as exc:
            raise BadRequest(
                N_("the SAML metadata was refused: %(reason)s"), reason=exc.phrase
            ) from None
    location = outbound.check_url(location, "metadata URL" if source == "url" else "MDQ URL")
    if source == "mdq":
        if not signer_pem:
            raise BadRequest(N_("a federation's MDQ service needs its signing certificate"))
        url = mdq_url(location, metadata.check_entity_id(entity_id))
        return fetch(gw, url, entity_id=entity_id, signer_pem=signer_pem), location
    return fetch(gw, location, entity_id=entity_id, signer_pem=signer_pem), location
