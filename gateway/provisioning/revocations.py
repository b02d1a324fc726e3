"""Revoking CoCalc auth tokens that have done their work, so a leaked sign-in URL is worth
nothing: a token to revoke is written to ``revocations`` first, and tried until CoCalc
confirms, with capped backoff (a restart, or CoCalc down for a while, loses none); the
housekeeping task also revokes the tokens of pages that expired without a sign-in.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, insert, select, update

from ..cocalc import CoCalcError
from ..context import Gateway
from ..store.models import Launch, Revocation, utcnow
from .tokens import revocation_enabled

#: Backoff between attempts to revoke one token: 30 s doubling, at most an hour.
REVOKE_RETRY = timedelta(seconds=30)
REVOKE_RETRY_CAP = timedelta(hours=1)


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
    gw.background.submit("revoke tokens", lambda: drain_revocations(gw))


def _backoff(attempts: int) -> timedelta:
    return min(REVOKE_RETRY_CAP, REVOKE_RETRY * 2**attempts)


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
