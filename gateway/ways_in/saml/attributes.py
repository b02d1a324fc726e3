"""Who a SAML assertion says the user is, from one table of the attributes it may carry.

Which attribute names a user is a rule from specifications (the SAML V2.0 Subject
Identifier Attributes profile, eduPerson, the X.500 and inetOrgPerson schemas), so it is
a table (``VOCABULARY``), checked against the whole vocabulary by a test, not code:

1. ``subject-id``, then ``pairwise-id`` (the profile's identifiers; scoped);
2. ``eduPersonPrincipalName`` (scoped);
3. ``eduPersonTargetedID`` (a NameID the IdP made for this service);
4. a persistent ``NameID`` of the subject.

A scoped value (``local@scope``) counts only where its scope is one the IdP's metadata
lists (``shibmd:Scope``): any IdP can *say* ``alice@other.edu``; only other.edu's IdP's
metadata lists ``other.edu``. The e-mail address never names a user (it changes, and is
reassigned). The key is scoped to the IdP: the same value from two IdPs is two users, and
the kind of identifier is part of it (an IdP that starts releasing ``subject-id`` instead
of ``eduPersonPrincipalName`` gives its users new accounts: keep releasing the same one).
Names, mail and affiliation are profile data, never a key and never a permission.
"""

from __future__ import annotations

import enum
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ...errors import N_, Forbidden
from ...provisioning.profile import UserProfile
from ..identity import profile_from_claims
from .metadata import IdpMetadata, Scope
from .xml_guard import SAML

PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


class Role(enum.Enum):
    SUBJECT_ID = "subject-id"
    PAIRWISE_ID = "pairwise-id"
    PRINCIPAL_NAME = "eduPersonPrincipalName"
    TARGETED_ID = "eduPersonTargetedID"
    GIVEN_NAME = "given_name"
    FAMILY_NAME = "family_name"
    DISPLAY_NAME = "name"
    MAIL = "email"
    LANGUAGE = "locale"
    #: Read, and used for nothing: affiliation is no permission here.
    PROFILE_ONLY = "profile only"


#: The identifiers, in the order they are taken (the first present and valid wins), with
#: whether their value is scoped. A persistent NameID comes after them all.
IDENTIFIERS = (
    (Role.SUBJECT_ID, True),
    (Role.PAIRWISE_ID, True),
    (Role.PRINCIPAL_NAME, True),
    (Role.TARGETED_ID, False),
)

#: Every attribute name the gateway knows, by its URI (SAML 2.0 names: ``urn:oid:`` as the
#: federations' attribute profiles say, plus the older ``urn:mace:dir:attribute-def:``
#: names and the claim URIs of Entra ID and AD FS), and what it is here.
VOCABULARY = {
    "urn:oasis:names:tc:SAML:attribute:subject-id": Role.SUBJECT_ID,
    "urn:oasis:names:tc:SAML:attribute:pairwise-id": Role.PAIRWISE_ID,
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.6": Role.PRINCIPAL_NAME,
    "urn:mace:dir:attribute-def:eduPersonPrincipalName": Role.PRINCIPAL_NAME,
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.10": Role.TARGETED_ID,
    "urn:mace:dir:attribute-def:eduPersonTargetedID": Role.TARGETED_ID,
    # Profile data.
    "urn:oid:2.5.4.42": Role.GIVEN_NAME,
    "urn:mace:dir:attribute-def:givenName": Role.GIVEN_NAME,
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname": Role.GIVEN_NAME,
    "urn:oid:2.5.4.4": Role.FAMILY_NAME,
    "urn:mace:dir:attribute-def:sn": Role.FAMILY_NAME,
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname": Role.FAMILY_NAME,
    "urn:oid:2.16.840.1.113730.3.1.241": Role.DISPLAY_NAME,
    "urn:mace:dir:attribute-def:displayName": Role.DISPLAY_NAME,
    "http://schemas.microsoft.com/identity/claims/displayname": Role.DISPLAY_NAME,
    "urn:oid:2.5.4.3": Role.DISPLAY_NAME,
    "urn:mace:dir:attribute-def:cn": Role.DISPLAY_NAME,
    "urn:oid:0.9.2342.19200300.100.1.3": Role.MAIL,
    "urn:mace:dir:attribute-def:mail": Role.MAIL,
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": Role.MAIL,
    "urn:oid:2.16.840.1.113730.3.1.39": Role.LANGUAGE,
    "urn:mace:dir:attribute-def:preferredLanguage": Role.LANGUAGE,
    # Read and not used: a person's affiliation, entitlements, other identifiers that
    # change or are reassigned (uid, a UPN, Entra's "name" claim: a UPN), are not keys.
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.1": Role.PROFILE_ONLY,  # eduPersonAffiliation
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.9": Role.PROFILE_ONLY,  # eduPersonScopedAffiliation
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.5": Role.PROFILE_ONLY,  # eduPersonPrimaryAffiliation
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.7": Role.PROFILE_ONLY,  # eduPersonEntitlement
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.13": Role.PROFILE_ONLY,  # eduPersonUniqueId
    "urn:oid:0.9.2342.19200300.100.1.1": Role.PROFILE_ONLY,  # uid
    "urn:oid:1.3.6.1.4.1.25178.1.2.9": Role.PROFILE_ONLY,  # schacHomeOrganization
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": Role.PROFILE_ONLY,
    "http://schemas.microsoft.com/identity/claims/objectidentifier": Role.PROFILE_ONLY,
    "http://schemas.microsoft.com/identity/claims/tenantid": Role.PROFILE_ONLY,
}

