"""Roster sync with Names and Role Provisioning Services: every active member of a course
is provisioned like a launch would (``users import``), before anyone clicks a link; the
course's staff become collaborators on its learners' projects."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from sqlalchemy import select

from ... import hosts
from ...context import Gateway
from ...errors import N_, BadGateway
from ...provisioning import staff
from ...provisioning.users import ImportSummary, import_users
from ...store.models import HostUser, UserProject
from . import claims as c
from . import contexts, identity, platforms, roles, service_tokens

MEMBERSHIPS_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
MAX_PAGES = 1000


def _pages(gw: Gateway, platform, url: str):
    token = service_tokens.access_token(gw, platform, [c.SCOPE_MEMBERSHIPS])
    headers = {"Authorization": f"Bearer {token}", "Accept": MEMBERSHIPS_TYPE}
    for _ in range(MAX_PAGES):
        reply, body = gw.outbound.call("GET", url, "roster service", headers=headers)
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            raise BadGateway(N_("the platform's roster service did not answer with JSON")) from None
        members = document.get("members") if isinstance(document, dict) else None
        if not isinstance(members, list):
            raise BadGateway(N_("the platform's roster holds no member list"))
        yield [m for m in members if isinstance(m, dict)]
        found = NEXT_LINK.search(reply.headers.get("Link", ""))
        if not found:
            return
        url = platforms.check_url(found.group(1), "next roster page")


def members(gw: Gateway, platform, url: str) -> list[dict]:
    """Every active member, from every page."""
    result = []
    for page in _pages(gw, platform, url):
        for member in page:
            active = member.get("status", "Active") == "Active"
            if active and isinstance(member.get("user_id"), str) and member["user_id"]:
                result.append(member)
    return result


def sync(
    gw: Gateway,
    platform_id: str,
    context_id: str,
    *,
    on_total: Callable[[int], None] = lambda n: None,
    progress: Callable[[int], None] = lambda n: None,
) -> ImportSummary:
    platform = platforms.get(gw, platform_id)
    course = contexts.get(gw, platform_id, context_id)
    if not course.memberships_url:
        raise BadGateway(N_("this course's launches carry no roster URL (NRPS is not enabled)"))
    host = hosts.get(gw, platform.host_id)
    roster = members(gw, platform, course.memberships_url)
    on_total(len(roster))
    context = identity.context_of(platform.issuer, context_id)
    rows = [(identity.profile(platform.issuer, m["user_id"], m), context) for m in roster]
    summary = import_users(gw, host, rows, progress=progress)
    _note_roles(gw, host.id, context, platform.issuer, roster)
    return summary


def _note_roles(gw: Gateway, host_id: str, context: str, issuer: str, roster: list[dict]) -> None:
    by_external = {identity.user_id(issuer, m["user_id"]): m for m in roster}
    with gw.db.read() as session:
        found = session.execute(
            select(HostUser.id, HostUser.external_id, UserProject.id.label("project"))
            .join(UserProject, UserProject.user_id == HostUser.id)
            .where(
                HostUser.host_id == host_id,
                UserProject.context == context,
                HostUser.external_id.in_(list(by_external)),
            )
        ).all()
    teachers = [r for r in found if roles.is_staff(by_external[r.external_id].get("roles"))]
    for row in teachers:
        staff.note_staff(gw, host_id, context, row.id)
    for row in found:
        if row not in teachers:
            staff.note_learner(gw, host_id, context, row.project)
