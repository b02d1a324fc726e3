"""What a SAML document must look like before any library verifies it.

pysaml2 checks signatures by running Debian's ``xmlsec1``, which does whatever the
signature asks for: an XSLT transform runs during verification (pysaml2#1035, a denial of
service), SHA-1 verifies like SHA-256, and a signature over one element says nothing about
the element beside it. So every document from outside (a response at the ACS, an IdP's
metadata, a federation's MDQ answer) passes these checks first, on a parser that refuses
DTDs and entities (no XXE, no entity expansion), and a size cap:

- **no comments and no processing instructions** anywhere: a comment inside a signed value
  does not change its digest, and a reader that stops at it reads another value (the
  CVE-2017-11427 family: ``admin@uni.edu<!---->.evil.example``);
- **every signature** is a direct child of the element it signs, with exactly one
  ``Reference`` whose URI is ``#`` and that element's ``ID``; it uses RSA or ECDSA with
  SHA-256 or stronger, SHA-256 or stronger digests, exclusive C14N, and no transform but
  the enveloped signature and exclusive C14N; it holds nothing else (no ``Object``, no
  ``Manifest``, no ``RetrievalMethod``);
- **IDs are unique** in the document (a second element with the signed ID is how a
  signature is made to cover something else);
- **a response carries one assertion**, plain or encrypted, as its direct child, and no
  assertion anywhere else (a second one beside, inside or around the signed one is
  refused, not ignored); the assertion in use is covered by a signature, its own or the
  response's (``covering_signature``);
- an **encrypted assertion** holds only XML Encryption's key transport and data elements,
  with their usual algorithms (no ``RetrievalMethod``, no ``CipherReference``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from ...errors import N_, BadRequest, Phrase
from .algorithms import (
    CANONICALIZATIONS,
    DIGEST_METHODS,
    ENCRYPTION_METHODS,
    EXC_C14N,
    OAEP_DIGESTS,
    SIGNATURE_METHODS,
    TRANSFORMS,
)

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"

#: A response at the ACS: a few kilobytes, tens with many attributes and certificates.
MAX_RESPONSE_BYTES = 256 * 1024
#: One entity's metadata (a file, a URL, an MDQ answer): never a federation's aggregate.
MAX_METADATA_BYTES = 1024 * 1024

#: What a signature may hold (by local name, in the ds: namespace unless noted).
SIGNATURE_ELEMENTS = frozenset(
    {
        f"{{{DS}}}{name}"
        for name in (
            "Signature",
            "SignedInfo",
            "CanonicalizationMethod",
            "SignatureMethod",
            "Reference",
            "Transforms",
            "Transform",
            "DigestMethod",
            "DigestValue",
            "SignatureValue",
            "KeyInfo",
            "KeyName",
            "X509Data",
            "X509Certificate",
            "X509IssuerSerial",
            "X509IssuerName",
            "X509SerialNumber",
            "X509SubjectName",
            "KeyValue",
            "RSAKeyValue",
            "Modulus",
            "Exponent",
        )
    }
    | {f"{{{EXC_C14N}}}InclusiveNamespaces"}
)
ENCRYPTED_ELEMENTS = frozenset(
    {f"{{{XENC}}}{n}" for n in ("EncryptedData", "EncryptedKey", "EncryptionMethod")}
    | {f"{{{XENC}}}{n}" for n in ("CipherData", "CipherValue", "OAEPparams")}
    | {f"{{{XENC}}}{n}" for n in ("ReferenceList", "DataReference")}
    | {f"{{{XENC11}}}MGF", f"{{{SAML}}}EncryptedAssertion"}
    | {
        f"{{{DS}}}{n}"
        for n in ("KeyInfo", "KeyName", "X509Data", "X509Certificate", "DigestMethod")
    }
    | {f"{{{DS}}}{n}" for n in ("X509IssuerSerial", "X509IssuerName", "X509SerialNumber")}
)


class Refused(BadRequest):
    """A SAML document that breaks a rule here: nothing in it is used."""

    def __init__(self, reason: str, **details):
        # The reason is a message id of its own, shown translated inside the sentence
        # (``Phrase``); ``reason`` keeps it in English for the log and the tests.
        self.phrase = Phrase(reason, details)
        super().__init__(
            N_("the identity provider's answer was refused (%(reason)s); sign in again"),
            reason=self.phrase,
        )
        self.reason = str(self.phrase)


def parse(data: bytes, *, limit: int) -> ET.Element:
    """Parse a document from outside: no DTD, no entities, no comments or processing
    instructions, at most ``limit`` bytes."""
    if len(data) > limit:
        raise Refused(N_("the document is too large"))
    builder = ET.TreeBuilder(insert_comments=True, insert_pis=True)
    parser = DefusedXMLParser(
        target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(data)
        root = parser.close()
    except (ET.ParseError, DefusedXmlException, ValueError):
        raise Refused(
            N_("the document is not well-formed XML, or declares a DTD or entities")
        ) from None
    for element in root.iter():
        if element.tag is ET.Comment or element.tag is ET.ProcessingInstruction:
            raise Refused(N_("the document holds a comment or a processing instruction"))
    return root


def instant(text: str | None, refusal: Refused) -> datetime | None:
    """An xs:dateTime (no offset: UTC), or None; a malformed one is refused."""
    if not text:
        return None
    try:
        found = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise refusal from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _ids(root: ET.Element) -> dict[str, ET.Element]:
    """Every ``ID`` (SAML) and ``Id`` (XML Encryption) in the document, each once."""
    found: dict[str, ET.Element] = {}
    for element in root.iter():
        for name in ("ID", "Id"):
            value = element.get(name)
            if value is None:
                continue
            if value in found:
                raise Refused(N_("two elements of the document have the same ID"))
            found[value] = element
    return found


@dataclass(frozen=True)
class Signature:
    """A signature that passed the checks: the element it signs, and its algorithm."""

    signed: ET.Element
    algorithm: str


def _one(parent: ET.Element, tag: str, what: str) -> ET.Element:
    found = parent.findall(tag)
    if len(found) != 1:
        raise Refused(N_("a signature must have exactly one %(what)s"), what=what)
    return found[0]


def _check_signature(signature: ET.Element, parent: ET.Element) -> Signature:
    for element in signature.iter():
        if element.tag not in SIGNATURE_ELEMENTS:
            raise Refused(
                N_("a signature holds an element it may not (%(detail)s)"),
                detail=local(element.tag),
            )
    signed_info = _one(signature, f"{{{DS}}}SignedInfo", "SignedInfo")
    c14n = _one(signed_info, f"{{{DS}}}CanonicalizationMethod", "CanonicalizationMethod")
    if c14n.get("Algorithm") not in CANONICALIZATIONS:
        raise Refused(N_("a signature's canonicalization is not exclusive C14N"))
    method = _one(signed_info, f"{{{DS}}}SignatureMethod", "SignatureMethod").get("Algorithm")
    if method not in SIGNATURE_METHODS:
        raise Refused(N_("a signature's algorithm is not RSA or ECDSA with SHA-256 or stronger"))
    reference = _one(signed_info, f"{{{DS}}}Reference", "Reference")
    parent_id = parent.get("ID")
    if not parent_id or reference.get("URI") != "#" + parent_id:
        raise Refused(N_("a signature does not sign the element it belongs to"))
    digest = _one(reference, f"{{{DS}}}DigestMethod", "DigestMethod").get("Algorithm")
    if digest not in DIGEST_METHODS:
        raise Refused(N_("a signature's digest is not SHA-256 or stronger"))
    transforms = reference.findall(f"{{{DS}}}Transforms/{{{DS}}}Transform")
    if any(t.get("Algorithm") not in TRANSFORMS for t in transforms):
        raise Refused(
            N_("a signature asks for a transform other than enveloped and exclusive C14N")
        )
    _one(signature, f"{{{DS}}}SignatureValue", "SignatureValue")
    return Signature(parent, method)


def signatures(root: ET.Element, may_sign: frozenset[str]) -> dict[int, Signature]:
    """Check every signature of the document; only elements whose tag is in ``may_sign``
    may carry one (as a direct child). Returns them by ``id()`` of the signed element."""
    _ids(root)
    parents = {id(child): element for element in root.iter() for child in element}
    found: dict[int, Signature] = {}
    for signature in root.iter(f"{{{DS}}}Signature"):
        parent = parents.get(id(signature))
        if parent is None or parent.tag not in may_sign:
            raise Refused(N_("the document holds a signature in a place where none belongs"))
        if id(parent) in found:
            raise Refused(N_("an element carries two signatures"))
        found[id(parent)] = _check_signature(signature, parent)
    return found


def check_encrypted(encrypted: ET.Element) -> None:
    """An encrypted assertion holds only key transport and encrypted data."""
    for element in encrypted.iter():
        if element.tag not in ENCRYPTED_ELEMENTS:
            raise Refused(
                N_("an encrypted assertion holds an element it may not (%(detail)s)"),
                detail=local(element.tag),
            )
        method = element.get("Algorithm")
        if element.tag == f"{{{XENC}}}EncryptionMethod" and method not in ENCRYPTION_METHODS:
            raise Refused(N_("an encrypted assertion uses an encryption method not allowed"))
        if element.tag == f"{{{DS}}}DigestMethod" and element.get("Algorithm") not in OAEP_DIGESTS:
            raise Refused(N_("an encrypted assertion uses a digest not allowed"))
    if len(encrypted.findall(f"{{{XENC}}}EncryptedData")) != 1:
        raise Refused(N_("an encrypted assertion must hold exactly one EncryptedData"))


RESPONSE = f"{{{SAMLP}}}Response"
ASSERTION = f"{{{SAML}}}Assertion"
ENCRYPTED_ASSERTION = f"{{{SAML}}}EncryptedAssertion"


@dataclass(frozen=True)
class ResponseShape:
    """A response that passed the checks."""

    root: ET.Element
    #: The one assertion, as sent (None when it came encrypted).
    assertion: ET.Element | None
    encrypted: ET.Element | None
    #: Whether the response itself carries a signature (over everything in it).
    response_signed: bool


def response(data: bytes) -> ResponseShape:
    """The shape of a ``samlp:Response`` as the IdP sent it (still encrypted, if it is)."""
    root = parse(data, limit=MAX_RESPONSE_BYTES)
    if root.tag != RESPONSE:
        raise Refused(N_("the document is not a SAML 2.0 Response"))
    signed = signatures(root, frozenset({RESPONSE, ASSERTION}))
    plain = [c for c in root if c.tag == ASSERTION]
    encrypted = [c for c in root if c.tag == ENCRYPTED_ASSERTION]
    everywhere = len(list(root.iter(ASSERTION))) + len(list(root.iter(ENCRYPTED_ASSERTION)))
    if len(plain) + len(encrypted) != 1 or everywhere != 1:
        raise Refused(N_("a response must carry exactly one assertion, and nothing else may"))
    if encrypted:
        check_encrypted(encrypted[0])
    return ResponseShape(
        root,
        plain[0] if plain else None,
        encrypted[0] if encrypted else None,
        id(root) in signed,
    )


def decrypted_assertion(data: bytes) -> ET.Element:
    """The assertion of a response whose encrypted assertion was decrypted in place (what
    ``xmlsec1 --decrypt`` returns): checked like a plain one."""
    root = parse(data, limit=MAX_RESPONSE_BYTES * 2)
    signatures(root, frozenset({RESPONSE, ASSERTION}))
    found = list(root.iter(ASSERTION))
    if len(found) != 1 or len(list(root.iter(f"{{{XENC}}}EncryptedData"))):
        raise Refused(N_("the encrypted assertion did not hold exactly one assertion"))
    return found[0]


def covering_signature(shape: ResponseShape, assertion: ET.Element) -> None:
    """The assertion in use must be signed itself, or come in a signed response."""
    own = assertion.find(f"{{{DS}}}Signature")
    if own is None and not shape.response_signed:
        raise Refused(N_("neither the assertion nor the response is signed"))
