"""The launch: one function every way in calls, from a verified request to an embed page.

A way in verifies what arrived (a token's signature, an LTI launch's, an OpenID Provider's
or a SAML IdP's) and translates it into a ``LaunchRequest``; ``open`` does the rest, the
same way for all of them:

1. The warm path: on PostgreSQL, a launch token of a user who is set up becomes a page in
   one statement (``warm``), which spends its ``jti`` too (and refuses a replay).
2. Otherwise a one-time value that was spent already (a replayed token, link, state or
   ticket) is refused before any other work: a replay never costs a CoCalc call.
3. Otherwise the user is provisioned (``provisioning.provision``: nothing for a user who is
   set up, else exactly-once set-up that a later launch can resume), the way in's own step
   runs (``prepare``), and the page gets its token.
4. One transaction records the page (with what it shows, ``embed.Shown``), spends the
   one-time value, and writes the rows that go with the page (``Attached``). Of two uses
   of one value, one commits and the other finds it spent; the loser's token is revoked.
   A process killed before the commit leaves no page and an unspent value: the same
   request can be tried again, and provisioning goes on where it stopped.
5. The launch is counted by its way in, whatever happened.
"""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from .. import provisioning
from ..context import Gateway
from ..provisioning import Provisioned, revocations, tokens
from ..store.models import Launch, utcnow
from ..support.counters import LAUNCH_PATHS, LAUNCHES
from ..support.keys import digest, new_key
from . import embed, warm
from .embed import Issued, Shown
from .guard import Place
from .request import Attached, LaunchRequest, OneTime, Prepare


class _Spent(Exception):
    """The one-time value was spent by another request meanwhile."""


def open(
    gw: Gateway,
    request: LaunchRequest,
    *,
    place: Place,
    once: OneTime | None = None,
    shown: Shown | None = None,
    attach: tuple[Attached, ...] = (),
    prepare: Prepare | None = None,
    provisioned: Provisioned | None = None,
    session_digest: str | None = None,
) -> Issued:
    """Turn a verified request into a recorded embed page (see the module's steps).

    ``provisioned``: whose page it is, when a way in knows already (a new tab of a page, a
    one-time link); ``session_digest``: the sign-in session an SSO page is bound to.
    """
    try:
        issued = _open(
            gw, request, place, once, shown or Shown(), attach, prepare, provisioned, session_digest
        )
    except Exception:
        LAUNCHES.labels(request.via, "failed").inc()
        raise
    LAUNCHES.labels(request.via, "ok").inc()
    return issued


def _open(gw, request, place, once, shown, attach, prepare, provisioned, session_digest):
    binding, binding_digest = _binding(place, session_digest)
    if _warm_possible(gw, once, shown, attach, prepare, provisioned):
        # The warm statement spends the value itself, and refuses a replay.
        issued = _warm(gw, request, once, place, binding, binding_digest)
        if issued is not None:
            return issued
    if once is not None and once.spent is not None and gw.db.fetch(once.spent) is not None:
        raise once.refusal
    if provisioned is None:
        provisioned = provisioning.provision(gw, request.host, request.profile, request.context)
    if prepare is not None:
        provisioned = prepare(provisioned)
    token = tokens.for_page(gw, provisioned.user_id, provisioned.token)
    key = new_key()
    expires_at = token.expires_at
    if cap := embed.lifetime(gw):
        expires_at = min(expires_at, utcnow() + cap)
    page = {
        "digest": digest(key),
        "kind": place.value,
        "host_id": request.host.id,
        "user_id": provisioned.user_id,
        "user_project_id": provisioned.user_project_id,
        "project_id": provisioned.project_id,
        "path": request.path,
        "expires_at": expires_at,
        "issued_at": utcnow(),
        "token_encrypted": gw.box.encrypt(token.token),
        "binding_digest": binding_digest,
        "locale": request.locale,
        "shown": shown.as_json(),
    }
    try:
        with gw.db.engine.begin() as connection:
            if once is not None and not once.spend_in(connection):
                raise _Spent
            connection.execute(insert(Launch), page)
            for row in attach:
                connection.execute(
                    insert(row.table), {**row.values, "launch_digest": page["digest"]}
                )
    except (IntegrityError, _Spent):
        if tokens.revocation_enabled(gw):  # the page's own token will never be used
            revocations.revoke(gw, token.token)
        if once is None:
            raise
        raise once.refusal from None
    return Issued(key, place, binding, expires_at)


def _binding(place: Place, session_digest: str | None) -> tuple[str | None, str]:
    """A new page's binding: (the cookie value to hand out, the digest to store)."""
    if place is Place.SSO:
        if not session_digest:
            raise ValueError("an SSO page needs the session that opens it")
        return None, session_digest
    # The time first: of a browser's page cookies, the oldest go first (guard.MAX_PAGE_COOKIES).
    value = f"{int(utcnow().timestamp())}.{new_key()}"
    return value, digest(value)


def _warm_possible(gw, once, shown, attach, prepare, provisioned) -> bool:
    """The one-statement launch covers a launch token's page and nothing more."""
    plain = shown == Shown() and not attach and prepare is None and provisioned is None
    return gw.db.is_postgres and plain and once is not None and once.jti is not None


def _warm(gw, request, once, place, binding, binding_digest) -> Issued | None:
    profile, context = provisioning.validate(request.profile, request.context)
    key = new_key()
    _, jti, jti_expires_at = once.jti
    try:
        found = warm.launch(
            gw.db,
            host=request.host,
            profile=profile,
            context=context,
            path=request.path,
            jti=jti,
            jti_expires_at=jti_expires_at,
            digest=digest(key),
            token_margin=tokens.margin(gw),
            embed_lifetime=embed.lifetime(gw),
            take_token=tokens.revocation_enabled(gw),
            kind=place.value,
            binding_digest=binding_digest,
            locale=request.locale,
        )
    except IntegrityError:
        raise once.refusal from None
    if found is None:
        return None
    LAUNCH_PATHS.labels("warm").inc()
    if tokens.revocation_enabled(gw):
        tokens.refill(gw, found.user_id, found.account_id)  # the page took a spare
    provisioning.maybe_start_project(gw, found.user_project_id, found.project_id, found.started_at)
    return Issued(key, place, binding, found.expires_at)
