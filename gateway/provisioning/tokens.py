"""CoCalc auth tokens: cached per user, reused while they have life left, revoked after use.

With API v1 a token cannot be revoked, so every embed page of a user shares the cached one.
With the current API (and GATEWAY_REVOKE_TOKENS on) each embed page takes the cached token
for itself, and a spare is fetched in the background at once, so the user's next launch
finds one waiting and makes no CoCalc call. Once the page's browser has signed in, its
token is revoked, so a leaked sign-in URL is worth nothing.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..cocalc.types import AuthToken
from ..context import Gateway
from ..errors import ServiceBusy
from ..store.locks import db_lock
from ..store.models import CachedToken, HostUser, utcnow
from ..support import concurrency
from .readiness import TOKEN_USABLE


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
        user = db.fetch(
            select(HostUser.account_id, HostUser.password_encrypted).where(HostUser.id == user_id)
        )
        token = gw.cocalc.user_auth(
            account_id or user.account_id, gw.box.decrypt(user.password_encrypted)
        )
        store(gw, user_id, token, db)
        return token


def revocation_enabled(gw: Gateway) -> bool:
    return bool(gw.settings.get("GATEWAY_REVOKE_TOKENS", True)) and bool(
        gw.cocalc.supports_revocation
    )


def _take(gw: Gateway, user_id: int) -> AuthToken | None:
    """Take the cached token for one page: of two pages that read it, one deletes it."""
    with gw.db.begin() as session:
        row = session.get(CachedToken, user_id)
        if row is None:
            return None
        ciphertext, expires_at = row.token_encrypted, row.expires_at
        taken = session.execute(
            delete(CachedToken).where(
                CachedToken.user_id == user_id, CachedToken.token_encrypted == ciphertext
            )
        ).rowcount
    return AuthToken(gw.box.decrypt(ciphertext), expires_at) if taken else None


def for_page(gw: Gateway, user_id: int, ready: AuthToken | None = None) -> AuthToken:
    """Pick the token an embed page signs in with (``ready``: the one a look-up found)."""
    if not revocation_enabled(gw):
        return ready or ensure(gw, user_id)
    for _ in range(5):
        ensure(gw, user_id)
        token = _take(gw, user_id)
        if token is not None:
            refill(gw, user_id)
            return token
    raise ServiceBusy("too many launches of this user at once; try again")


def refill(gw: Gateway, user_id: int) -> None:
    """Fetch the user's next spare token in the background (a page took the last one)."""
    concurrency.submit("refill token", lambda: ensure(gw, user_id))


def revoke(gw: Gateway, token: str) -> None:
    """Revoke a token that has done its work (in the background)."""
    concurrency.submit("revoke token", lambda: gw.cocalc.revoke_token(token))
