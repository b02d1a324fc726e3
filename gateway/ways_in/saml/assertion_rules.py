"""What an assertion must say, read by the gateway itself (pysaml2 then verifies that what
was read is what the IdP signed): who issued it, a bearer confirmation for this ACS and
this request, conditions naming this service, and the time, with ``CLOCK_SKEW_S``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

from ...errors import N_
from . import sp, xml_guard
from .xml_guard import SAML, Refused

BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"


def issuer(element: ET.Element) -> str | None:
    found = element.find(f"{{{SAML}}}Issuer")
    return (found.text or "").strip() if found is not None else None


def instant(text: str | None) -> datetime | None:
    return xml_guard.instant(text, Refused(N_("a time in the assertion is not a date and time")))


def check_subject(assertion: ET.Element, acs: str, expected: str | None, now: datetime):
    """A bearer confirmation for this ACS, this request, and now; returns its end."""
    for confirmation in assertion.iterfind(f"{{{SAML}}}Subject/{{{SAML}}}SubjectConfirmation"):
        if confirmation.get("Method") != BEARER:
            continue
        data = confirmation.find(f"{{{SAML}}}SubjectConfirmationData")
        if data is None or data.get("Recipient") != acs:
            continue
        if data.get("InResponseTo") != expected:
            continue
        ends = instant(data.get("NotOnOrAfter"))
        if ends is None or ends + timedelta(seconds=sp.CLOCK_SKEW_S) <= now:
            continue
        starts = instant(data.get("NotBefore"))
        if starts is not None and starts - timedelta(seconds=sp.CLOCK_SKEW_S) > now:
            continue
        return ends
    raise Refused(N_("no bearer confirmation for this service, this request and this time"))


def check_conditions(assertion: ET.Element, entity_id: str, now: datetime) -> datetime | None:
    conditions = assertion.find(f"{{{SAML}}}Conditions")
    if conditions is None:
        raise Refused(N_("the assertion has no conditions"))
    skew = timedelta(seconds=sp.CLOCK_SKEW_S)
    starts = instant(conditions.get("NotBefore"))
    ends = instant(conditions.get("NotOnOrAfter"))
    if (starts and starts - skew > now) or (ends and ends + skew <= now):
        raise Refused(N_("the assertion is not valid at this time"))
    restrictions = conditions.findall(f"{{{SAML}}}AudienceRestriction")
    if not restrictions:
        raise Refused(N_("the assertion names no audience"))
    for restriction in restrictions:  # every restriction must admit this service
        audiences = [(a.text or "").strip() for a in restriction.findall(f"{{{SAML}}}Audience")]
        if entity_id not in audiences:
            raise Refused(N_("the assertion is for another service"))
    return ends
