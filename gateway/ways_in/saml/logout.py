"""SAML single logout, by HTTP-Redirect, where the IdP's metadata publishes an endpoint.

- **Sign-out here** (the notebook bar's button): the gateway ends its session and its
  pages first (``sso.sessions.end``), then sends the browser to the IdP with a signed
  ``LogoutRequest`` naming the session's subject, so the IdP can end its own.
- **Sign-out at the IdP** (or at another service of it): the IdP sends a
  ``LogoutRequest``, which must be signed (in the query string, with SHA-256 or
  stronger) by a key of its metadata, issued in the last few minutes, and not used
  before (its ID is spent); every live session of that IdP's subject ends, and the
  browser goes back with a signed ``LogoutResponse``.

A ``LogoutResponse`` that comes back to the gateway changes nothing (the session ended
before the request was sent): the browser is shown the signed-out page.
"""

from __future__ import annotations

import base64
import json
import logging
import zlib
from datetime import timedelta

from saml2 import BINDING_HTTP_REDIRECT
from saml2.saml import NameID
from saml2.samlp import STATUS_SUCCESS, Status, StatusCode
from sqlalchemy.exc import IntegrityError

from ... import hosts
from ...context import Gateway
from ...errors import N_, BadRequest
from ...launches.links import spend_once
from ...store.models import utcnow
from ...support.keys import digest
from ..sso import sessions
from . import idps, sp, xml_guard
from .slo_subject import subject_digest
from .xml_guard import Refused

log = logging.getLogger(__name__)

#: A LogoutRequest is small; its deflated, base64 form in a URL smaller still.
MAX_REDIRECT_MESSAGE = 16 * 1024
#: How long after it was issued an IdP's LogoutRequest is taken (it arrives in seconds).
LOGOUT_WINDOW = timedelta(minutes=5)


def request_to_idp(gw: Gateway, session: sessions.Session) -> str | None:
    """Where to send the browser after the gateway's own sign-out: the IdP's single logout
    with a signed LogoutRequest, or None where the IdP has none."""
    idp = idps.get(gw, session.saml_idp_id)
    meta = idps.metadata_of(idp)
    if not meta.slo_url or not session.saml_subject_encrypted:
        return None
    subject = json.loads(gw.box.decrypt(session.saml_subject_encrypted))
    if not subject.get("name_id"):
        return None
    client = sp.client(gw, session.host_id, idp)
    name_id = NameID(
        text=subject["name_id"],
        format=subject.get("format"),
        name_qualifier=subject.get("name_qualifier"),
        sp_name_qualifier=subject.get("sp_name_qualifier"),
    )
    indexes = [subject["session_index"]] if subject.get("session_index") else None
    _, request = client.create_logout_request(
        meta.slo_url,
        idp.entity_id,
        name_id=name_id,
        session_indexes=indexes,
        sign=False,  # the redirect's signature is in its query string
    )
    info = client.apply_binding(
        BINDING_HTTP_REDIRECT, str(request), meta.slo_url, "", sign=True, sigalg=sp.SIGNATURE
    )
    return dict(info["headers"])["Location"]


def _inflated(encoded: str) -> bytes:
    if len(encoded) > MAX_REDIRECT_MESSAGE:
        raise Refused(N_("the logout message is too long"))
    try:
        raw = base64.b64decode(encoded, validate=False)
        inflater = zlib.decompressobj(-15)
        data = inflater.decompress(raw, xml_guard.MAX_RESPONSE_BYTES)
    except (ValueError, zlib.error):
        raise Refused(N_("the logout message is not deflated base64")) from None
    if inflater.unconsumed_tail:
        raise Refused(N_("the logout message is too large"))
    return data


def from_idp(gw: Gateway, host_id: str, args) -> str:
    """An IdP's signed LogoutRequest: end the subject's sessions; return where the browser
    goes with the LogoutResponse."""
    encoded = args.get("SAMLRequest")
    sig_alg, signature = args.get("SigAlg"), args.get("Signature")
    if not isinstance(encoded, str) or not encoded:
        raise BadRequest(N_("the identity provider sent no logout request"))
    if sig_alg not in xml_guard.SIGNATURE_METHODS or not signature:
        raise Refused(N_("a logout request must be signed with SHA-256 or stronger"))
    root = xml_guard.parse(_inflated(encoded), limit=xml_guard.MAX_RESPONSE_BYTES)
    xml_guard.signatures(root, frozenset())  # its signature is the query string's
    issuer = root.find(f"{{{xml_guard.SAML}}}Issuer")
    if issuer is None or not (issuer.text or "").strip():
        raise Refused(N_("the logout request names no issuer"))
    idp = idps.for_sign_in(gw, host_id, issuer.text.strip())
    meta = idps.metadata_of(idp)
    client = sp.client(gw, host_id, idp)
    try:
        parsed = client.parse_logout_request(
            encoded,
            BINDING_HTTP_REDIRECT,
            relay_state=args.get("RelayState"),
            sigalg=sig_alg,
            signature=signature,
        )
    except Exception as exc:  # pysaml2 raises many kinds for a request that fails
        log.warning("SAML logout request of %s refused: %s", idp.id, type(exc).__name__)
        raise Refused(N_("it did not verify: %(name)s"), name=type(exc).__name__) from None
    if parsed is None or parsed.message is None:
        raise Refused(N_("it did not verify"))
    _spend(gw, host_id, idp, parsed.message)
    name_id = parsed.message.name_id
    ended = 0
    if name_id is not None and name_id.text:
        for session in sessions.of_subject(gw, subject_digest(idp, name_id.text.strip())):
            if session.host_id == host_id:
                sessions.end(gw, session)
                ended += 1
    log.info("SAML logout from %s ended %d session(s)", idp.id, ended)
    if not meta.slo_url:
        return ""
    response = client.create_logout_response(
        parsed.message, [BINDING_HTTP_REDIRECT], status=_success(), sign=False
    )
    info = client.apply_binding(
        BINDING_HTTP_REDIRECT,
        str(response),
        meta.slo_url,
        args.get("RelayState") or "",
        response=True,
        sign=True,
        sigalg=sp.SIGNATURE,
    )
    return dict(info["headers"])["Location"]


def _spend(gw: Gateway, host_id: str, idp, message) -> None:
    """A verified LogoutRequest counts once: its ID is spent (until it could no longer be
    fresh), and one issued more than ``LOGOUT_WINDOW`` ago, or in the future, is refused.
    A URL replayed from a chat or a history ends no later session."""
    skew = timedelta(seconds=sp.CLOCK_SKEW_S)
    issued = xml_guard.instant(
        message.issue_instant, Refused(N_("the logout request's time cannot be read"))
    )
    now = utcnow()
    if issued is None or issued - skew > now or issued + LOGOUT_WINDOW + skew < now:
        raise Refused(N_("the logout request is too old, or from the future"))
    key = "saml-logout:" + digest(f"{idp.entity_id}\n{message.id}")
    used = Refused(N_("this logout request was used already"))
    once = spend_once(hosts.get(gw, host_id), key, issued + LOGOUT_WINDOW + skew, used)
    try:
        with gw.db.begin() as session:
            once.spend_in(session)
    except IntegrityError:
        raise used from None


def _success() -> Status:
    return Status(status_code=StatusCode(value=STATUS_SUCCESS))
