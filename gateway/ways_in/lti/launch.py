"""Step 2 of a launch: the platform's form post of ``id_token`` and ``state``.

The order is the security. The state is checked first: its signature and age (``states``:
nothing of it is stored), and whether it was spent (a replayed launch stops there, before
any other work and any CoCalc call); then the token is verified against the nonce derived
from the state, and the browser binding is checked (the state cookie, or platform storage
through one more round trip in the page). Only a launch that passed all of it counts
against its host's budget of sign-ins (``limits``: strangers cannot spend it), and its
state is spent in the transaction that records what it makes (the page, a picker, or the
storage check): of two requests with one state, one wins.

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

from ... import hosts
from ...context import Gateway
from ...errors import N_, BadRequest, Forbidden, Unauthorized
from ...launches import pipeline
from ...launches.embed import Issued, LtiShown, Shown
from ...launches.guard import Place
from ...launches.request import Attached, OneTime
from ...provisioning import new_files, staff
from ...store.lti_tables import LtiGradeLink, LtiPage, LtiPlatform
from ...support.keys import digest
from .. import exchanges, limits, states
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
    roles,
    validation,
)
from .autograding import offers as autograde_offers

STORAGE_CHECK_LIFETIME = timedelta(minutes=2)


@dataclass(frozen=True)
class Verified:
    platform: LtiPlatform
    claims: dict
    #: The browser binding was the login's cookie (not platform storage).
    by_cookie: bool = False
    #: The launch's one-time value (its state, or its storage check), spent with its page.
    once: OneTime | None = None

    @property
    def staff(self) -> bool:
        return roles.is_staff(self.claims.get(c.ROLES))


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
        raise Unauthorized(
            N_("the platform did not sign you in (%(code)s); reload the course page"), code=code
        )


USED_OR_EXPIRED = N_(
    "this launch was used already or its login expired; open the link in the LMS again"
)


def receive(gw: Gateway, form, cookies, *, gateway_base: str) -> Verified | StorageCheck:
    _platform_error(form)
    state = form.get("state")
    started = states.unseal(gw, "lti", state, login.LIFETIME)
    if started is None:
        raise Unauthorized(USED_OR_EXPIRED)
    platform = platforms.get(gw, started["p"])
    host = hosts.get(gw, platform.host_id)
    once = states.spend(host, "lti", state, login.LIFETIME, Unauthorized(USED_OR_EXPIRED))
    if gw.db.fetch(once.spent) is not None:
        raise once.refusal  # a replay: no key set fetched, nothing done
    nonce = states.derived(gw, "lti-nonce", state)
    claims = validation.verify(
        gw, platform, form.get("id_token"), nonce=nonce, gateway_base=gateway_base
    )
    if digest(claims.get(c.TARGET_LINK_URI) or "")[:32] != started["t"]:
        raise BadRequest(N_("the launch's target_link_uri is not the one its login asked for"))
    cookie = cookies.get(login.cookie_name(state))
    by_cookie = bool(cookie) and hmac.compare_digest(digest(cookie)[:32], started["b"])
    if not by_cookie and not started.get("s"):
        raise Forbidden(
            N_(
                "this browser did not start this launch (its login cookie is missing); "
                "open the link in the LMS again, or allow cookies for the gateway"
            )
        )
    limits.sign_in_verified(gw, platform.host_id)
    if by_cookie:
        return Verified(platform, claims, by_cookie=True, once=once)
    # Platform storage: the claims wait (encrypted: names, e-mail and roles are personal
    # data) until the gateway's storage page posts the value it reads back; the state is
    # spent with this continuation.
    continuation = exchanges.create(
        gw,
        "bound",
        lifetime=STORAGE_CHECK_LIFETIME,
        owner_id=platform.id,
        binding_digest=started["b"],
        data={"claims": gw.box.encrypt(json.dumps(claims))},
        spending=once,
    )
    return StorageCheck(
        continuation,
        login.storage_key(state),
        started["s"],
        login.origin_of(platform.login_url),
    )


def complete_storage(gw: Gateway, form, *, from_own_page: bool) -> Verified:
    """The gateway's storage page read the binding value back from the platform's storage
    (``lti.get_data``) and posts it: check it. Only that page may post it (same-origin):
    a continuation and a value posted by another site's page, or at top level, are
    refused before they are used."""
    if not from_own_page:
        raise Forbidden(N_("this launch can go on only from the gateway's own page in the LMS"))
    gone = Unauthorized(N_("this launch was used already or took too long; open it again"))
    key = form.get("continuation")
    bound = exchanges.peek(gw, "bound", key)
    if bound is None:
        raise gone
    value = form.get("value")
    if not value or not hmac.compare_digest(digest(value)[:32], bound.binding_digest or ""):
        raise Forbidden(N_("this browser did not start this launch (platform storage differs)"))
    claims = json.loads(gw.box.decrypt(bound.data["claims"]))
    once = OneTime(spend=exchanges.take_statement("bound", key), refusal=gone)
    return Verified(platforms.get(gw, bound.owner_id), claims, once=once)


def place_for(verified: Verified, *, at_top_level: bool) -> Place:
    """Where the launch's page may be shown: framed, but for a launch the platform sent at
    top level into the browser that holds the login's cookie (see above)."""
    return Place.TOP if verified.by_cookie and at_top_level else Place.FRAMED


def shown_of(claims: dict, *, gradable: bool = False, review=None) -> Shown:
    """What an LTI page shows beyond the notebook: the way back, its platform, its bars."""
    how = presentation.of(claims)
    return Shown(
        gradable=gradable,
        back_url=how.return_url,
        lti=LtiShown(how.platform_family, how.document_target),
        review=review,
    )


def resource_link(gw: Gateway, verified: Verified, place: Place = Place.FRAMED) -> Issued:
    """Provision the launch's user like every way in; return the new embed page."""
    platform, claims = verified.platform, verified.claims
    request = identity.launch_request(gw, platform, claims)
    resumed = full_window.resumed_path(gw, platform, claims, claims.get(c.TARGET_LINK_URI))
    if resumed is not None:  # a full-window launch goes on with the framed page's file
        request = replace(request, path=resumed)
    contexts.record(gw, platform, claims)
    autograde_offers.apply(gw, platform, claims)  # a grader the picker chose for this link

    def prepare(provisioned):
        if request.path and identity.asks_new_file(claims):
            new_files.ensure(gw, provisioned.user_project_id, provisioned.project_id, request.path)
        if verified.staff:
            staff.note_staff(gw, request.host.id, request.context, provisioned.user_id)
        else:
            staff.note_learner(gw, request.host.id, request.context, provisioned.user_project_id)
        return provisioned

    attach = [Attached(LtiPage.__table__, {"platform_id": platform.id})]
    link = grades.link_values(claims)
    if link is not None:
        attach.append(Attached(LtiGradeLink.__table__, {"platform_id": platform.id, **link}))
    return pipeline.open(
        gw,
        request,
        place=place,
        once=verified.once,
        shown=shown_of(claims, gradable=link is not None),
        attach=tuple(attach),
        prepare=prepare,
    )
