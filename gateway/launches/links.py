"""From a verified request to an embed page: signed launch tokens and one-time API links.

A launch token works once. Its ``jti`` is checked before any work (a replay costs no CoCalc
call) and recorded in the same transaction that creates the embed page, so a launch that
fails (CoCalc down) can be retried with the same token, and of two uses of one token only
one ever gets a page. A one-time link from the API is likewise used up only together with
the page it opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError

from .. import hosts, provisioning
from ..context import Gateway
from ..errors import N_, Gone, NotFound, Unauthorized
from ..provisioning import tokens
from ..provisioning.profile import UserProfile
from ..store.models import HostUser, Launch, UsedTokenId, UserProject, utcnow
from ..support.counters import LAUNCH_PATHS, LAUNCHES
from ..support.keys import digest, new_key
from . import embed, warm
from .embed import Issued
from .guard import Place
from .request import LaunchRequest

HANDOFF_LIFETIME = timedelta(seconds=60)
#: Used token ids are kept this long after their token expired (then purged).
KEEP_USED_IDS = timedelta(days=1)


@dataclass(frozen=True)
class HandoffLink:
    key: str
    expires_at: datetime
    account_id: str
    project_id: str


def from_token(gw: Gateway, request: LaunchRequest, *, place: Place = Place.FRAMED) -> Issued:
    """Provision a verified token's user and return a new embed page (token used once).

    ``place``: where the page may be shown (see ``guard``).
    """
    used = {
        "host_id": request.host.id,
        "jti": request.jti,
        "expires_at": datetime.fromtimestamp(request.expires_at or 0, UTC) + KEEP_USED_IDS,
    }
    try:
        issued = _warm(gw, request, used, place)
        if issued is None:
            claim_jti(gw, used, request.host.origins)
            try:
                provisioned = provisioning.provision(
                    gw, request.host, request.profile, request.context
                )
                issued = embed.create(
                    gw, request.host, provisioned, request.path, place=place, locale=request.locale
                )
            except BaseException:
                release_jti(gw, used)  # nothing came of it: the same token may try again
                raise
    except Exception:
        LAUNCHES.labels("token", "failed").inc()
        raise
    LAUNCHES.labels("token", "ok").inc()
    return issued


def claim_jti(gw: Gateway, used: dict, origins) -> None:
    """Record a launch token's ``jti`` before any work: of two uses at once (a replay
    racing the first use), exactly one gets past this, before anything is provisioned."""
    try:
        gw.db.write((insert(UsedTokenId), used))
    except IntegrityError:
        raise Unauthorized(
            N_("this launch token has already been used"), host_origins=origins
        ) from None


def release_jti(gw: Gateway, used: dict) -> None:
    gw.db.write(
        (
            delete(UsedTokenId).where(
                UsedTokenId.host_id == used["host_id"], UsedTokenId.jti == used["jti"]
            ),
            None,
        )
    )


def _warm(gw: Gateway, request: LaunchRequest, used: dict, place: Place) -> Issued | None:
    """The whole launch in one statement, for a user who is set up (PostgreSQL only)."""
    if not gw.db.is_postgres:
        return None
    profile, context = provisioning.validate(request.profile, request.context)
    key = new_key()
    binding, binding_digest = embed.binding_for(place)
    try:
        found = warm.launch(
            gw.db,
            host=request.host,
            profile=profile,
            context=context,
            path=request.path,
            jti=used["jti"],
            jti_expires_at=used["expires_at"],
            digest=digest(key),
            token_margin=tokens.margin(gw),
            embed_lifetime=embed.lifetime(gw),
            take_token=tokens.revocation_enabled(gw),
            kind=place.value,
            binding_digest=binding_digest,
            locale=request.locale,
        )
    except IntegrityError:
        raise Unauthorized(
            N_("this launch token has already been used"), host_origins=request.host.origins
        ) from None
    if found is None:
        return None
    LAUNCH_PATHS.labels("warm").inc()
    if tokens.revocation_enabled(gw):
        tokens.refill(gw, found.user_id, found.account_id)  # the page took a spare
    provisioning.maybe_start_project(gw, found.user_project_id, found.project_id, found.started_at)
    return Issued(key, place, binding, found.expires_at)


def from_api(gw: Gateway, request: LaunchRequest) -> HandoffLink:
    """Provision synchronously and return a one-time launch link valid for 60 s."""
    try:
        provisioned = provisioning.provision(gw, request.host, request.profile, request.context)
    except Exception:
        LAUNCHES.labels("api", "failed").inc()
        raise
    key = new_key()
    expires_at = utcnow() + HANDOFF_LIFETIME
    handoff = {
        "digest": digest(key),
        "kind": "handoff",
        "host_id": request.host.id,
        "user_id": provisioned.user_id,
        "user_project_id": provisioned.user_project_id,
        "path": request.path,
        "expires_at": expires_at,
        "locale": request.locale,
    }
    gw.db.write((insert(Launch), handoff))
    LAUNCHES.labels("api", "ok").inc()
    return HandoffLink(key, expires_at, provisioned.account_id, provisioned.project_id)


@dataclass(frozen=True)
class PendingLink:
    """A one-time link not used yet: whose it is, and what it opens."""

    digest: str
    host: object
    profile: UserProfile
    provisioned: provisioning.Provisioned
    path: str
    locale: str | None = None


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
        if user is None or project is None:  # erased since the link was made
            raise Gone(
                N_("this launch link no longer works; ask the site for a new one"),
                host_origins=host.origins,
            )
    profile = UserProfile(user.external_id, user.email, user.first_name, user.last_name)
    provisioned = provisioning.Provisioned(
        user.id, project.id, user.account_id, project.project_id, False
    )
    return PendingLink(row.digest, host, profile, provisioned, row.path, row.locale)


def redeem_handoff(gw: Gateway, key: str, place: Place = Place.FRAMED) -> Issued:
    """Use a one-time launch link and return a new embed page.

    The link is marked used in the transaction that records the page, so a failure on the
    way (CoCalc down while a token is fetched) leaves it usable for "Try again".
    """
    link = peek_handoff(gw, key)
    claim = (
        update(Launch)
        .where(Launch.digest == link.digest, Launch.used_at.is_(None), Launch.expires_at > utcnow())
        .values(used_at=utcnow())
    )
    return embed.create(
        gw, link.host, link.provisioned, link.path, claim=claim, place=place, locale=link.locale
    )
