"""CoCalc auth tokens: cached per user, reused while they have life left, revoked after use.

With API v1 a token cannot be revoked, so every embed page of a user shares the cached one.
With the current API (and GATEWAY_REVOKE_TOKENS on) each embed page takes the cached token
for itself, and a spare is fetched in the background at once, so the user's next launch
finds one waiting and makes no CoCalc call. Once the page's browser has signed in, its
token is revoked, so a leaked sign-in URL is worth nothing.

Revocation holds: a token to revoke is written to ``revocations`` first, and tried until
CoCalc confirms, with capped backoff (a restart, or CoCalc down for a while, loses none);
the housekeeping task also revokes the tokens of pages that expired without a sign-in.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..cocalc import CoCalcError
from ..cocalc.types import AuthToken
from ..context import Gateway
from ..store.locks import db_lock
from ..store.models import CachedToken, HostUser, Launch, Revocation, utcnow
from ..support import concurrency
from ..support.housekeeping import task
from .readiness import TOKEN_USABLE

#: Backoff between attempts to revoke one token: 30 s doubling, at most an hour.
REVOKE_RETRY = timedelta(seconds=30)
REVOKE_RETRY_CAP = timedelta(hours=1)


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
    """Ask CoCalc for a new token for the user (one call)."""
    user = (db or gw.db).fetch(
        select(HostUser.account_id, HostUser.password_encrypted).where(HostUser.id == user_id)
    )
    return gw.cocalc.user_auth(
        account_id or user.account_id, gw.box.decrypt(user.password_encrypted)
    )


def revocation_enabled(gw: Gateway) -> bool:
    return bool(gw.settings.get("GATEWAY_REVOKE_TOKENS", True)) and bool(
        gw.cocalc.supports_revocation
    )


def _take(gw: Gateway, user_id: int) -> AuthToken | None:
    """Take the user's cached token for one page if it has life enough left: one DELETE, so
    of two pages that want it, one gets it."""
    with gw.db.engine.begin() as connection:
        row = connection.execute(
            delete(CachedToken)
            .where(CachedToken.user_id == user_id, TOKEN_USABLE)
            .returning(CachedToken.token_encrypted, CachedToken.expires_at),
            {"usable_after": utcnow() + margin(gw)},
        ).first()
    return AuthToken(gw.box.decrypt(row.token_encrypted), row.expires_at) if row else None


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


def refill(gw: Gateway, user_id: int) -> None:
    """Fetch the user's next spare token in the background (a page took the last one)."""
    concurrency.submit("refill token", lambda: ensure(gw, user_id))


def revoke(gw: Gateway, token: str) -> None:
    """Revoke a token that has done its work: recorded first, then tried in the background."""
    revoke_all(gw, [gw.box.encrypt(token)])


def revoke_all(gw: Gateway, ciphertexts: list[str], connection=None) -> None:
    """Record tokens (encrypted) to revoke and try them in the background.

    With ``connection`` the rows join that transaction, and the caller calls
    ``revoke_soon`` once it committed (the housekeeping task finds them anyway).
    """
    if not ciphertexts or not revocation_enabled(gw):
        return
    rows = [{"token_encrypted": c, "next_try_at": utcnow(), "attempts": 0} for c in ciphertexts]
    if connection is not None:
        connection.execute(insert(Revocation), rows)
        return
    with gw.db.engine.begin() as own:
        own.execute(insert(Revocation), rows)
    revoke_soon(gw)


def revoke_soon(gw: Gateway) -> None:
    concurrency.submit("revoke tokens", lambda: drain_revocations(gw))


def _backoff(attempts: int) -> timedelta:
    return min(REVOKE_RETRY_CAP, REVOKE_RETRY * 2**attempts)


@task("revoke tokens")
def drain_revocations(gw: Gateway, limit: int = 200) -> int:
    """Try every revocation that is due; each is claimed by one process at a time."""
    now = utcnow()
    due = gw.db.fetch_all(
        select(Revocation.id, Revocation.attempts)
        .where(Revocation.next_try_at <= now)
        .order_by(Revocation.next_try_at)
        .limit(limit)
    )
    done = 0
    for row_id, attempts in due:
        with gw.db.engine.begin() as connection:  # claim it: push its next try out
            claimed = connection.execute(
                update(Revocation)
                .where(Revocation.id == row_id, Revocation.next_try_at <= now)
                .values(next_try_at=now + _backoff(attempts), attempts=attempts + 1)
                .returning(Revocation.token_encrypted)
            ).first()
        if claimed is None:
            continue  # another process has it
        try:
            gw.cocalc.revoke_token(gw.box.decrypt(claimed.token_encrypted))
        except CoCalcError:
            continue  # tried again after the backoff
        with gw.db.engine.begin() as connection:
            connection.execute(delete(Revocation).where(Revocation.id == row_id))
        done += 1
    return done


@task("revoke unused page tokens")
def revoke_unused_page_tokens(gw: Gateway) -> int:
    """Pages that expired without a sign-in never used their token: revoke it."""
    expired = (  # one-time links hold no token: every row with one is a page
        Launch.token_encrypted.is_not(None),
        Launch.expires_at <= utcnow(),
    )
    with gw.db.engine.begin() as connection:
        pages = connection.execute(
            select(Launch.digest, Launch.token_encrypted).where(*expired).limit(500)
        ).all()
        ciphertexts = [
            page.token_encrypted
            for page in pages
            # Of two processes doing this at once, one clears a page's token: it revokes it.
            if connection.execute(
                update(Launch)
                .where(Launch.digest == page.digest, Launch.token_encrypted == page.token_encrypted)
                .values(token_encrypted=None)
            ).rowcount
        ]
        revoke_all(gw, ciphertexts, connection)
    if ciphertexts:
        revoke_soon(gw)
    return len(ciphertexts)
