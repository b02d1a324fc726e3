"""The gateway as a SAML service provider: one per host, built on pysaml2.

Each host is a service provider of its own, so an IdP's answer for one host can never be
used at another (its audience, recipient and destination name this host):

- entity ID: ``{GATEWAY_PUBLIC_URL}/saml/<host>/metadata`` (where its metadata is);
- assertion consumer service (HTTP-POST): ``/saml/<host>/acs``;
- single logout service (HTTP-Redirect): ``/saml/<host>/slo``.

The paths are a contract with every IdP that registered them; ``saml/views.py`` serves
them (a test holds the two to each other). pysaml2 (with Debian's ``xmlsec1``) makes the
AuthnRequest and the metadata and verifies responses; its configuration is built here, per
host and IdP, from the IdP's stored metadata and the SP's keys, and kept while neither
changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor, sign_entity_descriptor
from saml2.sigver import security_context
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from ...context import Gateway
from ...store.saml_tables import SamlIdp
from . import sp_keys, xml_guard
from .idps import metadata_of
from .metadata import XMLSEC

#: How far apart the IdP's clock and ours may be (NotBefore, NotOnOrAfter, IssueInstant).
CLOCK_SKEW_S = 90
SIGNATURE = SIG_RSA_SHA256
DIGEST = DIGEST_SHA256


@dataclass(frozen=True)
class Endpoints:
    entity_id: str
    acs: str
    slo: str


def endpoints(gw: Gateway, host_id: str) -> Endpoints:
    base = f"{gw.settings['GATEWAY_PUBLIC_URL']}/saml/{host_id}"
    return Endpoints(f"{base}/metadata", f"{base}/acs", f"{base}/slo")


def _config(gw: Gateway, host_id: str, idp: SamlIdp | None) -> SPConfig:
    keys = sp_keys.current(gw)
    signing = sp_keys.files(keys.signing)
    urls = endpoints(gw, host_id)
    settings = {
        "entityid": urls.entity_id,
        "xmlsec_binary": XMLSEC,
        "key_file": signing.key,
        "cert_file": signing.certificate,
        # Every kept key decrypts (an IdP may encrypt to the one before a rotation), and
        # every one is published for signing too: the one that signs, then the others (a
        # rotated key is published before it signs).
        "additional_cert_files": [
            sp_keys.files(k).certificate for k in keys.published if k.kid != keys.signing.kid
        ],
        "encryption_keypairs": [
            {"key_file": sp_keys.files(k).key, "cert_file": sp_keys.files(k).certificate}
            for k in keys.published
        ],
        "accepted_time_diff": CLOCK_SKEW_S,
        "allow_unknown_attributes": True,
        "delete_tmpfiles": True,
        "service": {
            "sp": {
                "name": "CoCalc",
                "endpoints": {
                    "assertion_consumer_service": [(urls.acs, BINDING_HTTP_POST)],
                    "single_logout_service": [(urls.slo, BINDING_HTTP_REDIRECT)],
                },
                "allow_unsolicited": bool(idp and idp.allow_unsolicited),
                # The assertion or the whole response must be signed (xml_guard checks
                # that the one in use is covered); requests are signed where the IdP wants.
                "want_assertions_or_response_signed": True,
                "want_assertions_signed": False,
                "want_response_signed": False,
                "authn_requests_signed": False,
                "logout_requests_signed": True,
                "signing_algorithm": SIGNATURE,
                "digest_algorithm": DIGEST,
            }
        },
    }
    if idp is not None:
        settings["metadata"] = {"inline": [metadata_of(idp).xml]}
    config = SPConfig()
    config.load(settings)
    return config


def client(gw: Gateway, host_id: str, idp: SamlIdp) -> Saml2Client:
    """A pysaml2 client of ``host_id``'s SP that knows ``idp`` (kept while the keys and the
    IdP's metadata stay the same)."""
    keys = sp_keys.current(gw)
    memo = gw.memo.setdefault("saml_clients", {})
    version = (host_id, idp.id, hash(idp.metadata_xml), idp.allow_unsolicited, keys.signing.kid)
    found = memo.get(version)
    if found is None:
        if len(memo) > 256:
            memo.clear()
        found = memo[version] = Saml2Client(config=_config(gw, host_id, idp))
    return found


def _advertise_only_accepted(descriptor) -> None:
    """pysaml2 lists every algorithm xmlsec1 knows (MD5 and SHA-1 too) as supported: keep
    only the ones ``xml_guard`` accepts, so that no IdP picks one it refuses."""
    if descriptor.extensions is None:
        return
    accepted = xml_guard.SIGNATURE_METHODS | xml_guard.DIGEST_METHODS
    descriptor.extensions.extension_elements = [
        item
        for item in descriptor.extensions.extension_elements
        if item.tag not in ("DigestMethod", "SigningMethod")
        or item.attributes.get("Algorithm") in accepted
    ]


def _encrypt_to_the_newest_key_only(descriptor, keys: sp_keys.SpKeys) -> None:
    """Publish one encryption key, the one that signs: every kept key still decrypts (an
    IdP that has not fetched the metadata again encrypts to the one before), and an IdP
    never has to choose between several (samlify, for one, cannot)."""
    newest = keys.signing.certificate_base64
    role = descriptor.spsso_descriptor
    if role is not None:
        role.key_descriptor = [
            k
            for k in role.key_descriptor
            if k.use != "encryption" or newest in "".join(str(k).split())
        ]


def metadata_document(gw: Gateway, host_id: str) -> str:
    """The SP's metadata for ``host_id``, signed with its signing key."""
    keys = sp_keys.current(gw)
    memo = gw.memo.setdefault("saml_sp_metadata", {})
    version = (host_id, keys.signing.kid, tuple(k.kid for k in keys.published))
    found = memo.get(version)
    if found is None:
        config = _config(gw, host_id, None)
        descriptor = entity_descriptor(config)
        _advertise_only_accepted(descriptor)
        _encrypt_to_the_newest_key_only(descriptor, keys)
        # AuthnRequestsSigned stays false: requests are signed where an IdP wants them.
        context = security_context(config)
        _, found = sign_entity_descriptor(
            descriptor, None, context, sign_alg=SIGNATURE, digest_alg=DIGEST
        )
        if isinstance(found, bytes):
            found = found.decode()
        memo[version] = found
    return found
