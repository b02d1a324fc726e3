"""An identity provider's metadata: read, checked, and what the gateway takes from it.

Metadata comes from one of three places (``saml add``):

- **a URL** of the IdP's own metadata (Entra ID's "App Federation Metadata Url", Okta's
  "Metadata URL", a Shibboleth IdP's ``/idp/shibboleth``), fetched through the gateway's
  one outbound client (no private targets unless allowed, a deadline, a size cap) and
  refreshed in the background; with ``--metadata-cert`` its signature must check out
  against that certificate;
- **a file**, read once (a federation aggregate file is fine for testing: the entity is
  picked by ``--entity-id``);
- **MDQ**, a federation's Metadata Query service: ``{base}/entities/{sha1}<hex>``, one
  entity at a time (never a whole aggregate: eduGAIN's is meant for federations, and a
  national federation's is over 70 MB), signed by the federation, whose certificate
  (``--mdq-cert``) it must verify against.

Every document passes ``xml_guard`` before its signature is checked; an expired one
(``validUntil`` past) is refused, and so is an unsigned one where a signer is named. What
the gateway keeps: the EntityDescriptor, its ``validUntil``, when to fetch it again (its
``cacheDuration``, else ``DEFAULT_REFRESH``), and from it the single sign-on and logout
endpoints (HTTP-Redirect), the signing and encryption certificates, whether it wants
signed requests, its ``shibmd:Scope`` values, and its display names.
"""

from __future__ import annotations

import base64
import re
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from saml2.sigver import CryptoBackendXmlSec1, SignatureError, XmlsecError

from ...errors import N_, BadRequest
from . import xml_guard
from .xml_guard import DS, MD, Refused

SHIBMD = "urn:mace:shibboleth:metadata:1.0"
MDUI = "urn:oasis:names:tc:SAML:metadata:ui"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
ENTITY = f"{{{MD}}}EntityDescriptor"
ENTITIES = f"{{{MD}}}EntitiesDescriptor"
XMLSEC = "/usr/bin/xmlsec1"

MAX_ENTITY_ID = 1024


@dataclass(frozen=True)
class Scope:
    value: str
    regexp: bool = False

    def covers(self, scope: str) -> bool:
        if self.regexp:
            try:
                return re.fullmatch(self.value, scope) is not None
            except re.error:
                return False
        return scope == self.value


@dataclass(frozen=True)
class IdpMetadata:
    entity_id: str
    sso_url: str
    slo_url: str | None
    #: Certificates (base64 DER, as metadata holds them).
    signing: tuple[str, ...]
    encryption: tuple[str, ...]
    wants_signed_requests: bool
    scopes: tuple[Scope, ...]
    #: Display names by language ("" for a name without one).
    names: dict = field(default_factory=dict)
    valid_until: datetime | None = None
    cache_duration: timedelta | None = None
    #: The EntityDescriptor, serialized (what pysaml2 loads).
    xml: str = ""

    def name(self, language: str | None = None) -> str:
        base = (language or "").split("-")[0]
        for tag in (language, base, "en", ""):
            if tag is not None and tag in self.names:
                return self.names[tag]
        return next(iter(self.names.values()), self.entity_id)

    def certificate_expiry(self) -> datetime | None:
        """When the first of its signing certificates expires."""
        ends = [_certificate(c).not_valid_after_utc for c in self.signing]
        return min(ends) if ends else None


def _certificate(text: str) -> x509.Certificate:
    return x509.load_der_x509_certificate(base64.b64decode("".join(text.split())))


