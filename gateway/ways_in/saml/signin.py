"""A SAML sign-in: the AuthnRequest, and what a response at the ACS proves.

**Bound to the browser that started it.** ``start`` makes a random RelayState (short: the
bindings allow 80 bytes) and a ``__Host-`` cookie named after it that holds, signed, what
the sign-in is for (the host, the IdP, the file to open, the language). The AuthnRequest's
ID is derived from the RelayState with the gateway's key, so the response's
``InResponseTo`` must name the request this browser's cookie stands for: a response taken
from one browser and posted from another (login CSRF with the attacker's own sign-in) finds
no cookie and is refused. The cookie is ``SameSite=None``: the IdP's page posts the
response from its own site, and a ``Lax`` cookie would not come along.

**What is checked, in order**, before anything is provisioned: the document's shape
(``xml_guard``: size, no DTD, no comments, signature algorithms and transforms, wrapping,
one assertion); encryption (an unencrypted assertion only where the operator allowed it);
that the assertion in use is covered by a signature; pysaml2's verification (the signature
against the IdP's metadata keys, status, issuer, audience, ``InResponseTo``, the validity
window with ``CLOCK_SKEW_S``); then the gateway's own: issuer, destination, a bearer
subject confirmation for this ACS and this request, the audience, the times. The
assertion's ID is spent (until it expires) with the session the sign-in makes, and so is
the RelayState: a replay is refused.

**IdP-initiated** (unsolicited) responses, which carry no ``InResponseTo``, are refused
unless the operator turned them on for that IdP (``saml add --allow-unsolicited``); then
they are still one-time by their assertion ID. They cannot be bound to a browser (nothing
started them): that is the login-CSRF risk the operator accepts for that IdP.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.sigver import CryptoBackendXmlSec1, DecryptError, XmlsecError

from ... import hosts
from ...context import Gateway
from ...errors import N_, BadRequest, Forbidden, Unauthorized
from ...launches.links import spend_once
from ...launches.request import OneTime
from ...provisioning.paths import clean_path
from ...provisioning.profile import UserProfile
from ...store.models import Host
from ...store.saml_tables import SamlIdp
from ...support.keys import digest
from ...support.languages import clean_tag, first_tag
from .. import limits, states
from . import attributes, idps, sp, sp_keys, xml_guard
from .metadata import XMLSEC
from .xml_guard import SAML, SAMLP, Refused

log = logging.getLogger(__name__)

LIFETIME = timedelta(minutes=10)
COOKIE_PREFIX = "__Host-saml_state_"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
MAX_RELAY_STATE = 80
#: The form field holds the base64 of at most ``xml_guard.MAX_RESPONSE_BYTES``.
MAX_FORM_FIELD = xml_guard.MAX_RESPONSE_BYTES * 4 // 3 + 4096


def cookie_name(relay_state: str) -> str:
    return COOKIE_PREFIX + digest(relay_state)[:16]


def request_id(gw: Gateway, relay_state: str) -> str:
    """The AuthnRequest's ID: an NCName no one can compute without the gateway's key."""
    return "_" + states.derived(gw, "saml-request", relay_state)


def _signer(gw: Gateway) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(gw.settings["GATEWAY_SECRET_KEY"], salt="saml-state")


@dataclass(frozen=True)
class Started:
    redirect_url: str
    relay_state: str
    cookie: str


def start(
    gw: Gateway, host_id: str, idp: SamlIdp, path, *, client=None, ui_locales=None
) -> Started:
    """An AuthnRequest to ``idp`` by HTTP-Redirect, signed where its metadata wants."""
    hosts.get(gw, host_id)
    path = clean_path(path)
    locale = first_tag(ui_locales)
    limits.sign_in_started(gw, client)
    relay = secrets.token_urlsafe(24)
    saml = sp.client(gw, host_id, idp)
    meta = idps.metadata_of(idp)
    _, request = saml.create_authn_request(
        destination=meta.sso_url,
        binding=BINDING_HTTP_POST,
        message_id=request_id(gw, relay),
        sign=False,  # a redirect's signature is in its query string (below)
    )
    info = saml.apply_binding(
        BINDING_HTTP_REDIRECT,
        str(request),
        meta.sso_url,
        relay,
        sign=meta.wants_signed_requests,
        sigalg=sp.SIGNATURE,
    )
    location = dict(info["headers"])["Location"]
    cookie = _signer(gw).dumps(
        {"relay": relay, "host": host_id, "idp": idp.id, "path": path, "locale": locale}
    )
    return Started(location, relay, cookie)


@dataclass(frozen=True)
class SignedIn:
    host: Host
    idp: SamlIdp
    profile: UserProfile
    path: str
    locale: str | None
    #: What the session spends: the assertion's ID, and the RelayState if it had one.
    once: tuple[OneTime, ...]
    #: What a single logout names (NameID and SessionIndex), as JSON.
    logout_subject: str
    logout_digest: str


USED = N_("this sign-in was used already, has expired, or was not started in this browser")


def _form_value(form, name: str, limit: int) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise Refused(f"the {name} field is too long")
    return value


def _decoded(text: str | None) -> bytes:
    if not text:
        raise BadRequest(N_("the identity provider sent no SAML response"))
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise Refused("the SAMLResponse is not base64") from None


def _kept(gw: Gateway, relay: str | None, cookies) -> dict | None:
    """What the browser that started this sign-in keeps, if this is that browser."""
    if not relay:
        return None
    signed = cookies.get(cookie_name(relay))
    if not signed:
        return None
    try:
        kept = _signer(gw).loads(signed, max_age=int(LIFETIME.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(kept, dict) or not hmac.compare_digest(str(kept.get("relay")), relay):
        return None
    return kept


def _issuer(element: ET.Element) -> str | None:
    found = element.find(f"{{{SAML}}}Issuer")
    return (found.text or "").strip() if found is not None else None


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        found = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Refused("a time in the assertion is not a date and time") from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _decrypt(gw: Gateway, data: bytes) -> bytes:
    backend = CryptoBackendXmlSec1(XMLSEC)
    for key in sp_keys.current(gw).published:
        try:
            return backend.decrypt(data.decode(), sp_keys.files(key).key).encode()
        except (DecryptError, XmlsecError, UnicodeDecodeError):
            continue
    raise Refused("the encrypted assertion could not be decrypted with this service's keys")


def _verified_by_pysaml2(gw, host_id, idp, encoded: str, outstanding: dict | None):
    saml = sp.client(gw, host_id, idp)
    try:
        found = saml.parse_authn_request_response(
            encoded, BINDING_HTTP_POST, outstanding=outstanding or {}
        )
    except Exception as exc:  # pysaml2 raises its own, and ValueError/KeyError, for any fault
        log.warning(
            "SAML response of %s refused by pysaml2: %s: %s", idp.id, type(exc).__name__, exc
        )
        raise Refused(f"it did not verify: {type(exc).__name__}") from None
    if found is None or found.assertion is None:
        raise Refused("it did not verify")
    return found


def _check_subject(assertion: ET.Element, acs: str, expected: str | None, now: datetime):
    """A bearer confirmation for this ACS, this request, and now; returns its end."""
    for confirmation in assertion.iterfind(f"{{{SAML}}}Subject/{{{SAML}}}SubjectConfirmation"):
        if confirmation.get("Method") != BEARER:
            continue
        data = confirmation.find(f"{{{SAML}}}SubjectConfirmationData")
        if data is None or data.get("Recipient") != acs:
            continue
        if data.get("InResponseTo") != expected:
            continue
        ends = _instant(data.get("NotOnOrAfter"))
        if ends is None or ends + timedelta(seconds=sp.CLOCK_SKEW_S) <= now:
            continue
        starts = _instant(data.get("NotBefore"))
        if starts is not None and starts - timedelta(seconds=sp.CLOCK_SKEW_S) > now:
            continue
        return ends
    raise Refused("no bearer confirmation for this service, this request and this time")


def _check_conditions(assertion: ET.Element, entity_id: str, now: datetime) -> datetime | None:
    conditions = assertion.find(f"{{{SAML}}}Conditions")
    if conditions is None:
        raise Refused("the assertion has no conditions")
    skew = timedelta(seconds=sp.CLOCK_SKEW_S)
    starts = _instant(conditions.get("NotBefore"))
    ends = _instant(conditions.get("NotOnOrAfter"))
    if (starts and starts - skew > now) or (ends and ends + skew <= now):
        raise Refused("the assertion is not valid at this time")
    restrictions = conditions.findall(f"{{{SAML}}}AudienceRestriction")
    if not restrictions:
        raise Refused("the assertion names no audience")
    for restriction in restrictions:  # every restriction must admit this service
        audiences = [(a.text or "").strip() for a in restriction.findall(f"{{{SAML}}}Audience")]
        if entity_id not in audiences:
            raise Refused("the assertion is for another service")
    return ends


def _logout_subject(assertion: ET.Element, idp: SamlIdp) -> tuple[str, str]:
    name_id = assertion.find(f"{{{SAML}}}Subject/{{{SAML}}}NameID")
    statement = assertion.find(f"{{{SAML}}}AuthnStatement")
    subject = {
        "name_id": (name_id.text or "").strip() if name_id is not None else "",
        "format": name_id.get("Format") if name_id is not None else None,
        "name_qualifier": name_id.get("NameQualifier") if name_id is not None else None,
        "sp_name_qualifier": name_id.get("SPNameQualifier") if name_id is not None else None,
        "session_index": statement.get("SessionIndex") if statement is not None else None,
    }
    return json.dumps(subject), subject_digest(idp, subject["name_id"])


def subject_digest(idp: SamlIdp, name_id: str) -> str:
    return digest(f"{idp.id}\n{name_id}")


def finish(gw: Gateway, host_id: str, form, cookies) -> SignedIn:
    """Check a response posted to ``host_id``'s ACS; return who signed in, or raise."""
    host = hosts.get(gw, host_id)
    urls = sp.endpoints(gw, host_id)
    encoded = _form_value(form, "SAMLResponse", MAX_FORM_FIELD)
    relay = _form_value(form, "RelayState", 1024)
    data = _decoded(encoded)
    shape = xml_guard.response(data)
    root = shape.root
    in_response_to = root.get("InResponseTo")
    kept = _kept(gw, relay, cookies) if relay and len(relay) <= MAX_RELAY_STATE else None
    if in_response_to is not None:
        # Solicited: it must answer the request this browser's cookie stands for.
        if kept is None or kept.get("host") != host_id:
            raise Forbidden(USED)
        expected = request_id(gw, relay)
        if not hmac.compare_digest(in_response_to, expected):
            raise Forbidden(USED)
        idp = idps.get(gw, kept["idp"])
        issuer = _issuer(root)
        if issuer is not None and issuer != idp.entity_id:
            raise Refused("the response comes from another identity provider")
    else:
        expected, issuer = None, _issuer(root)
        if issuer is None:
            raise Refused("an unsolicited response must name its issuer")
        idp = idps.for_sign_in(gw, host_id, issuer)
        if not idp.allow_unsolicited:
            raise Forbidden(
                N_(
                    "sign-ins started at the identity provider are not accepted here; "
                    "start from this site's sign-in page"
                )
            )
        kept = None
    if idp.host_id != host_id:
        raise Forbidden(USED)
    meta = idps.metadata_of(idp)
    destination = root.get("Destination")
    if destination is not None and destination != urls.acs:
        raise Refused("the response is for another address")
    if destination is None and shape.response_signed:
        raise Refused("a signed response must name its destination")
    status = root.find(f"{{{SAMLP}}}Status/{{{SAMLP}}}StatusCode")
    if status is None or status.get("Value") != SUCCESS:
        raise Unauthorized(N_("the identity provider did not sign you in; sign in again"))
    if shape.encrypted is not None:
        assertion = xml_guard.decrypted_assertion(_decrypt(gw, data))
    elif idp.allow_unencrypted:
        assertion = shape.assertion
    else:
        raise Refused("the assertion came unencrypted, which this identity provider may not")
    xml_guard.covering_signature(shape, assertion)
    # The gateway's own checks come first (their refusals say what is wrong); pysaml2's
    # verification then proves that what they read is what the IdP signed.
    if _issuer(assertion) != idp.entity_id:
        raise Refused("the assertion comes from another identity provider")
    now = datetime.now(UTC)
    confirmed_until = _check_subject(assertion, urls.acs, expected, now)
    valid_until = _check_conditions(assertion, urls.entity_id, now)
    outstanding = {expected: kept.get("path") or ""} if expected else None
    verified = _verified_by_pysaml2(gw, host_id, idp, encoded, outstanding)
    if verified.assertion.id != assertion.get("ID"):
        raise Refused("the assertion verified is not the one read")
    limits.sign_in_verified(gw, host.id)
    subject = attributes.subject_of(assertion, meta, urls.entity_id)
    profile = attributes.profile_of(assertion, meta, subject)
    keep_until = max(t for t in (confirmed_until, valid_until, now) if t) + LIFETIME
    once = [
        spend_once(
            host,
            "saml-assertion:" + digest(f"{idp.entity_id}\n{assertion.get('ID')}"),
            keep_until,
            Unauthorized(USED),
        )
    ]
    if kept is not None:
        once.append(states.spend(host, "saml", relay, LIFETIME, Unauthorized(USED)))
    for spending in once:  # a replay is refused before anything is provisioned
        if gw.db.fetch(spending.spent) is not None:
            raise spending.refusal
    logout_subject, logout_digest = _logout_subject(assertion, idp)
    return SignedIn(
        host=host,
        idp=idp,
        profile=profile,
        path=(kept or {}).get("path") or "",
        locale=clean_tag(attributes.language_of(assertion)) or (kept or {}).get("locale"),
        once=tuple(once),
        logout_subject=logout_subject,
        logout_digest=logout_digest,
    )
