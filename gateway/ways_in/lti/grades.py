"""Hand-in with Assignment and Grade Services: the file is copied where the course staff
can read it, and the LMS is told it was submitted (instructors grade in the gradebook).

The hand-in folder is ``hand-in/<UTC time>/`` in the learner's own project, which every
staff member of the context is a collaborator on (``provisioning.staff``); a copy per
hand-in keeps what was handed in apart from later edits. The score posted has no points:
``activityProgress: Submitted`` and ``gradingProgress: PendingManual``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import or_, select, update

from ...context import Gateway
from ...errors import BadGateway, BadRequest, NotFound, ServiceBusy
from ...provisioning.projects import copy_and_wait
from ...store.lti_tables import LtiGradeLink
from ...store.models import HostUser, Launch, UserProject, utcnow
from ...support.keys import digest
from . import claims as c
from . import platforms, service_tokens

SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
HAND_IN_FOLDER = "hand-in"
#: One hand-in per page at a time (a double click, or a hostile loop, copies once).
MIN_INTERVAL = timedelta(seconds=10)
SCORE_MAXIMUM = 100


def link_values(claims: dict) -> dict | None:
    """What a launch's AGS claim lets the gateway do; None when it cannot post a score."""
    endpoint = claims.get(c.AGS_ENDPOINT)
    if not isinstance(endpoint, dict):
        return None
    scopes = [s for s in endpoint.get("scope") or [] if isinstance(s, str)]
    lineitem, lineitems = endpoint.get("lineitem"), endpoint.get("lineitems")
    try:
        lineitem = platforms.check_url(lineitem, "lineitem") if lineitem else None
        lineitems = platforms.check_url(lineitems, "lineitems") if lineitems else None
    except BadRequest:
        return None
    can_find = lineitems and c.SCOPE_LINEITEM in scopes
    if c.SCOPE_SCORE not in scopes or not (lineitem or can_find):
        return None
    link = claims.get(c.RESOURCE_LINK) or {}
    return {
        "subject": claims["sub"],
        "lineitem_url": lineitem,
        "lineitems_url": lineitems,
        "resource_link_id": link.get("id") if isinstance(link.get("id"), str) else None,
        "scopes": scopes,
    }


def _service_url(base: str, suffix: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + suffix))


def _line_item(gw: Gateway, platform, link: LtiGradeLink, title: str) -> str:
    """The launch's line item, or the resource link's own (found, else created)."""
    if link.lineitem_url:
        return link.lineitem_url
    token = service_tokens.access_token(gw, platform, [c.SCOPE_LINEITEM])
    auth = {"Authorization": f"Bearer {token}"}
    found = gw.outbound.get_json(
        link.lineitems_url,
        "line item service",
        params={"resource_link_id": link.resource_link_id or ""},
        headers={**auth, "Accept": LINEITEMS_TYPE},
    )
    for item in found if isinstance(found, list) else []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            return platforms.check_url(item["id"], "line item id")
    body = {"scoreMaximum": SCORE_MAXIMUM, "label": title[:255] or "CoCalc notebook"}
    if link.resource_link_id:
        body["resourceLinkId"] = link.resource_link_id
    _, created = gw.outbound.call(
        "POST",
        link.lineitems_url,
        "line item service",
        ok=(200, 201),
        data=json.dumps(body),
        headers={**auth, "Content-Type": LINEITEM_TYPE, "Accept": LINEITEM_TYPE},
    )
    try:
        return platforms.check_url(json.loads(created)["id"], "line item id")
    except (ValueError, KeyError, TypeError, BadRequest):
        raise BadGateway("the platform created a line item without a usable id") from None


def post_submission(gw: Gateway, platform, link: LtiGradeLink, title: str) -> None:
    lineitem = _line_item(gw, platform, link, title)
    token = service_tokens.access_token(gw, platform, [c.SCOPE_SCORE])
    score = {
        "userId": link.subject,
        "activityProgress": "Submitted",
        "gradingProgress": "PendingManual",
        "timestamp": utcnow().isoformat(timespec="milliseconds"),
    }
    gw.outbound.call(
        "POST",
        _service_url(lineitem, "/scores"),
        "score service",
        ok=(200, 201, 202, 204),
        data=json.dumps(score),
        headers={"Authorization": f"Bearer {token}", "Content-Type": SCORE_TYPE},
    )


@dataclass(frozen=True)
class HandIn:
    path: str
    handed_in_at: str


def _page(gw: Gateway, key: str) -> tuple[LtiGradeLink, str, str]:
    with gw.db.read() as session:
        row = session.execute(
            select(LtiGradeLink, Launch.path, UserProject.project_id)
            .join(Launch, Launch.digest == LtiGradeLink.launch_digest)
            .join(UserProject, UserProject.id == Launch.user_project_id)
            .join(HostUser, HostUser.id == Launch.user_id)
            .where(
                LtiGradeLink.launch_digest == digest(key),
                Launch.expires_at > utcnow(),
                HostUser.deprovisioned_at.is_(None),
            )
        ).first()
    if row is None:
        raise NotFound("this page cannot hand work in (it expired, or its launch has no grade)")
    return row.LtiGradeLink, row.path, row.project_id


def hand_in(gw: Gateway, key: str) -> HandIn:
    """Copy the page's file to a hand-in folder and tell the LMS it was submitted."""
    link, path, project_id = _page(gw, key)
    if not path:
        raise BadRequest("this launch opens no file, so there is nothing to hand in")
    now = utcnow()
    with gw.db.engine.begin() as connection:
        won = connection.execute(
            update(LtiGradeLink)
            .where(
                LtiGradeLink.launch_digest == link.launch_digest,
                or_(
                    LtiGradeLink.handed_in_at.is_(None),
                    LtiGradeLink.handed_in_at <= now - MIN_INTERVAL,
                ),
            )
            .values(handed_in_at=now)
        ).rowcount
    if won != 1:
        raise ServiceBusy("this work was handed in a moment ago; wait a few seconds")
    target = f"{HAND_IN_FOLDER}/{now.strftime('%Y-%m-%dT%H-%M-%SZ')}/{path}"
    copy_and_wait(gw, project_id, path, project_id, target)
    post_submission(gw, platforms.get(gw, link.platform_id), link, path.rsplit("/", 1)[-1])
    return HandIn(path=target, handed_in_at=now.isoformat())
