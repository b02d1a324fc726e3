"""Attacks on the assertion consumer service, each a response crafted from what an IdP
would send and then signed with that IdP's own key (``Signer``, through xmlsec1): the
signature checks out, so what refuses each one is the gateway's rule, and the test says
which. Each runs at both identity providers nobody here wrote: pysaml2's IdP and npm
samlify (their documents differ in prefixes, order and encoding: the rules must hold for
both). After every refusal nobody was provisioned: no user row and no CoCalc account.

The first test signs an untouched response the same way and signs in: the crafting itself
is sound, so a refusal below is the attack's doing.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from saml2.xmldsig import DIGEST_SHA1, SIG_RSA_SHA1

from gateway.ways_in.identity import external_id
from gateway.ways_in.saml import sp, xml_guard
from tests.ways_in.lti.conftest import Agent
from tests.ways_in.saml.conftest import Pysaml2Way
from tests.ways_in.saml.idp_peers import Fields, Pysaml2Idp, Signer
from tests.ways_in.saml.test_signin import users_of

XSLT = "http://www.w3.org/TR/1999/REC-xslt-19991116"


@dataclass
class Attempt:
    """One sign-in, started by a browser, whose answer the test crafts."""

    stack: object
    host: object
    entity_id: str
    signer: Signer
    agent: Agent
    xml: str
    form: Fields
    #: The user's identifying attribute value, their NameID, and their given name.
    identifier: str
    name_id: str
    given_name: str
    key: str
    pysaml2: Pysaml2Idp | None = None

    def _prefix(self, element: str) -> str:
        return re.search(rf"<(\w+:)?{element}\b", self.xml).group(1) or ""

    @property
    def p(self) -> str:  # the protocol namespace's prefix (samlp:, ns0:)
        return self._prefix("Response")

    @property
    def a(self) -> str:  # the assertion namespace's prefix (saml:, ns1:)
        return self._prefix("Assertion")

    @property
    def assertion_id(self) -> str:
        return re.search(r'<(?:\w+:)?Assertion\b[^>]*\bID="([^"]+)"', self.xml).group(1)

    def signed(self, xml: str | None = None, element: str = "Assertion", **algorithms) -> str:
        xml = self.xml if xml is None else xml
        found = re.search(rf'<(?:\w+:)?{element}\b[^>]*\bID="([^"]+)"', xml).group(1)
        return self.signer.sign(xml, element, found, **algorithms)

    def post(self, xml: str, *, relay: str | None = None):
        fields = {
            "SAMLResponse": base64.b64encode(xml.encode()).decode(),
            "RelayState": self.form.fields["RelayState"] if relay is None else relay,
        }
        return self.agent.http.post(
            self.form.action, data=fields, allow_redirects=False, timeout=30
        )

    def sign_in(self, xml: str, *, relay: str | None = None):
        """Post ``xml`` and follow the gateway's redirects to the page it lands on."""
        return self.agent.follow(self.agent._hops(self.post(xml, relay=relay)))

    def refused(self, xml: str, reason: str, *, status=(400,), relay: str | None = None):
        """Post ``xml``: refused with ``reason`` on the page, and nobody provisioned."""
        answer = self.post(xml, relay=relay)
        assert answer.status_code in status, (answer.status_code, answer.text[:2000])
        assert "Traceback" not in answer.text
        text = answer.text.replace("&#39;", "'").replace("&quot;", '"')
        assert reason in text, text[:3000]
        assert users_of(self.stack, self.host) == []
        assert self.stack.sim.accounts() == self.accounts_before
        return answer

    accounts_before: list | None = None


def _begin(stack, agent, host) -> str:
    begun = agent.http.get(stack.login_url(host), allow_redirects=False, timeout=20)
    assert begun.status_code == 302, begun.text
    return begun.headers["Location"]


def start(stack, idp: str = "pysaml2", **register) -> Attempt:
    """A sign-in at ``idp`` whose answer is still unsigned (and unencrypted)."""
    stack.sim.reset()
    host = stack.host()
    agent = Agent()
    if idp == "pysaml2":
        way = Pysaml2Way(stack)
        way.register(host, **register)
        xml, form = way.idp.unsigned(_begin(stack, agent, host))
        found = Attempt(
            stack, host, way.entity_id, way.idp.signer, agent, xml, form,
            identifier="carol@idp2.example.test", name_id="carol-0001", given_name="Carol",
            key="eduPersonPrincipalName:carol@idp2.example.test", pysaml2=way.idp,
        )  # fmt: skip
    else:
        peer = stack.peer(sign_response=False, encrypt=False)
        register.setdefault("allow_unencrypted", True)
        stack.add(host, source="url", location=peer.metadata_url, **register)
        peer.choose("alice")
        answer = peer.respond(_begin(stack, agent, host))
        # samlify signs its answer whatever it is told: the signature is taken off, and the
        # crafted document signed again with samlify's own key.
        signed = base64.b64decode(answer["SAMLResponse"]).decode()
        xml = re.sub(r"<(\w+:)?Signature\b.*?</\1Signature>", "", signed, flags=re.S)
        assert "Signature" not in xml and "EncryptedAssertion" not in xml
        found = Attempt(
            stack, host, peer.entity_id, Signer(peer.key_pem, peer.certificate_pem), agent,
            xml, Fields(answer["action"], {"RelayState": answer["RelayState"]}),
            identifier="alice@example.test", name_id="a1b2c3-alice", given_name="Alice",
            key="subject-id:alice@example.test",
        )  # fmt: skip
    found.accounts_before = stack.sim.accounts()
    return found


