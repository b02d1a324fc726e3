"""A full-window launch (Canvas's ``lti.requestFullWindowLaunch``): where a framed sign-in
cannot work, the framed page asks the LMS to launch the tool again at top level, where the
gateway's and CoCalc's cookies are first-party.

The LMS launches the URL it is given as a new LTI launch, which keeps the platform's
signature but may lose the resource link's custom parameters (Canvas's full-window launch
carries the tool's URL, not the link). So the URL carries a one-time ``resume`` key: the
page's file, for the same platform user only. A resume key is no credential: it does
nothing without a launch the platform signed for that very user, and only ever chooses a
file of that user's own project. It lives 10 minutes and is used once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

from sqlalchemy import select

from ...context import Gateway
from ...errors import N_, NotFound
from ...launches.guard import Place
from ...store.lti_tables import LtiPage
from ...store.models import HostUser, Launch
from .. import exchanges
from . import identity

log = logging.getLogger(__name__)

RESUME_LIFETIME = timedelta(minutes=10)
RESUME_PARAMETER = "resume"


def resume_url(gw: Gateway, page_digest: str, launch_url: str) -> str:
    """The URL to hand the LMS for a full-window launch of the framed LTI page (the page
    guard admitted the request: the page is live, and this is its own browser)."""
    row = gw.db.fetch(
        select(LtiPage.platform_id, Launch.path, HostUser.external_id)
        .join(Launch, Launch.digest == LtiPage.launch_digest)
        .join(HostUser, HostUser.id == Launch.user_id)
        .where(LtiPage.launch_digest == page_digest, Launch.kind == Place.FRAMED.value)
    )
    if row is None:
        raise NotFound(N_("this page cannot be opened in the full window (it is not LTI)"))
    key = exchanges.create(
        gw,
        "resume",
        lifetime=RESUME_LIFETIME,
        owner_id=row.platform_id,
        data={"user": row.external_id, "path": row.path},
    )
    return f"{launch_url}?{urlencode({RESUME_PARAMETER: key})}"


def resumed_path(gw: Gateway, platform, claims: dict, target_link_uri) -> str | None:
    """The file a full-window launch goes on with, when its URL carries a resume key that
    was made for this platform user; None otherwise (the launch goes on as any other).

    The key is read, compared, and only then used up: another user's launch that carries
    it (a URL passed on) neither uses it nor learns anything from it."""
    if not isinstance(target_link_uri, str):
        return None
    values = parse_qs(urlsplit(target_link_uri).query).get(RESUME_PARAMETER) or []
    if len(values) != 1:
        return None
    resume = exchanges.peek(gw, "resume", values[0])
    if resume is None:
        return None
    user = identity.user_id(platform.issuer, claims["sub"])
    if resume.owner_id != platform.id or resume.data.get("user") != user:
        log.info("a resume key came back in another user's launch: ignored")
        return None
    if exchanges.take(gw, "resume", values[0]) is None:
        return None  # used by the same user's other launch at the same moment
    return resume.data.get("path")
