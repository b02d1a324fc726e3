"""Courses of a platform: their titles and the roster URL their launches carry.

The roster URL (Names and Role Provisioning Services) arrives only inside a launch, so the
gateway keeps the latest one per course for ``lti roster sync``. Each process remembers
what it last wrote, so a warm launch of an unchanged course writes nothing.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ...context import Gateway
from ...errors import N_, NotFound
from ...store.lti_tables import LtiContext, LtiPlatform
from ...store.models import utcnow
from . import claims as c
from .identity import context_claim
from .platforms import check_url


def _memberships_url(claims: dict) -> str | None:
    service = claims.get(c.NRPS)
    url = service.get("context_memberships_url") if isinstance(service, dict) else None
    try:
        return check_url(url, "context_memberships_url") if url else None
    except Exception:
        return None  # a service URL the gateway would not call is as good as none


def record(gw: Gateway, platform: LtiPlatform, claims: dict) -> None:
    context = context_claim(claims)
    context_id = context.get("id")
    if not isinstance(context_id, str) or not context_id or len(context_id) > 255:
        return
    title = context.get("title") if isinstance(context.get("title"), str) else None
    values = {"title": (title or "")[:255] or None, "memberships_url": _memberships_url(claims)}
    memo = gw.memo.setdefault("lti_contexts", {})
    key = (platform.id, context_id)
    if memo.get(key) == values:
        return
    where = (LtiContext.platform_id == platform.id, LtiContext.context_id == context_id)
    with gw.db.begin() as session:
        changed = session.execute(
            update(LtiContext).where(*where).values(**values, updated_at=utcnow())
        ).rowcount
    if not changed:
        try:
            with gw.db.begin() as session:
                session.add(LtiContext(platform_id=platform.id, context_id=context_id, **values))
        except IntegrityError:
            pass  # another launch of the course recorded it at the same moment
    if len(memo) > 10_000:
        memo.clear()
    memo[key] = values


def get(gw: Gateway, platform_id: str, context_id: str) -> LtiContext:
    with gw.db.read() as session:
        found = session.scalar(
            select(LtiContext).where(
                LtiContext.platform_id == platform_id, LtiContext.context_id == context_id
            )
        )
    if found is None:
        raise NotFound(
            N_(
                "no launch from this course has reached the gateway yet, so its roster URL is "
                "unknown: launch the tool once from the course, then sync"
            )
        )
    return found