@pytest.fixture(params=["pysaml2", "samlify"])
def attempt(stack, request) -> Attempt:
    return start(stack, request.param)


def test_the_crafting_is_sound_a_signed_untouched_response_signs_in(attempt):
    page = attempt.sign_in(attempt.signed())
    assert page.status_code == 200 and "/sso/" in page.url, page.text[:2000]
    [user] = users_of(attempt.stack, attempt.host)
    assert user.external_id == external_id("saml", attempt.entity_id, attempt.key)


# Signatures: present, strong, and with no transform but the two allowed.


def test_an_unsigned_response_is_refused(attempt):
    attempt.refused(attempt.xml, "neither the assertion nor the response is signed")


@pytest.mark.parametrize(
    ("algorithms", "reason"),
    [
        ({"algorithm": SIG_RSA_SHA1}, "algorithm is not RSA or ECDSA with SHA-256 or stronger"),
        ({"digest": DIGEST_SHA1}, "digest is not SHA-256 or stronger"),
    ],
    ids=["rsa-sha1", "sha1-digest"],
)
def test_sha1_signatures_are_refused(attempt, algorithms, reason):
    attempt.refused(attempt.signed(**algorithms), reason)


def test_pysaml2s_idp_with_its_own_defaults_is_refused(stack):
    """pysaml2's IdP signs with RSA-SHA1 and SHA-1 digests unless told otherwise."""
    attempt = start(stack)
    begun = attempt.agent.http.get(stack.login_url(attempt.host), allow_redirects=False)
    answer = attempt.pysaml2.answer(
        begun.headers["Location"], sign_alg=SIG_RSA_SHA1, digest_alg=DIGEST_SHA1
    )
    xml = base64.b64decode(answer.fields["SAMLResponse"]).decode()
    attempt.form = answer
    attempt.refused(xml, "algorithm is not RSA or ECDSA with SHA-256 or stronger")


def test_an_xslt_transform_is_refused_before_anything_runs_it(attempt):
    """pysaml2#1035: xmlsec1 runs an XSLT transform while it verifies. The signature is
    made with the transform (xmlsec1 signs through it), so it would verify."""
    signed = attempt.signed()
    stylesheet = (
        f'<ds:Transform Algorithm="{XSLT}">'
        '<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0">'
        '<xsl:template match="/"><xsl:copy-of select="."/></xsl:template></xsl:stylesheet>'
        "</ds:Transform>"
    )
    crafted = re.sub(r"(<ds:Transforms>)", r"\1" + stylesheet, signed, count=1)
    assert XSLT in crafted
    attempt.refused(crafted, "a signature holds an element it may not (stylesheet)")


@pytest.mark.parametrize(
    "extra",
    [
        '<ds:Object><ds:Manifest Id="m"/></ds:Object>',
        '<ds:KeyInfo><ds:RetrievalMethod URI="http://169.254.169.254/"/></ds:KeyInfo>',
    ],
    ids=["object-manifest", "retrieval-method"],
)
def test_a_signature_holding_more_than_a_signature_is_refused(attempt, extra):
    crafted = attempt.signed().replace("</ds:Signature>", extra + "</ds:Signature>", 1)
    attempt.refused(crafted, "a signature holds an element it may not")


# Signature wrapping: what is signed must be what is read.


def _evil(attempt: Attempt, assertion: str) -> str:
    """The assertion, naming another user of the same IdP."""
    scope = attempt.identifier.split("@")[1]
    return assertion.replace(attempt.identifier, f"dean@{scope}")


def _assertion(xml: str) -> str:
    return re.search(r"<(\w+:)?Assertion\b.*</\1Assertion>", xml, re.S).group(0)


