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
one assertion); who answers which request; destination and status; encryption (an
unencrypted assertion only where the operator allowed it); that the assertion in use is
signed; the gateway's own rules (``assertion_rules``: issuer, a bearer confirmation for
this ACS and request, audience, times); then pysaml2's verification against the IdP's
metadata keys. The assertion's ID and the RelayState are spent with the session: a
replay is refused.

**IdP-initiated** (unsolicited) responses, which carry no ``InResponseTo``, are refused
unless the operator turned them on for that IdP (``saml add --allow-unsolicited``); then
they are still one-time by their assertion ID. They cannot be bound to a browser (nothing
started them): that is the login-CSRF risk the operator accepts for that IdP.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import secrets
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
from . import assertion_rules, attributes, idps, slo_subject, sp, sp_keys, xml_guard
from .metadata import XMLSEC
from .xml_guard import SAMLP, Refused

log = logging.getLogger(__name__)

LIFETIME = timedelta(minutes=10)
COOKIE_PREFIX = "__Host-saml_state_"
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
        raise Refused(N_("the %(name)s field is too long"), name=name)
    return value


def _decoded(text: str | None) -> bytes:
    if not text:
        raise BadRequest(N_("the identity provider sent no SAML response"))
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise Refused(N_("the SAMLResponse is not base64")) from None


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


def _decrypt(gw: Gateway, data: bytes) -> bytes:
    backend = CryptoBackendXmlSec1(XMLSEC)
    for key in sp_keys.current(gw).published:
        try:
            return backend.decrypt(data.decode(), sp_keys.files(key).key).encode()
        except (DecryptError, XmlsecError, UnicodeDecodeError):
            continue
    raise Refused(N_("the encrypted assertion could not be decrypted with this service's keys"))


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
        raise Refused(N_("it did not verify: %(name)s"), name=type(exc).__name__) from None
    if found is None or found.assertion is None:
        raise Refused(N_("it did not verify"))
    return found


def _answering(gw: Gateway, host_id: str, root, relay, cookies):
    """The IdP that answers, the request it answers (None: unsolicited), and what the
    browser that started that request keeps."""
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
        issuer = assertion_rules.issuer(root)
        if issuer is not None and issuer != idp.entity_id:
            raise Refused(N_("the response comes from another identity provider"))
        return idp, expected, kept
    issuer = assertion_rules.issuer(root)
    if issuer is None:
        raise Refused(N_("an unsolicited response must name its issuer"))
    idp = idps.for_sign_in(gw, host_id, issuer)
    if not idp.allow_unsolicited:
        raise Forbidden(
            N_(
                "sign-ins started at the identity provider are not accepted here; "
                "start from this site's sign-in page"
            )
        )
    return idp, None, None


def _addressed(root, shape, acs: str) -> None:
    """The response names this ACS (a signed one must), and says the user signed in."""
    destination = root.get("Destination")
    if destination is not None and destination != acs:
        raise Refused(N_("the response is for another address"))
    if destination is None and shape.response_signed:
        raise Refused(N_("a signed response must name its destination"))
    status = root.find(f"{{{SAMLP}}}Status/{{{SAMLP}}}StatusCode")
    if status is None or status.get("Value") != SUCCESS:
        raise Unauthorized(N_("the identity provider did not sign you in; sign in again"))


def _assertion_in_use(gw: Gateway, idp: SamlIdp, shape, data: bytes):
    if shape.encrypted is not None:
        return xml_guard.decrypted_assertion(_decrypt(gw, data))
    if idp.allow_unencrypted:
        return shape.assertion
    raise Refused(N_("the assertion came unencrypted, which this identity provider may not"))


def _one_time(gw, host, idp, assertion, relay, kept, until) -> tuple[OneTime, ...]:
    """What the session spends: the assertion's ID (until it expires), and the RelayState;
    a replay is refused here, before anything is provisioned."""
    assertion_key = "saml-assertion:" + digest(f"{idp.entity_id}\n{assertion.get('ID')}")
    once = [spend_once(host, assertion_key, until, Unauthorized(USED))]
    if kept is not None:
        once.append(states.spend(host, "saml", relay, LIFETIME, Unauthorized(USED)))
    for spending in once:
        if gw.db.fetch(spending.spent) is not None:
            raise spending.refusal
    return tuple(once)


def finish(gw: Gateway, host_id: str, form, cookies) -> SignedIn:
    """Check a response posted to ``host_id``'s ACS; return who signed in, or raise."""
    host = hosts.get(gw, host_id)
    urls = sp.endpoints(gw, host_id)
    encoded = _form_value(form, "SAMLResponse", MAX_FORM_FIELD)
    relay = _form_value(form, "RelayState", 1024)
    data = _decoded(encoded)
    shape = xml_guard.response(data)
    idp, expected, kept = _answering(gw, host_id, shape.root, relay, cookies)
    if idp.host_id != host_id:
        raise Forbidden(USED)
    _addressed(shape.root, shape, urls.acs)
    assertion = _assertion_in_use(gw, idp, shape, data)
    xml_guard.covering_signature(shape, assertion)
    # The gateway's own checks come first (their refusals say what is wrong); pysaml2's
    # verification then proves that what they read is what the IdP signed.
    if assertion_rules.issuer(assertion) != idp.entity_id:
        raise Refused(N_("the assertion comes from another identity provider"))
    now = datetime.now(UTC)
    confirmed_until = assertion_rules.check_subject(assertion, urls.acs, expected, now)
    valid_until = assertion_rules.check_conditions(assertion, urls.entity_id, now)
    outstanding = {expected: kept.get("path") or ""} if expected else None
    verified = _verified_by_pysaml2(gw, host_id, idp, encoded, outstanding)
    if verified.assertion.id != assertion.get("ID"):
        raise Refused(N_("the assertion verified is not the one read"))
    limits.sign_in_verified(gw, host.id)
    meta = idps.metadata_of(idp)
    subject = attributes.subject_of(assertion, meta, urls.entity_id)
    keep_until = max(t for t in (confirmed_until, valid_until, now) if t) + LIFETIME
    once = _one_time(gw, host, idp, assertion, relay, kept, keep_until)
    logout_subject, logout_digest = slo_subject.of(assertion, idp)
    return SignedIn(
        host=host,
        idp=idp,
        profile=attributes.profile_of(assertion, meta, subject),
        path=(kept or {}).get("path") or "",
        locale=clean_tag(attributes.language_of(assertion)) or (kept or {}).get("locale"),
        once=once,
        logout_subject=logout_subject,
        logout_digest=logout_digest,
    )
