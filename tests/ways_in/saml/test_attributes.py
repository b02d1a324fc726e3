"""Which attribute names a user, checked against the whole vocabulary an IdP may release:
every eduPerson attribute (eduPerson 202208, 1.3.6.1.4.1.5923.1.1.1.1 to .16), the X.500,
inetOrgPerson and SCHAC attributes the federations' profiles name, the Subject Identifier
Attributes, and the claim URIs of Entra ID and AD FS. Only five may identify (the issue's
list); everything else is profile data or nothing, and a scoped value counts only with a
scope its IdP's metadata lists."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from gateway.errors import Forbidden
from gateway.ways_in.identity import external_id
from gateway.ways_in.saml import attributes, xml_guard
from gateway.ways_in.saml.metadata import IdpMetadata, Scope

IDP = "https://idp.uni.example.test/idp/shibboleth"
SP = "https://gateway.example.test/saml/host_1/metadata"
EDUPERSON = "urn:oid:1.3.6.1.4.1.5923.1.1.1."

#: Every attribute name an IdP may release, and which kind of identifier it is (None: it
#: never names a user). Written from the specifications, not from the gateway's table.
WHOLE_VOCABULARY = {
    "urn:oasis:names:tc:SAML:attribute:subject-id": "subject-id",
    "urn:oasis:names:tc:SAML:attribute:pairwise-id": "pairwise-id",
    EDUPERSON + "1": None,  # eduPersonAffiliation
    EDUPERSON + "2": None,  # eduPersonNickname
    EDUPERSON + "3": None,  # eduPersonOrgDN
    EDUPERSON + "4": None,  # eduPersonOrgUnitDN
    EDUPERSON + "5": None,  # eduPersonPrimaryAffiliation
    EDUPERSON + "6": "eduPersonPrincipalName",
    EDUPERSON + "7": None,  # eduPersonEntitlement
    EDUPERSON + "8": None,  # eduPersonPrimaryOrgUnitDN
    EDUPERSON + "9": None,  # eduPersonScopedAffiliation (scoped, but a role, not a person)
    EDUPERSON + "10": "eduPersonTargetedID",
    EDUPERSON + "11": None,  # eduPersonAssurance
    EDUPERSON + "12": None,  # eduPersonPrincipalNamePrior: a name the person no longer has
    EDUPERSON + "13": None,  # eduPersonUniqueId (subject-id's predecessor; not in the list)
    EDUPERSON + "14": None,  # eduPersonOrcid
    EDUPERSON + "15": None,  # eduPersonAnalyticsTag
    EDUPERSON + "16": None,  # eduPersonDisplayPronouns
    "urn:mace:dir:attribute-def:eduPersonPrincipalName": "eduPersonPrincipalName",
    "urn:mace:dir:attribute-def:eduPersonTargetedID": "eduPersonTargetedID",
    "urn:mace:dir:attribute-def:eduPersonAffiliation": None,
    "urn:mace:dir:attribute-def:eduPersonScopedAffiliation": None,
    # X.500 and inetOrgPerson
    "urn:oid:2.5.4.3": None,  # cn
    "urn:oid:2.5.4.4": None,  # sn
    "urn:oid:2.5.4.42": None,  # givenName
    "urn:oid:2.5.4.10": None,  # o
    "urn:oid:2.5.4.11": None,  # ou
    "urn:oid:2.5.4.12": None,  # title
    "urn:oid:2.5.4.20": None,  # telephoneNumber
    "urn:oid:2.5.4.43": None,  # initials
    "urn:oid:2.16.840.1.113730.3.1.241": None,  # displayName
    "urn:oid:2.16.840.1.113730.3.1.3": None,  # employeeNumber
    "urn:oid:2.16.840.1.113730.3.1.39": None,  # preferredLanguage
    "urn:oid:0.9.2342.19200300.100.1.1": None,  # uid: reassigned at many universities
    "urn:oid:0.9.2342.19200300.100.1.3": None,  # mail: changes, and is reassigned
    "urn:oid:0.9.2342.19200300.100.1.41": None,  # mobile
    "urn:mace:dir:attribute-def:mail": None,
    "urn:mace:dir:attribute-def:uid": None,
    # SCHAC
    "urn:oid:1.3.6.1.4.1.25178.1.2.9": None,  # schacHomeOrganization
    "urn:oid:1.3.6.1.4.1.25178.1.2.14": None,  # schacPersonalUniqueCode
    "urn:oid:1.3.6.1.4.1.25178.1.2.10": None,  # schacHomeOrganizationType
    # Entra ID and AD FS claims
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": None,
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": None,  # a UPN
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": None,
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": None,
    "http://schemas.microsoft.com/identity/claims/objectidentifier": None,
    "http://schemas.microsoft.com/identity/claims/tenantid": None,
}


def metadata(*scopes: Scope) -> IdpMetadata:
    return IdpMetadata(
        entity_id=IDP,
        sso_url="https://idp.uni.example.test/sso",
        slo_url=None,
        signing=(),
        encryption=(),
        wants_signed_requests=False,
        scopes=scopes or (Scope("uni.example.test"),),
    )


def assertion(attributes_xml: str = "", name_id: str = "") -> ET.Element:
    return xml_guard.parse(
        b'<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">'
        + f"<saml:Subject>{name_id}</saml:Subject>".encode()
        + f"<saml:AttributeStatement>{attributes_xml}</saml:AttributeStatement>".encode()
        + b"</saml:Assertion>",
        limit=xml_guard.MAX_RESPONSE_BYTES,
    )


def attribute(name: str, value: str) -> str:
    return f'<saml:Attribute Name="{name}"><saml:AttributeValue>{value}</saml:AttributeValue></saml:Attribute>'  # noqa: E501


TRANSIENT = (
    '<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient">'
    "_0a1b2c</saml:NameID>"
)


@pytest.mark.parametrize(("name", "kind"), sorted(WHOLE_VOCABULARY.items()))
def test_only_the_five_identifiers_name_a_user(name, kind):
    """Each attribute alone (with a transient NameID, which never identifies), its value
    scoped with the IdP's own scope: it names the user exactly where it should."""
    found = assertion(attribute(name, "someone@uni.example.test"), TRANSIENT)
    if kind is None:
        with pytest.raises(Forbidden):
            attributes.subject_of(found, metadata(), SP)
    else:
        subject = attributes.subject_of(found, metadata(), SP)
        assert (subject.kind, subject.value) == (kind, "someone@uni.example.test")