MAX_VALUE = 1024


def _values(assertion: ET.Element) -> dict[Role, list]:
    """The assertion's attribute values by role (unknown names are left out)."""
    found: dict[Role, list] = {}
    for attribute in assertion.iter(f"{{{SAML}}}Attribute"):
        role = VOCABULARY.get(attribute.get("Name", ""))
        if role is None:
            continue
        for value in attribute.findall(f"{{{SAML}}}AttributeValue"):
            found.setdefault(role, []).append(value)
    return found


def _text(value: ET.Element) -> str | None:
    # A value with child elements is no plain string (only eduPersonTargetedID has one).
    if len(value):
        return None
    text = "".join(value.itertext()).strip()
    return text if 0 < len(text) <= MAX_VALUE else None


def _scoped(text: str | None, scopes: tuple[Scope, ...]) -> str | None:
    """A scoped value whose scope the IdP's metadata lists, else None."""
    if not text or text.count("@") != 1:
        return None
    local, scope = text.split("@")
    if not local or not scope:
        return None
    return text if any(s.covers(scope) for s in scopes) else None


def _qualified(name_id: ET.Element, idp: str, sp: str) -> str | None:
    """A NameID's value, where its qualifiers (if any) name this IdP and this SP."""
    if name_id.get("NameQualifier") not in (None, idp):
        return None
    if name_id.get("SPNameQualifier") not in (None, sp):
        return None
    return _text(name_id)


def _targeted(value: ET.Element, idp: str, sp: str) -> str | None:
    """eduPersonTargetedID: a NameID inside the value (else its legacy string form)."""
    name_id = value.find(f"{{{SAML}}}NameID")
    return _qualified(name_id, idp, sp) if name_id is not None else _text(value)


def _persistent(assertion: ET.Element, idp: str, sp: str) -> str | None:
    name_id = assertion.find(f"{{{SAML}}}Subject/{{{SAML}}}NameID")
    if name_id is None or name_id.get("Format") != PERSISTENT:
        return None
    return _qualified(name_id, idp, sp)


@dataclass(frozen=True)
class Subject:
    kind: str  # a Role's value, or "persistent NameID"
    value: str


def subject_of(assertion: ET.Element, idp: IdpMetadata, sp_entity_id: str) -> Subject:
    """The identifier that names the user, by the table's order; Forbidden when the IdP
    released none the gateway can use (the page says which to release)."""
    values = _values(assertion)
    for role, scoped in IDENTIFIERS:
        for value in values.get(role, ()):
            if role is Role.TARGETED_ID:
                text = _targeted(value, idp.entity_id, sp_entity_id)
            else:
                text = _text(value)
                text = _scoped(text, idp.scopes) if scoped else text
            if text:
                return Subject(role.value, text)
    persistent = _persistent(assertion, idp.entity_id, sp_entity_id)
    if persistent:
        return Subject("persistent NameID", persistent)
    raise Forbidden(
        N_(
            "the identity provider did not say who you are in a way this site can use: it "
            "must release subject-id, pairwise-id, eduPersonPrincipalName (with a scope its "
            "metadata lists), eduPersonTargetedID or a persistent NameID"
        )
    )


def profile_of(assertion: ET.Element, idp: IdpMetadata, subject: Subject) -> UserProfile:
    """The user's profile: the key from the subject, names and mail as profile data."""
    values = _values(assertion)
    claims = {}
    for role in (Role.GIVEN_NAME, Role.FAMILY_NAME, Role.DISPLAY_NAME, Role.MAIL):
        texts = [t for t in (_text(v) for v in values.get(role, ())) if t]
        if texts:
            claims[role.value] = texts[0]
    return profile_from_claims("saml", idp.entity_id, f"{subject.kind}:{subject.value}", claims)


def language_of(assertion: ET.Element) -> str | None:
    texts = [_text(v) for v in _values(assertion).get(Role.LANGUAGE, ())]
    return next((t for t in texts if t), None)
