"""How the platform asks for the tool to be shown (``launch_presentation``): the way back
to the course (``return_url``, with ``lti_msg`` or ``lti_errormsg``) and where the platform
put the tool (``document_target``).

Where a page may be shown is decided by how the browser fetched it (``guard``), never by
this claim: the claim says what the platform meant, the browser says what happened. The
gateway uses ``document_target`` to choose how Canvas opens a full-window launch.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import insert

from ...context import Gateway
from ...errors import BadRequest
from ...store.lti_tables import LtiPage
from ...support.keys import digest
from ...support.outbound import check_url
from . import claims as c

#: LTI 1.3's document targets (5.4.1), and "popup", which some platforms still send.
DOCUMENT_TARGETS = frozenset({"iframe", "frame", "window", "popup"})
MAX_MESSAGE = 300
BACK_LABEL = "Back to the course"


@dataclass(frozen=True)
class Presentation:
    return_url: str | None = None
    document_target: str | None = None
    platform_family: str | None = None


def of(claims: dict) -> Presentation:
    """The launch's presentation, keeping only what is well-formed: a return URL the
    gateway would link to (https, or http on loopback) and a known document target."""
    family = claims.get(c.TOOL_PLATFORM)
    family = family.get("product_family_code") if isinstance(family, dict) else None
    family = family[:64].lower() if isinstance(family, str) else None
    claim = claims.get(c.LAUNCH_PRESENTATION)
    if not isinstance(claim, dict):
        return Presentation(platform_family=family)
    return_url = claim.get("return_url")
    try:
        return_url = check_url(return_url, "return_url") if return_url else None
    except BadRequest:
        return_url = None  # a javascript: or data: URL is never a way back
    target = claim.get("document_target")
    return Presentation(return_url, target if target in DOCUMENT_TARGETS else None, family)


def back_url(return_url: str, *, message: str | None = None, error: str | None = None) -> str:
    """The return URL with the tool's message for the platform to show (LTI 1.3, 4.4.1)."""
    parts = urlsplit(return_url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if message:
        query.append(("lti_msg", message[:MAX_MESSAGE]))
    if error:
        query.append(("lti_errormsg", error[:MAX_MESSAGE]))
    return urlunsplit(parts._replace(query=urlencode(query)))


def record(gw: Gateway, page_key: str, platform_id: str, shown: Presentation, **review) -> None:
    """Keep what an LTI page shows beyond the notebook: the way back, the platform (for a
    full-window launch), and for a review whose hand-in it is (``review``: ``LtiPage``'s
    learner columns). One row per LTI page, read with the page in the same statement."""
    gw.db.write(
        (
            insert(LtiPage),
            {
                "launch_digest": digest(page_key),
                "platform_id": platform_id,
                "return_url": shown.return_url,
                "document_target": shown.document_target,
                "platform_family": shown.platform_family,
                "may_grade": False,
                **review,
            },
        )
    )
