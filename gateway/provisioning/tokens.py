"""CoCalc auth tokens: cached per user, reused while they have life left, revoked after use.

With API v1 a token cannot be revoked, so every embed page of a user shares the cached one.
With the current API (and GATEWAY_REVOKE_TOKENS on) each embed page takes the cached token
for itself. Once the page's browser has signed in, the token is revoked and the next one is
fetched in the background, so the next launch finds one waiting and makes no CoCalc call.
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


def margin(gw: Gateway) -> timedelta:
    """How much life a cached token must have left to be handed to a new page."""
    return timedelta(seconds=int(gw.settings["GATEWAY_TOKEN_MARGIN"]))


def usable(gw: Gateway, token_encrypted: str | None, expires_at) -> AuthToken | None:
    """Decrypt a cached token if it has more than the safety margin of life left."""
    if token_encrypted is None or expires_at - utcnow() <= margin(gw):
        return None
    return AuthToken(token=gw.box.decrypt(token_encrypted), expires_at=expires_at)


def cached(gw: Gateway, user_id: int, db=None) -> AuthToken | None:
    """Return the user's cached token if it has more than the safety margin left."""
    row = (db or gw.db).fetch(
        select(CachedToken.token_encrypted, CachedToken.expires_at).where(
            CachedToken.user_id == user_id
        )
    )
    return usable(gw, row.token_encrypted, row.expires_at) if row else None


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


def for_page(gw: Gateway, user_id: int, warm: AuthToken | None = None) -> AuthToken:
    """Pick the token an embed page signs in with (``warm``: the one a warm launch found)."""
    if not revocation_enabled(gw):
        return warm or ensure(gw, user_id)
    for _ in range(5):
        ensure(gw, user_id)
        with gw.db.begin() as session:
            row = session.get(CachedToken, user_id)
            if row is None:
                continue
            ciphertext, expires_at = row.token_encrypted, row.expires_at
            # Deleting by ciphertext makes the take atomic: of two pages that read the
            # same token, only one deletes it.
            taken = session.execute(
                delete(CachedToken).where(
                    CachedToken.user_id == user_id, CachedToken.token_encrypted == ciphertext
                )
            ).rowcount
        if taken:
            return AuthToken(token=gw.box.decrypt(ciphertext), expires_at=expires_at)
    raise ServiceBusy("too many launches of this user at once; try again")


def revoke_and_refill(gw: Gateway, user_id: int, token: str) -> None:
    """After a page signed in: revoke its token, and cache the next one (in the background)."""

    def work():
        gw.cocalc.revoke_token(token)
        ensure(gw, user_id)

    concurrency.submit("revoke and refill token", work)