def test_an_unsigned_assertion_beside_the_signed_one_is_refused(attempt):
    signed = attempt.signed()
    evil = _evil(attempt, _assertion(attempt.xml)).replace(attempt.assertion_id, "evil-1")
    crafted = signed.replace(_assertion(signed), evil + _assertion(signed), 1)
    attempt.refused(crafted, "a response must carry exactly one assertion")


def test_the_signed_assertion_hidden_in_extensions_is_refused(attempt):
    """The classic wrapping: the evil assertion takes the signed one's ID and place, the
    signed one hides where a reader does not look, and the signature still verifies."""
    signed = attempt.signed()
    original = _assertion(signed)
    p = attempt.p
    hidden = f"<{p}Extensions>{original}</{p}Extensions>"
    evil = _evil(attempt, re.sub(r"<ds:Signature.*</ds:Signature>", "", original, flags=re.S))
    crafted = signed.replace(original, evil).replace(f"<{p}Status>", hidden + f"<{p}Status>")
    attempt.refused(crafted, "two elements of the document have the same ID")


def test_a_signature_moved_onto_another_assertion_is_refused(attempt):
    signed = attempt.signed()
    crafted = _evil(attempt, signed).replace(f'ID="{attempt.assertion_id}"', 'ID="evil-2"', 1)
    attempt.refused(crafted, "a signature does not sign the element it belongs to")


def test_a_signature_moved_inside_the_subject_is_refused(attempt):
    signed = attempt.signed()
    signature = re.search(r"<ds:Signature.*</ds:Signature>", signed, re.S).group(0)
    subject_end = f"</{attempt.a}Subject>"
    crafted = signed.replace(signature, "").replace(subject_end, signature + subject_end)
    attempt.refused(crafted, "a signature in a place where none belongs")


def test_a_signed_response_around_an_unsigned_assertion_elsewhere_is_refused(attempt):
    """The response is signed over its one assertion; a second one is put around it."""
    signed = attempt.signed(element="Response")
    original = _assertion(signed)
    end = f"</{attempt.a}Assertion>"
    wrapper = _evil(attempt, original).replace(attempt.assertion_id, "evil-3")
    wrapper = wrapper[: -len(end)] + original + end
    attempt.refused(
        signed.replace(original, wrapper), "a response must carry exactly one assertion"
    )


# Comments, DTDs, entities, size.


@pytest.mark.parametrize("where", ["identifier", "NameID"])
def test_a_comment_inside_a_signed_value_is_refused(attempt, where):
    """CVE-2017-11427: exclusive C14N drops comments, so the signature still verifies,
    and a reader that stops at the comment reads another user."""
    if where == "NameID":
        name_id = attempt.name_id
        crafted = attempt.xml.replace(f">{name_id}<", f">dean<!---->.{name_id}<")
    else:
        value, end = attempt.identifier, f"</{attempt.a}AttributeValue>"
        scope = value.split("@")[1]
        crafted = attempt.xml.replace(f">{value}{end}", f">dean@{scope}<!---->.x{end}", 1)
    assert crafted != attempt.xml
    attempt.refused(attempt.signed(crafted), "holds a comment or a processing instruction")


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',
    ],
    ids=["xxe", "entity-expansion"],
)
def test_a_dtd_is_refused(attempt, doctype):
    """A DOCTYPE is outside what a signature covers: the signed document with one added
    still verifies."""
    attempt.refused(doctype + attempt.signed(), "declares a DTD or entities")


def test_an_oversized_response_is_refused(attempt):
    padding = "x" * (xml_guard.MAX_RESPONSE_BYTES - len(attempt.xml) + 10)
    given = attempt.given_name
    crafted = attempt.xml.replace(f">{given}<", f">{given}{padding}<", 1)
    assert crafted != attempt.xml
    attempt.refused(attempt.signed(crafted), "the document is too large")


def test_a_far_larger_body_is_refused_before_it_is_read(attempt):
    padding = "x" * (1024 * 1024)
    given = attempt.given_name
    crafted = attempt.xml.replace(f">{given}<", f">{given}{padding}<", 1)
    attempt.refused(crafted, "Error 413", status=(413,))


# Replay, audience, recipient, times, InResponseTo.


def test_a_response_for_another_hosts_service_is_refused(attempt):
    other = attempt.stack.host("Other college")
    theirs = sp.endpoints(attempt.stack.gw, other.id)
    ours = sp.endpoints(attempt.stack.gw, attempt.host.id)
    crafted = attempt.xml.replace(f">{ours.entity_id}<", f">{theirs.entity_id}<")
    crafted = crafted.replace(f'SPNameQualifier="{ours.entity_id}"', "")
    attempt.refused(attempt.signed(crafted), "the assertion is for another service")


