"""The host-facing launches: a signed launch token, and the API's one-time links.

A launch token works once: its ``jti`` is spent in the transaction that records its page
(``pipeline``), so a launch that fails (CoCalc down) can be retried with the same token,
and of two uses of one token only one ever gets a page. A one-time link from the API is
likewise used up only together with the page it opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update

from .. import hosts, provisioning
from ..context import Gateway
from ..errors import N_, Gone, NotFound, Unauthorized
from ..provisioning.profile import UserProfile
from ..store.models import HostUser, Launch, UsedTokenId, UserProject, utcnow
from ..support.keys import digest, new_key
from . import pipeline
from .embed import Issued
from .guard import Place
from .request import LaunchRequest, OneTime

HANDOFF_LIFETIME = timedelta(seconds=60)
#: Used token ids are kept this long after their token expired (then purged).
KEEP_USED_IDS = timedelta(days=1)


def spend_once(host, jti: str, expires_at: datetime, refusal) -> OneTime:
    """A one-time value of ``host`` (a launch token's ``jti``, a sign-in's state), spent by
    recording it in ``UsedTokenId``; its primary key refuses a second use."""
    return OneTime(
        spend=insert(UsedTokenId).values(host_id=host.id, jti=jti, expires_at=expires_at),
        spent=select(UsedTokenId.jti).where(UsedTokenId.host_id == host.id, UsedTokenId.jti == jti),
        refusal=refusal,
        jti=(host.id, jti, expires_at),
    )


def from_token(gw: Gateway, request: LaunchRequest, *, place: Place = Place.FRAMED) -> Issued:
    """A verified launch token's page (the token is spent with it)."""
    expires = datetime.fromtimestamp(request.expires_at or 0, UTC) + KEEP_USED_IDS
    refusal = Unauthorized(
        N_("this launch token has already been used"), host_origins=request.host.origins
    )
    once = spend_once(request.host, request.jti, expires, refusal)
    return pipeline.open(gw, request, place=place, once=once)


@dataclass(frozen=True)
class HandoffLink:
    key: str
    expires_at: datetime
    account_id: str
    project_id: str


def from_api(gw: Gateway, request: LaunchRequest) -> HandoffLink:
    """Provision synchronously and return a one-time launch link valid for 60 s."""
    provisioned = provisioning.provision(gw, request.host, request.profile, request.context)
    key = new_key()
    expires_at = utcnow() + HANDOFF_LIFETIME
    handoff = {
        "digest": digest(key),
        "kind": "handoff",
        "host_id": request.host.id,
        "user_id": provisioned.user_id,
        "user_project_id": provisioned.user_project_id,
        "project_id": provisioned.project_id,
        "path": request.path,
        "expires_at": expires_at,
        "locale": request.locale,
    }
    gw.db.write((insert(Launch), handoff))
    return HandoffLink(key, expires_at, provisioned.account_id, provisioned.project_id)


@dataclass(frozen=True)
class PendingLink:
    """A one-time link not used yet: whose it is, and what it opens."""

    digest: str
    request: LaunchRequest
    provisioned: provisioning.Provisioned


def peek_handoff(gw: Gateway, key: str) -> PendingLink:
    """Read a one-time launch link without using it up; NotFound or Gone if it cannot work."""
    with gw.db.read() as session:
        row = session.get(Launch, digest(key))
        if row is None or row.kind != "handoff":
            raise NotFound(N_("this launch link does not exist"))
        host = hosts.get(gw, row.host_id)
        if row.used_at is not None or row.expires_at <= utcnow():
            raise Gone(
                N_("this launch link was already used or has expired; ask the site for a new one"),
                host_origins=host.origins,
            )
        user = session.get(HostUser, row.user_id)
        project = session.get(UserProject, row.user_project_id)
        if user is None or project is None or user.deprovisioned_at is not None:
            raise Gone(
                N_("this launch link no longer works; ask the site for a new one"),
                host_origins=host.origins,
            )
    profile = UserProfile(user.external_id, user.email, user.first_name, user.last_name)
    provisioned = provisioning.Provisioned(
        user.id, project.id, user.account_id, project.project_id, False
    )
    request = LaunchRequest(host, profile, row.path, project.context, via="api", locale=row.locale)
    return PendingLink(row.digest, request, provisioned)


def redeem_handoff(gw: Gateway, key: str, place: Place = Place.FRAMED) -> Issued:
    """Use a one-time launch link and return a new embed page.

    The link is marked used in the transaction that records the page, so a failure on the
    way (CoCalc down while a token is fetched) leaves it usable for "Try again".
    """
    link = peek_handoff(gw, key)
    once = OneTime(
        spend=update(Launch)
        .where(Launch.digest == link.digest, Launch.used_at.is_(None), Launch.expires_at > utcnow())
        .values(used_at=utcnow()),
        refusal=Gone(
            N_("this launch link was already used; ask the site for a new one"),
            host_origins=link.request.host.origins,
        ),
    )
    return pipeline.open(gw, link.request, place=place, once=once, provisioned=link.provisioned)
