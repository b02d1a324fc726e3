"""Step 2 of a launch: the platform's form post of ``id_token`` and ``state``.

The order is the security. The state is read first (a replayed launch finds it used and
stops there, before any other work and any CoCalc call); then the token is verified
against the nonce of that state, and the browser binding is checked (the state cookie, or
platform storage through one more round trip in the page). Only then is the state used up,
in one UPDATE that only one of two requests wins: so garbage posted with a state seen in a
platform's log, or a moment when the platform's keys cannot be fetched, does not spoil the
user's launch. Only then is anyone provisioned.

An LTI page is a framed page (``guard.Place.FRAMED``). The one exception is a launch the
platform sent at top level (a tool opened in a window of its own) into the browser that
holds the login's cookie: its page is a top-level page bound to that browser. A launch
bound through platform storage is always framed, and its continuation counts only when
the gateway's own storage page posts it.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import insert

from ... import provisioning
from ...context import Gateway
from ...errors import N_, BadRequest, Forbidden, Unauthorized
from ...launches import embed
from ...launches.embed import Issued
from ...launches.guard import Place
from ...provisioning import new_files, staff
from ...store.lti_tables import LtiGradeLink, LtiPlatform
from ...support.counters import LAUNCHES
from ...support.keys import digest
from .. import exchanges
from ..id_tokens import reported_error
from . import claims as c
from . import (
    contexts,
    full_window,
    grades,
    identity,
    login,
    platforms,
    presentation,
    validation,
)

STORAGE_CHECK_LIFETIME = timedelta(minutes=2)


@dataclass(frozen=True)
class Verified:
    platform: LtiPlatform
    claims: dict
    #: The browser binding was the login's cookie (not platform storage).
    by_cookie: bool = False


@dataclass(frozen=True)
class StorageCheck:
    """The browser must show its platform storage value before the launch goes on."""

    continuation: str
    storage_key: str
    storage_target: str
    platform_origin: str


def _platform_error(form) -> None:
    code = reported_error(form)
    if code:
        raise Unauthorized(f"the platform did not sign you in ({code}); reload the course page")


USED_OR_EXPIRED = N_(
    "this launch was used already or its login expired; open the link in the LMS again"
)


def receive(gw: Gateway, form, cookies, *, gateway_base: str) -> Verified | StorageCheck:
    _platform_error(form)
    state = form.get("state")
    login_row = exchanges.peek(gw, "login", state)
    if login_row is None:
        raise Unauthorized(USED_OR_EXPIRED)
    platform = platforms.get(gw, login_row.owner_id)
    claims = validation.verify(
        gw, platform, form.get("id_token"), nonce=login_row.nonce, gateway_base=gateway_base
    )
    if claims.get(c.TARGET_LINK_URI) != login_row.data.get("target_link_uri"):
        raise BadRequest("the launch's target_link_uri is not the one its login asked for")
    cookie = cookies.get(login.cookie_name(state))
    by_cookie = bool(cookie) and hmac.compare_digest(digest(cookie), login_row.binding_digest or "")
    if not by_cookie and not login_row.data.get("storage"):
        raise Forbidden(
            "this browser did not start this launch (its login cookie is missing); "
            "open the link in the LMS again, or allow cookies for the gateway"
        )
    # Everything checked: now use the state up (of two requests, one wins).
    if exchanges.take(gw, "login", state) is None:
        raise Unauthorized(USED_OR_EXPIRED)
    if by_cookie:
        return Verified(platform, claims, by_cookie=True)
    # Platform storage: the claims wait (encrypted: names, e-mail and roles are personal
    # data) until the gateway's storage page posts the value it reads back.
    continuation = exchanges.create(
        gw,
        "bound",
        lifetime=STORAGE_CHECK_LIFETIME,
        owner_id=platform.id,
        binding_digest=login_row.binding_digest,
        data={"claims": gw.box.encrypt(json.dumps(claims))},
    )
    return StorageCheck(
        continuation,
        login.storage_key(state),
        login_row.data["storage_target"],
        login_row.data.get("platform_origin") or "",
    )


def complete_storage(gw: Gateway, form, *, from_own_page: bool) -> Verified:
    """The gateway's storage page read the binding value back from the platform's storage
    (``lti.get_data``) and posts it: check it. Only that page may post it (same-origin):
    a continuation and a value posted by another site's page, or at top level, are
    refused before they are used."""
    if not from_own_page:
        raise Forbidden(N_("this launch can go on only from the gateway's own page in the LMS"))
    bound = exchanges.take(gw, "bound", form.get("continuation"))
    if bound is None:
        raise Unauthorized(N_("this launch was used already or took too long; open it again"))
    value = form.get("value")
    if not value or not hmac.compare_digest(digest(value), bound.binding_digest or ""):
        raise Forbidden("this browser did not start this launch (platform storage differs)")
    claims = json.loads(gw.box.decrypt(bound.data["claims"]))
    return Verified(platforms.get(gw, bound.owner_id), claims)


def place_for(verified: Verified, *, at_top_level: bool) -> Place:
    """Where the launch's page may be shown: framed, but for a launch the platform sent at
    top level into the browser that holds the login's cookie (see above)."""
    return Place.TOP if verified.by_cookie and at_top_level else Place.FRAMED


def resource_link(gw: Gateway, verified: Verified, place: Place = Place.FRAMED) -> Issued:
    """Provision the launch's user like every way in; return the new embed page."""
    platform, claims = verified.platform, verified.claims
    try:
        request = identity.launch_request(gw, platform, claims)
        resumed = full_window.resumed_path(gw, platform, claims, claims.get(c.TARGET_LINK_URI))
        if resumed is not None:  # a full-window launch goes on with the framed page's file
            request = replace(request, path=resumed)
        contexts.record(gw, platform, claims)
        provisioned = provisioning.provision(gw, request.host, request.profile, request.context)
        if request.path and identity.asks_new_file(claims):
            new_files.ensure(gw, provisioned.user_project_id, provisioned.project_id, request.path)
        if c.is_staff(claims.get(c.ROLES)):
            staff.note_staff(gw, request.host.id, request.context, provisioned.user_id)
        else:
            staff.note_learner(gw, request.host.id, request.context, provisioned.user_project_id)
        issued = embed.create(
            gw, request.host, provisioned, request.path, place=place, locale=request.locale
        )
        presentation.record(gw, issued.key, platform.id, presentation.of(claims))
        link = grades.link_values(claims)
        if link is not None:
            gw.db.write(
                (
                    insert(LtiGradeLink),
                    {"launch_digest": digest(issued.key), "platform_id": platform.id, **link},
                )
            )
    except Exception:
        LAUNCHES.labels("lti", "failed").inc()
        raise
    LAUNCHES.labels("lti", "ok").inc()
    return issued