def test_a_response_for_another_address_is_refused(attempt):
    other = attempt.stack.host("Other college")
    theirs = sp.endpoints(attempt.stack.gw, other.id)
    ours = sp.endpoints(attempt.stack.gw, attempt.host.id)
    crafted = attempt.xml.replace(f'"{ours.acs}"', f'"{theirs.acs}"')
    attempt.refused(attempt.signed(crafted), "the response is for another address")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("attribute", ["NotOnOrAfter", "NotBefore"])
def test_an_assertion_outside_its_time_is_refused(attempt, attribute):
    now = datetime.now(UTC)
    moment = now - timedelta(minutes=10) if attribute == "NotOnOrAfter" else now + timedelta(
        minutes=10
    )  # fmt: skip
    crafted = re.sub(rf'{attribute}="[^"]+"', f'{attribute}="{_stamp(moment)}"', attempt.xml)
    confirmation = "no bearer confirmation" if attribute == "NotOnOrAfter" else "not valid at"
    attempt.refused(attempt.signed(crafted), confirmation)
    # The conditions alone out of time: refused too.
    conditions = re.sub(
        rf'(<(?:\w+:)?Conditions [^>]*){attribute}="[^"]+"', rf'\1{attribute}="{_stamp(moment)}"',
        attempt.xml,
    )  # fmt: skip
    attempt.refused(attempt.signed(conditions), "the assertion is not valid at this time")


def test_a_confirmation_for_another_request_is_refused(attempt):
    crafted = re.sub(
        r'(<(?:\w+:)?SubjectConfirmationData [^>]*InResponseTo=")[^"]+"',
        r'\1_another"',
        attempt.xml,
    )
    attempt.refused(attempt.signed(crafted), "no bearer confirmation for this service")


def test_an_assertion_issued_by_another_idp_is_refused(attempt):
    # The response's issuer stays; the assertion's is another IdP's.
    start_of = re.search(r"<(?:\w+:)?Assertion\b", attempt.xml).start()
    head, tail = attempt.xml[:start_of], attempt.xml[start_of:]
    issuer = re.compile(r"(<(?:\w+:)?Issuer[^>]*>)[^<]*(<)")
    tail = issuer.sub(r"\1https://evil.example.test/idp\2", tail, count=1)
    attempt.refused(
        attempt.signed(head + tail),
        "the assertion comes from another identity provider",
    )


def test_a_replayed_response_is_refused(attempt):
    signed = attempt.signed()
    assert attempt.sign_in(signed).status_code == 200
    again = attempt.post(signed)
    assert again.status_code in (401, 403), again.text[:1000]
    assert len(users_of(attempt.stack, attempt.host)) == 1


# What the operator must allow: unencrypted assertions, IdP-initiated sign-in.


@pytest.mark.parametrize("idp", ["pysaml2", "samlify"])
def test_an_unencrypted_assertion_is_refused_unless_allowed(stack, idp):
    attempt = start(stack, idp, allow_unencrypted=False)
    attempt.refused(attempt.signed(), "the assertion came unencrypted")


def _unsolicited(xml: str) -> str:
    return re.sub(r' InResponseTo="[^"]+"', "", xml)


def test_an_unsolicited_response_is_refused_by_default(attempt):
    attempt.agent = Agent()  # a browser that started nothing
    attempt.refused(
        attempt.signed(_unsolicited(attempt.xml)),
        "sign-ins started at the identity provider are not accepted here",
        status=(403,),
        relay="",
    )


@pytest.mark.parametrize("idp", ["pysaml2", "samlify"])
def test_an_allowed_unsolicited_response_signs_in_once(stack, idp):
    attempt = start(stack, idp, allow_unsolicited=True)
    signed = attempt.signed(_unsolicited(attempt.xml))
    attempt.agent = Agent()
    page = attempt.sign_in(signed, relay="")
    assert page.status_code == 200 and "/sso/" in page.url, page.text[:2000]
    again = Agent()
    attempt.agent = again
    replay = attempt.post(signed, relay="")
    assert replay.status_code in (401, 403), replay.text[:1000]
    assert len(users_of(stack, attempt.host)) == 1


def test_pysaml2s_idp_encrypting_with_its_default_3des_is_refused(stack):
    """pysaml2's IdP encrypts assertions with 3DES (xmlsec1 --session-key des-192)."""
    attempt = start(stack, allow_unencrypted=False)
    begun = attempt.agent.http.get(stack.login_url(attempt.host), allow_redirects=False)
    answer = attempt.pysaml2.answer(
        begun.headers["Location"],
        sign_response=True,
        encrypt_assertion=True,
        encrypted_advice_attributes=False,
    )
    xml = base64.b64decode(answer.fields["SAMLResponse"]).decode()
    assert "tripledes-cbc" in xml
    attempt.form = answer
    attempt.refused(xml, "an encrypted assertion uses an encryption method not allowed")
