"""Step 2 of a launch: the platform's form post of ``id_token`` and ``state``.

The order is the security: the state is used up first (one UPDATE; a replayed launch stops
here, before any other work and any CoCalc call), then the token is verified against the
nonce of that state, then the browser binding is checked (the state cookie, or platform
storage through one more round trip in the page). Only then is anyone provisioned.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert

from ... import provisioning
from ...context import Gateway
from ...errors import BadRequest, Forbidden, Unauthorized
from ...launches import embed
from ...launches.keys import digest
from ...provisioning import staff
from ...store.lti_tables import LtiGradeLink, LtiPlatform
from ...support.counters import LAUNCHES
from .. import exchanges
from . import claims as c
from . import contexts, grades, identity, login, platforms, validation

STORAGE_CHECK_LIFETIME = timedelta(minutes=2)
PLATFORM_ERROR_CODES = frozenset(
    {"login_required", "interaction_required", "invalid_request", "access_denied"}
)


@dataclass(frozen=True)
class Verified:
    platform: LtiPlatform
    claims: dict


@dataclass(frozen=True)
class StorageCheck:
    """The browser must show its platform storage value before the launch goes on."""

    continuation: str
    storage_key: str
    storage_target: str
    platform_origin: str


def _platform_error(form) -> None:
    error = form.get("error")
    if error:
        code = error if error in PLATFORM_ERROR_CODES else "an error"
        raise Unauthorized(f"the platform did not sign you in ({code}); reload the course page")


def receive(gw: Gateway, form, cookies, *, gateway_base: str) -> Verified | StorageCheck:
    _platform_error(form)
    state = form.get("state")
    login_row = exchanges.take(gw, "login", state)
    if login_row is None:
        raise Unauthorized(
            "this launch was used already or its login expired; open the link in the LMS again"
        )
    platform = platforms.get(gw, login_row.owner_id)
    claims = validation.verify(
        gw, platform, form.get("id_token"), nonce=login_row.nonce, gateway_base=gateway_base
    )
    if claims.get(c.TARGET_LINK_URI) != login_row.data.get("target_link_uri"):
        raise BadRequest("the launch's target_link_uri is not the one its login asked for")
    cookie = cookies.get(login.cookie_name(state))
    if cookie and hmac.compare_digest(digest(cookie), login_row.binding_digest or ""):
        return Verified(platform, claims)
    if login_row.data.get("storage"):
        continuation = exchanges.create(
            gw,
            "bound",
            lifetime=STORAGE_CHECK_LIFETIME,
            owner_id=platform.id,
            binding_digest=login_row.binding_digest,
            data={"claims": claims, "state_key": login.storage_key(state)},
        )
        return StorageCheck(
            continuation,
            login.storage_key(state),
            login_row.data.get("storage_target") or "_parent",
            login_row.data.get("platform_origin") or "",
        )
    raise Forbidden(
        "this browser did not start this launch (its login cookie is missing); "
        "open the link in the LMS again, or allow cookies for the gateway"
    )


def complete_storage(gw: Gateway, form) -> Verified:
    """The page read the binding value back from platform storage: check it."""
    bound = exchanges.take(gw, "bound", form.get("continuation"))
    if bound is None:
        raise Unauthorized("this launch was used already or took too long; open it again")
    value = form.get("value")
    if not value or not hmac.compare_digest(digest(value), bound.binding_digest or ""):
        raise Forbidden("this browser did not start this launch (platform storage differs)")
    return Verified(platforms.get(gw, bound.owner_id), bound.data["claims"])


def resource_link(gw: Gateway, verified: Verified) -> str:
    """Provision the launch's user like every way in; return the new embed page's key."""
    platform, claims = verified.platform, verified.claims
    try:
        request = identity.launch_request(gw, platform, claims)
        contexts.record(gw, platform, claims)
        provisioned = provisioning.provision(gw, request.host, request.profile, request.context)
        if c.is_staff(claims.get(c.ROLES)):
            staff.note_staff(gw, request.host.id, request.context, provisioned.user_id)
        else:
            staff.note_learner(gw, request.host.id, request.context, provisioned.user_project_id)
        # The signed id_token and the browser binding prove where this launch came from, so
        # its page may sign in at top level too (an LMS may open tools in a new window).
        key = embed.create(gw, request.host, provisioned, request.path, top_level=True)
        link = grades.link_values(claims)
        if link is not None:
            gw.db.write(
                (
                    insert(LtiGradeLink),
                    {"launch_digest": digest(key), "platform_id": platform.id, **link},
                )
            )
    except Exception:
        LAUNCHES.labels("lti", "failed").inc()
        raise
    LAUNCHES.labels("lti", "ok").inc()
    return key
