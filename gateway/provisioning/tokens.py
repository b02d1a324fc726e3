"""CoCalc auth tokens: cached per user, reused while they have life left, revoked after use.

With API v1 a token cannot be revoked, so every embed page of a user shares the cached one.
With the current API (and GATEWAY_REVOKE_TOKENS on) each embed page takes a spare token for
itself, and the user's spares are refilled in the background at once, so their next launch
finds one waiting and makes no CoCalc call. Once the page's browser has signed in, its
token is revoked, so a leaked sign-in URL is worth nothing.

A refill is cheap and never piles up: at most one runs per user in a process (a flood of
one user's launches asks for one refill, which fills the pool); it is one CoCalc call and
one INSERT per token (the launch hands over the account id, and with a site admin's key no
password is needed); and it keeps as many spares as the user's recent launch rate needs to
have one waiting while the next is fetched (``wanted_spares``, at most ``MAX_SPARES``).

Revoking them is ``gateway.provisioning.revocations``.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from datetime import timedelta

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..cocalc.types import AuthToken
from ..context import Gateway
from ..store.database import CompiledStatement, naive_utc
from ..store.locks import db_lock
from ..store.models import CachedToken, HostUser, SpareToken, utcnow
from .readiness import SPARE_USABLE, TOKEN_USABLE, first_spare

#: Spares one user may have waiting (each is a live credential, encrypted at rest).
MAX_SPARES = 4
#: The launches of a user that count towards their rate: those of the last 10 seconds.
RATE_WINDOW_S = 10.0


def margin(gw: Gateway) -> timedelta:
    """How much life a cached token must have left to be handed to a new page."""
    return timedelta(seconds=int(gw.settings["GATEWAY_TOKEN_MARGIN"]))


def cached(gw: Gateway, user_id: int, db=None) -> AuthToken | None:
    """Return the user's cached token if it has more than the safety margin left."""
    row = (db or gw.db).fetch(
        select(CachedToken.token_encrypted, CachedToken.expires_at).where(
            CachedToken.user_id == user_id, TOKEN_USABLE
        ),
        {"usable_after": utcnow() + margin(gw)},
    )
    return AuthToken(gw.box.decrypt(row.token_encrypted), row.expires_at) if row else None


def store(gw: Gateway, user_id: int, token: AuthToken, db=None) -> None:
    """Cache a token (``db``: the lock holder's database, when called under a lock)."""
    values = {"token_encrypted": gw.box.encrypt(token.token), "expires_at": token.expires_at}
    db = db or gw.db
    try:
        db.write((insert(CachedToken), {"user_id": user_id, **values}))
    except IntegrityError:  # the user had a token: replace it
        db.write((update(CachedToken).where(CachedToken.user_id == user_id), values))


def ensure(gw: Gateway, user_id: int, account_id: str | None = None) -> AuthToken:
    """Return a cached token, asking CoCalc for a new one (once, under a lock) if needed.

    ``account_id`` is given by a cold launch that has just made the account: there is no
    token to find without the lock, so the look-up before it is skipped.
    """
    if account_id is None:
        token = cached(gw, user_id)
        if token is not None:
            return token
    with db_lock(gw.db, f"token:{user_id}") as db:
        token = cached(gw, user_id, db)
        if token is not None:
            return token
        token = _new_token(gw, user_id, account_id, db)
        store(gw, user_id, token, db)
        return token


def _new_token(gw: Gateway, user_id: int, account_id: str | None = None, db=None) -> AuthToken:
    """Ask CoCalc for a new token for the user (one call). A site admin's key needs no
    password (CoCalc does not check one): then, with ``account_id`` known, no row is read."""
    if account_id is None or gw.connector.known_key_is_admin() is not True:
        user = (db or gw.db).fetch(
            select(HostUser.account_id, HostUser.password_encrypted).where(HostUser.id == user_id)
        )
        return gw.cocalc.user_auth(
            account_id or user.account_id, gw.box.decrypt(user.password_encrypted)
        )
    return gw.cocalc.user_auth(account_id, "")


def revocation_enabled(gw: Gateway) -> bool:
    return bool(gw.settings.get("GATEWAY_REVOKE_TOKENS", True)) and bool(
        gw.cocalc.supports_revocation
    )


def _take(gw: Gateway, user_id: int) -> AuthToken | None:
    """Take one of the user's spares for one page if it has life enough left (the one that
    expires first): one DELETE, so of two pages that want the same spare, one gets it."""
    with gw.db.engine.begin() as connection:
        row = connection.execute(
            delete(SpareToken)
            .where(SpareToken.id == first_spare(user_id))
            .returning(SpareToken.token_encrypted, SpareToken.expires_at),
            {"usable_after": utcnow() + margin(gw)},
        ).first()
    return AuthToken(gw.box.decrypt(row.token_encrypted), row.expires_at) if row else None


def prepare(gw: Gateway, user_id: int, account_id: str | None = None) -> AuthToken:
    """Have a token ready for the user's next page: the shared cached one, or with
    revocation a spare (set-up, ``users import --tokens``)."""
    if not revocation_enabled(gw):
        return ensure(gw, user_id, account_id)
    token = _new_token(gw, user_id, account_id)
    _add_spare(gw, user_id, token)
    return token


