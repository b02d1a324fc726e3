"""The two identity providers of the SAML tests, behind one interface:

- **samlify** (npm, in a Node process on loopback: ``gateway.dev.saml_peer``), whose
  metadata the gateway fetches by URL;
- **pysaml2's own IdP** (``saml2.server.Server``, in this process), registered from a
  metadata file. It signs with SHA-1 and encrypts with 3DES by default: here it is told
  SHA-256 and answers unencrypted (its host allows that), and tests of its defaults show
  the refusals.

``sign_in(agent, login_url, user)`` runs a sign-in as a browser without JavaScript would:
the gateway's redirect to the IdP, the IdP's answer, the auto-posted form at the ACS.
And ``signer`` signs crafted documents with an IdP's own key (``xmlsec1``), so that in the
attack tests it is the gateway's check, not a broken signature, that refuses them.
"""

from __future__ import annotations

import base64
import re
import tempfile
import threading
from dataclasses import dataclass
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.s_utils import sid
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.sigver import CryptoBackendXmlSec1, pre_signature_part
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from gateway.dev.saml_peer import key_and_certificate

XMLSEC = "/usr/bin/xmlsec1"
SCOPE_EXTENSION = (
    '<md:Extensions xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">'
    '<shibmd:Scope xmlns:shibmd="urn:mace:shibboleth:metadata:1.0" regexp="false">{scope}'
    "</shibmd:Scope>"
    '<mdui:UIInfo xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui">'
    '<mdui:DisplayName xml:lang="en">{name}</mdui:DisplayName></mdui:UIInfo></md:Extensions>'
)


def with_scope(metadata: str, scope: str, name: str) -> str:
    """An IdP's metadata with what a federation's IdP publishes: its scope and name."""
    extension = SCOPE_EXTENSION.format(scope=scope, name=name)
    return re.sub(r"(<(?:\w+:)?IDPSSODescriptor[^>]*>)", r"\1" + extension, metadata, count=1)


PASSWORD_PROTECTED_TRANSPORT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


class Signer:
    """Signs documents with an IdP's key through xmlsec1 (enveloped, exclusive C14N)."""

    def __init__(self, key_pem: str, certificate_pem: str):
        self._dir = tempfile.mkdtemp(prefix="saml-test-idp-")
        self.key = str(Path(self._dir) / "idp.key")
        self.certificate = str(Path(self._dir) / "idp.crt")
        Path(self.key).write_text(key_pem)
        Path(self.certificate).write_text(certificate_pem)
        self.certificate_pem = certificate_pem
        # The KeyInfo holds the certificate's base64 body, not its PEM armour.
        self.certificate_body = "".join(
            line for line in certificate_pem.splitlines() if "-----" not in line
        )
        self.backend = CryptoBackendXmlSec1(XMLSEC)

    def sign(self, xml: str, element: str, element_id: str, *, algorithm=SIG_RSA_SHA256,
             digest=DIGEST_SHA256) -> str:  # fmt: skip
        """Sign the element (``Response``, ``Assertion`` or metadata's
        ``EntityDescriptor``) with ID ``element_id``: its signature template goes where the
        schema puts it, right after its Issuer (or first, in metadata)."""
        template = str(
            pre_signature_part(
                element_id, self.certificate_body, sign_alg=algorithm, digest_alg=digest
            )
        )
        # pysaml2 names the signature's namespace ns0; the tests read it as ds.
        template = template.replace("ns0:", "ds:").replace("xmlns:ns0=", "xmlns:ds=")
        start = rf'(<(?:\w+:)?{element}\b[^>]*\bID="{re.escape(element_id)}"[^>]*>\s*'
        issuer = r"<(?:\w+:)?Issuer[^>]*>[^<]*</(?:\w+:)?Issuer>)"
        pattern = re.compile(start + (")" if element == "EntityDescriptor" else issuer))
        placed, count = pattern.subn(lambda m: m.group(1) + template, xml, count=1)
        assert count == 1, f"no {element} {element_id} to sign"
        node = {
            "Response": "urn:oasis:names:tc:SAML:2.0:protocol:Response",
            "Assertion": "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
            "EntityDescriptor": "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
        }[element]
        return self.backend.sign_statement(placed, node, self.key, element_id)


@dataclass
class Fields:
    action: str
    fields: dict