_DURATION = re.compile(
    r"P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)


def parse_duration(text: str | None) -> timedelta | None:
    """An xs:duration such as ``PT6H`` or ``P1D`` (years and months as 365 and 30 days)."""
    if not text:
        return None
    found = _DURATION.fullmatch(text.strip())
    if not found or text.strip() in ("P", "PT"):
        return None
    part = {k: float(v) if v else 0.0 for k, v in found.groupdict().items()}
    return timedelta(
        days=part["y"] * 365 + part["mo"] * 30 + part["d"],
        hours=part["h"],
        minutes=part["mi"],
        seconds=part["s"],
    )


def _check_signed(data: bytes, root: ET.Element, signer_pem: str) -> None:
    """The root element's signature must check out against ``signer_pem``."""
    if root.find(f"{{{DS}}}Signature") is None:
        raise Refused(N_("the metadata is not signed, but its signer was named"))
    node = "urn:oasis:names:tc:SAML:2.0:metadata:" + xml_guard.local(root.tag)
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as certificate:
        certificate.write(signer_pem)
        certificate.flush()
        backend = CryptoBackendXmlSec1(XMLSEC)
        try:
            verified = backend.validate_signature(
                data, certificate.name, "pem", node, root.get("ID")
            )
        except (SignatureError, XmlsecError):
            verified = False
    if not verified:
        raise Refused(N_("the metadata's signature does not check out against its signer"))


def _entity(root: ET.Element, entity_id: str | None) -> ET.Element:
    if root.tag == ENTITY:
        found = [root]
    elif root.tag == ENTITIES:
        found = list(root.iter(ENTITY))
    else:
        raise Refused(N_("the document is not SAML metadata"))
    if entity_id is not None:
        found = [e for e in found if e.get("entityID") == entity_id]
    if len(found) != 1:
        raise Refused(
            N_("the metadata holds no such entity")
            if entity_id is not None
            else N_("the metadata holds several entities; name one (--entity-id)")
        )
    return found[0]


def _certificates(descriptor: ET.Element, use: str) -> tuple[str, ...]:
    found = []
    for key in descriptor.findall(f"{{{MD}}}KeyDescriptor"):
        if key.get("use") not in (None, use):
            continue
        for text in key.iterfind(f".//{{{DS}}}X509Certificate"):
            value = "".join((text.text or "").split())
            try:
                _certificate(value)
            except ValueError:
                raise Refused(N_("a certificate in the metadata cannot be read")) from None
            found.append(value)
    return tuple(found)


def _endpoint(descriptor: ET.Element, tag: str) -> str | None:
    for service in descriptor.findall(f"{{{MD}}}{tag}"):
        if service.get("Binding") == REDIRECT and service.get("Location"):
            return service.get("Location")
    return None


def _names(entity: ET.Element) -> dict:
    names = {}
    for name in entity.iterfind(f".//{{{MDUI}}}UIInfo/{{{MDUI}}}DisplayName"):
        if name.text and name.text.strip():
            names.setdefault(name.get(XML_LANG, ""), name.text.strip()[:200])
    if not names:
        for name in entity.iterfind(f"{{{MD}}}Organization/{{{MD}}}OrganizationDisplayName"):
            if name.text and name.text.strip():
                names.setdefault(name.get(XML_LANG, ""), name.text.strip()[:200])
    return names


def read(
    data: bytes, *, entity_id: str | None = None, signer_pem: str | None = None
) -> IdpMetadata:
    """Check a metadata document and take the IdP ``entity_id`` (or its only entity)."""
    root = xml_guard.parse(data, limit=xml_guard.MAX_METADATA_BYTES)
    xml_guard.signatures(root, frozenset({ENTITY, ENTITIES}))
    if signer_pem:
        _check_signed(data, root, signer_pem)
    entity = _entity(root, entity_id)
    now = datetime.now(UTC)
    refusal = Refused(N_("a validUntil is not a date and time"))
    found = (xml_guard.instant(e.get("validUntil"), refusal) for e in (root, entity))
    ends = [t for t in found if t]
    valid_until = min(ends) if ends else None
    if valid_until is not None and valid_until <= now:
        raise Refused(N_("the metadata has expired (its validUntil is past)"))
    durations = [parse_duration(e.get("cacheDuration")) for e in (root, entity)]
    cache_duration = min((d for d in durations if d), default=None)
    descriptors = [
        d
        for d in entity.findall(f"{{{MD}}}IDPSSODescriptor")
        if PROTOCOL in (d.get("protocolSupportEnumeration") or "").split()
    ]
    if len(descriptors) != 1:
        raise Refused(N_("the entity is not a SAML 2.0 identity provider"))
    idp = descriptors[0]
    sso_url = _endpoint(idp, "SingleSignOnService")
    if not sso_url:
        raise Refused(N_("the identity provider has no single sign-on service for HTTP-Redirect"))
    signing = _certificates(idp, "signing")
    if not signing:
        raise Refused(N_("the identity provider's metadata names no signing certificate"))
    scopes = tuple(
        Scope((s.text or "").strip(), s.get("regexp") in ("true", "1"))
        for where in (entity, idp)
        for s in where.findall(f"{{{MD}}}Extensions/{{{SHIBMD}}}Scope")
        if (s.text or "").strip()
    )
    serialized = ET.tostring(entity, encoding="unicode")
    return IdpMetadata(
        entity_id=entity.get("entityID") or "",
        sso_url=sso_url,
        slo_url=_endpoint(idp, "SingleLogoutService"),
        signing=signing,
        encryption=_certificates(idp, "encryption"),
        wants_signed_requests=idp.get("WantAuthnRequestsSigned") in ("true", "1"),
        scopes=scopes,
        names=_names(entity),
        valid_until=valid_until,
        cache_duration=cache_duration,
        xml=serialized,
    )


def check_entity_id(entity_id) -> str:
    if not isinstance(entity_id, str) or not entity_id.strip() or len(entity_id) > MAX_ENTITY_ID:
        raise BadRequest(N_("an entity ID is a URI of at most 1024 characters"))
    return entity_id.strip()