#: The refill's two statements, compiled once for PostgreSQL's hot path (``Database.run``):
#: there SQLAlchemy's own work per execution cost more than the statements (profiled with
#: ``python -m bench.profile``).
COUNT_SPARES = (
    select(func.count())
    .select_from(SpareToken)
    .where(SpareToken.user_id == bindparam("user_id"), SPARE_USABLE)
)
ADD_SPARE = insert(SpareToken).values(
    user_id=bindparam("user_id"),
    token_encrypted=bindparam("token_encrypted"),
    expires_at=bindparam("expires_at"),
)


@functools.cache
def _compiled(statement) -> CompiledStatement:
    return CompiledStatement.of(statement)


def _add_spare(gw: Gateway, user_id: int, token: AuthToken) -> None:
    values = {"user_id": user_id, "token_encrypted": gw.box.encrypt(token.token)}
    if gw.db.is_postgres:  # one autocommit INSERT: durable on its own
        gw.db.run(_compiled(ADD_SPARE), {**values, "expires_at": naive_utc(token.expires_at)})
    else:
        gw.db.write((insert(SpareToken), {**values, "expires_at": token.expires_at}))


def _spares(gw: Gateway, user_id: int) -> int:
    usable_after = utcnow() + margin(gw)
    if gw.db.is_postgres:
        row = gw.db.run(
            _compiled(COUNT_SPARES), {"user_id": user_id, "usable_after": naive_utc(usable_after)}
        )
    else:
        row = gw.db.fetch(COUNT_SPARES, {"user_id": user_id, "usable_after": usable_after})
    return int(row[0])


def for_page(gw: Gateway, user_id: int, ready: AuthToken | None = None) -> AuthToken:
    """Pick the token an embed page signs in with (``ready``: the one a look-up found).

    With revocation the page takes the spare; when there is none (the user launched again
    before the last refill came back), the page asks CoCalc for a token of its own: one
    call, and no lock, since no one else will use it. Taking a spare made for this instead
    would cost a second call (fetch, take, fetch again) and serialise the user's launches on
    the lock; under load that fell behind the launches and turned into a spiral (seen: 5 ms
    of CPU per launch).
    """
    if not revocation_enabled(gw):
        return ready or ensure(gw, user_id)
    token = _take(gw, user_id) or _new_token(gw, user_id)
    refill(gw, user_id)
    return token


class _Refills:
    """Per process: whose refill runs, whose launches came since it looked, and when."""

    def __init__(self):
        self.lock = threading.Lock()
        self.running: dict[int, bool] = {}  # user -> a launch came since the refill looked
        self.launches: dict[int, deque] = {}
        self.seconds = 0.05  # how long a refill took, lately (an average)


def _refills(gw: Gateway) -> _Refills:
    return gw.memo.setdefault("refills", _Refills())


def wanted_spares(gw: Gateway, user_id: int) -> int:
    """Spares enough to have one waiting while the next is fetched: one, plus the launches
    the user's recent rate brings in the time a refill takes."""
    state = _refills(gw)
    with state.lock:
        launches = len(state.launches.get(user_id, ()))
        seconds = state.seconds
    rate = launches / RATE_WINDOW_S
    return max(1, min(MAX_SPARES, 1 + round(rate * seconds)))


def refill(gw: Gateway, user_id: int, account_id: str | None = None) -> None:
    """A page took a spare (or found none): fill the user's spares in the background. At
    most one refill per user runs at a time; a launch meanwhile makes it look again."""
    state = _refills(gw)
    now = time.monotonic()
    with state.lock:
        recent = state.launches.setdefault(user_id, deque())
        recent.append(now)
        while recent and recent[0] < now - RATE_WINDOW_S:
            recent.popleft()
        if len(state.launches) > 10_000:  # forget users who stopped launching
            for quiet in [u for u, q in state.launches.items() if not q or q[-1] < now - 60]:
                state.launches.pop(quiet, None)
        if user_id in state.running:
            state.running[user_id] = True
            return
        state.running[user_id] = False
    gw.background.submit("refill tokens", lambda: _fill(gw, user_id, account_id))


def _fill(gw: Gateway, user_id: int, account_id: str | None) -> None:
    state = _refills(gw)
    try:
        while True:
            # A bounded number per look: a token CoCalc gives with less life than the
            # margin (a margin set longer than tokens live) never counts as usable, and
            # re-counting after each would ask CoCalc for tokens without end.
            for _ in range(wanted_spares(gw, user_id) - _spares(gw, user_id)):
                began = time.monotonic()
                _add_spare(gw, user_id, _new_token(gw, user_id, account_id))
                with state.lock:
                    state.seconds = 0.8 * state.seconds + 0.2 * (time.monotonic() - began)
            with state.lock:
                if not state.running.get(user_id):  # no launch came since it looked
                    state.running.pop(user_id, None)
                    return
                state.running[user_id] = False
    except BaseException:
        with state.lock:
            state.running.pop(user_id, None)
        raise


def purge_spares(gw: Gateway) -> int:
    """Spares that ran out of life unused need no revoking: forget them."""
    with gw.db.engine.begin() as connection:
        expired = delete(SpareToken).where(SpareToken.expires_at <= utcnow())
        return connection.execute(expired).rowcount