def test_the_gateways_table_knows_no_identifier_the_vocabulary_does_not():
    identifying = {role for role, _ in attributes.IDENTIFIERS}
    for name, role in attributes.VOCABULARY.items():
        if role in identifying:
            assert WHOLE_VOCABULARY.get(name) == role.value, name


def test_the_order_subject_id_first_and_the_email_never():
    released = (
        attribute(EDUPERSON + "6", "eppn@uni.example.test")
        + attribute("urn:oasis:names:tc:SAML:attribute:pairwise-id", "pw@uni.example.test")
        + attribute("urn:oasis:names:tc:SAML:attribute:subject-id", "sid@uni.example.test")
        + attribute("urn:oid:0.9.2342.19200300.100.1.3", "mail@uni.example.test")
    )
    assert attributes.subject_of(assertion(released), metadata(), SP).kind == "subject-id"
    mail_only = attribute("urn:oid:0.9.2342.19200300.100.1.3", "mail@uni.example.test")
    with pytest.raises(Forbidden):
        attributes.subject_of(assertion(mail_only), metadata(), SP)


@pytest.mark.parametrize(
    ("value", "scopes", "names"),
    [
        ("a@uni.example.test", (Scope("uni.example.test"),), True),
        ("a@other.example.test", (Scope("uni.example.test"),), False),
        ("a@UNI.example.test", (Scope("uni.example.test"),), False),
        ("a@cs.uni.example.test", (Scope("uni.example.test"),), False),
        ("a@cs.uni.example.test", (Scope(r"^.+\.uni\.example\.test$", regexp=True),), True),
        ("a@evil-uni.example.test", (Scope(r"^.+\.uni\.example\.test$", regexp=True),), False),
        ("a@b@uni.example.test", (Scope("uni.example.test"),), False),
        ("@uni.example.test", (Scope("uni.example.test"),), False),
        ("a@", (Scope("uni.example.test"),), False),
        ("a", (Scope("uni.example.test"),), False),
    ],
)
def test_a_scoped_identifier_needs_a_scope_its_metadata_lists(value, scopes, names):
    found = assertion(attribute(EDUPERSON + "6", value))
    if names:
        assert attributes.subject_of(found, metadata(*scopes), SP).value == value
    else:
        with pytest.raises(Forbidden):
            attributes.subject_of(found, metadata(*scopes), SP)


def persistent(qualifiers: str = "") -> str:
    return (
        '<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"'
        f"{qualifiers}>p-0001</saml:NameID>"
    )


@pytest.mark.parametrize(
    ("name_id", "names"),
    [
        (persistent(), True),
        (persistent(f' NameQualifier="{IDP}" SPNameQualifier="{SP}"'), True),
        (persistent(' NameQualifier="https://other.example.test/idp"'), False),
        (persistent(' SPNameQualifier="https://other.example.test/sp"'), False),
        (TRANSIENT, False),
        (
            '<saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">'
            "a@uni.example.test</saml:NameID>",
            False,
        ),
    ],
    ids=["persistent", "qualified", "other-idp", "other-sp", "transient", "email"],
)
def test_a_persistent_name_id_for_this_idp_and_service_names_a_user(name_id, names):
    found = assertion(name_id=name_id)
    if names:
        assert attributes.subject_of(found, metadata(), SP).kind == "persistent NameID"
    else:
        with pytest.raises(Forbidden):
            attributes.subject_of(found, metadata(), SP)


def test_the_key_is_scoped_to_the_idp():
    found = assertion(attribute(EDUPERSON + "6", "a@uni.example.test"))
    subject = attributes.subject_of(found, metadata(), SP)
    one = attributes.profile_of(found, metadata(), subject).external_id
    other = IdpMetadata(**{**metadata().__dict__, "entity_id": "https://other.example.test/idp"})
    two = attributes.profile_of(found, other, subject).external_id
    assert one != two
    assert one == external_id("saml", IDP, "eduPersonPrincipalName:a@uni.example.test")
