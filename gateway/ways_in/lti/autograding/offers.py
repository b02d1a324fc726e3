"""A grader chosen in the Deep Linking picker, attached at its link's first launch.

The LMS gives a link its resource link id only after the picker's response has made it,
so the picker cannot attach the grader itself. It keeps the checked choice as an offer
under a random id and puts that id in the link's custom ``autograde`` parameter. The
platform signs the parameter into every launch of the link. The first launch of that link
in the course the picker was opened in attaches the grader (where the link has none),
once: a teacher who later removes it with the CLI keeps it removed.

A value made up (or edited in the LMS's link settings) names no offer; an offer names
its platform and course, so a link copied into another course attaches nothing there. A
launch without the parameter costs nothing; one with it, one read once attached."""

from __future__ import annotations

import logging
import secrets

from sqlalchemy import insert, select, update

from ....context import Gateway
from ....store.autograde_tables import LtiAutogradeOffer
from ....store.lti_tables import LtiPlatform
from ....store.models import utcnow
from .. import claims as c
from .. import identity
from .graders import Choice, attach

log = logging.getLogger(__name__)

#: The custom parameter of a link whose grader the picker chose.
CUSTOM = "autograde"


def offer(gw: Gateway, platform_id: str, context: str, course_id: str, choice: Choice) -> str:
    """Keep the picker's checked choice; the id the link's custom parameter carries."""
    offer_id = secrets.token_urlsafe(24)
    row = {
        "id": offer_id,
        "platform_id": platform_id,
        "context": context,
        "course_id": course_id,
        **choice.row(),
        "created_at": utcnow(),
    }
    gw.db.write((insert(LtiAutogradeOffer), row))
    return offer_id


def apply(gw: Gateway, platform: LtiPlatform, claims: dict) -> bool:
    """At a verified resource-link launch: attach the grader its link's custom parameter
    names, if this is that offer's first launch in its course. Whether one was attached."""
    custom = claims.get(c.CUSTOM)
    offer_id = custom.get(CUSTOM) if isinstance(custom, dict) else None
    link = claims.get(c.RESOURCE_LINK)
    link_id = link.get("id") if isinstance(link, dict) else None
    course_id = identity.context_claim(claims).get("id")
    if not all(isinstance(v, str) and v for v in (offer_id, link_id, course_id)):
        return False
    context = identity.context_of(platform.issuer, course_id)
    found = gw.db.fetch(select(LtiAutogradeOffer).where(LtiAutogradeOffer.id == offer_id[:64]))
    if found is None or (found.platform_id, found.context) != (platform.id, context):
        return False  # made up, or another course's (a copied link)
    if found.applied_at is not None:
        return False
    with gw.db.begin() as session:
        claimed = session.execute(
            update(LtiAutogradeOffer)
            .where(LtiAutogradeOffer.id == found.id, LtiAutogradeOffer.applied_at.is_(None))
            .values(resource_link_id=link_id, applied_at=utcnow())
        ).rowcount
    if not claimed:
        return False  # another launch of the link attached it a moment ago
    choice = Choice(found.kind, found.source_project_id, found.source_path, found.time_limit_s)
    attached = attach(gw, platform.id, context, course_id, link_id, choice, replace=False)
    log.info("the picker's grader %s: link %s", "attached" if attached else "kept out", link_id)
    return attached
