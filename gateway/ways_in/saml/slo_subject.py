"""What a single logout will name: the subject (NameID, its qualifiers and the
SessionIndex) of the assertion a session came from, kept encrypted with the session, and a
digest by which an IdP's LogoutRequest finds it."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from ...store.saml_tables import SamlIdp
from ...support.keys import digest
from .xml_guard import SAML


def of(assertion: ET.Element, idp: SamlIdp) -> tuple[str, str]:
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