class Pysaml2Idp:
    """pysaml2's IdP, in process; its SSO URL is never fetched (the test reads the
    AuthnRequest off the gateway's redirect)."""

    name = "pysaml2"

    def __init__(
        self, sp_metadata: str, *, scope: str = "idp2.example.test", base: str | None = None
    ):
        """``base``: where its endpoints are (a browser test serves them there, ``serve``);
        by default an address that is never fetched."""
        self.scope = scope
        self.entity_id = f"https://{scope}/idp/shibboleth"
        key, certificate = key_and_certificate("pysaml2 test IdP")
        self.signer = Signer(key, certificate)
        base = base or f"https://{scope}"
        self.sso_url = f"{base}/idp/profile/SAML2/Redirect/SSO"
        self.slo_url = f"{base}/idp/profile/SAML2/Redirect/SLO"
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "xmlsec_binary": XMLSEC,
                "key_file": self.signer.key,
                "cert_file": self.signer.certificate,
                "metadata": {"inline": [sp_metadata]},
                "accepted_time_diff": 60,
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [(self.sso_url, BINDING_HTTP_REDIRECT)],
                            "single_logout_service": [(self.slo_url, BINDING_HTTP_REDIRECT)],
                        },
                        "policy": {"default": {"name_form": NAME_FORMAT_URI}},
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    }
                },
            }
        )
        self.server = Server(config=config)
        self.metadata = with_scope(
            create_metadata_string(None, config=config).decode(), scope, "Second University"
        )
        self.users = {
            "carol": {
                "name_id": "carol-0001",
                "identity": {
                    "eduPersonPrincipalName": [f"carol@{scope}"],
                    "givenName": ["Carol"],
                    "sn": ["Danvers"],
                    "mail": [f"carol@{scope}"],
                },
            }
        }
        self.chosen = "carol"

    def choose(self, user: str) -> None:
        self.chosen = user

    def answer(self, redirect_url: str, *, user: str | None = None, **options) -> Fields:
        """The form an IdP would post for the AuthnRequest in ``redirect_url``."""
        xml, fields = self.response(redirect_url, user=user, **options)
        fields.fields["SAMLResponse"] = base64.b64encode(xml.encode()).decode()
        return fields

    def response(self, redirect_url: str, *, user: str | None = None, **options):
        """The response document for the AuthnRequest in ``redirect_url``, and the form
        (without its SAMLResponse) it would be posted in."""
        query = dict(parse_qsl(urlsplit(redirect_url).query))
        request = self.server.parse_authn_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
        person = self.users[user or self.chosen]
        sp_entity_id = request.message.issuer.text
        acs = request.message.assertion_consumer_service_url
        settings = {
            "sign_response": True,
            "sign_assertion": False,
            # pysaml2's IdP encrypts with 3DES (xmlsec1 --session-key des-192), which the
            # gateway refuses: by default it answers unencrypted, as Entra ID and Okta do.
            "encrypt_assertion": False,
            "sign_alg": SIG_RSA_SHA256,
            "digest_alg": DIGEST_SHA256,
            **options,
        }
        response = self.server.create_authn_response(
            person["identity"],
            in_response_to=request.message.id,
            destination=acs,
            sp_entity_id=sp_entity_id,
            name_id=NameID(
                format=NAMEID_FORMAT_PERSISTENT,
                name_qualifier=self.entity_id,
                sp_name_qualifier=sp_entity_id,
                text=person["name_id"],
            ),
            authn={"class_ref": PASSWORD_PROTECTED_TRANSPORT},
            session_id=sid(),
            **settings,
        )
        return str(response), Fields(acs, {"RelayState": query.get("RelayState", "")})

    def unsigned(self, redirect_url: str, *, user: str | None = None, **options):
        """A response with no signature, for a test to change and then sign."""
        options = {"sign_response": False, "sign_assertion": False, **options}
        return self.response(redirect_url, user=user, **options)

    def sign_in(self, agent, login_url: str, user: str | None = None, **options):
        start = agent.http.get(login_url, allow_redirects=False, timeout=20)
        assert start.status_code == 302, start.text
        answer = self.answer(start.headers["Location"], user=user, **options)
        return agent.post(answer.action, answer.fields)


class Pysaml2IdpServer:
    """pysaml2's IdP behind HTTP on loopback, for a browser: its SSO endpoint shows a page
    with one button, "Sign in as <user>", whose form posts the response to the ACS."""

    def __init__(self, sp_metadata: str, **options):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = f"{server.base}{self.path}"
                try:
                    answer = server.idp.answer(url)
                except Exception as exc:  # the page says why, as an IdP's error page would
                    self._send(400, f"<p id='idp-error'>{escape(str(exc))}</p>")
                    return
                inputs = "".join(
                    f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                    for k, v in answer.fields.items()
                )
                self._send(
                    200,
                    f'<main><h1>Second University</h1><form method="post" '
                    f'action="{escape(answer.action)}">{inputs}<button id="idp-sign-in">'
                    f"Sign in as {escape(server.idp.chosen)}</button></form></main>",
                )

            def _send(self, status: int, body: str) -> None:
                data = f"<!doctype html><html lang='en'><title>IdP</title>{body}".encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self.idp = Pysaml2Idp(sp_metadata, base=self.base, **options)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


__all__ = ["BINDING_HTTP_POST", "Pysaml2Idp", "Pysaml2IdpServer", "Signer", "with_scope"]
