"""Housekeeping of launches: expired pages and used token ids go, and so do unused tokens."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from ..store.models import Launch, UsedTokenId, utcnow

#: Expired rows are kept this long (a page left open may still post its sign-in report).
KEEP_EXPIRED = timedelta(days=1)


def purge_expired(gw) -> int:
    """Delete launches and used token ids that expired more than a day ago."""
    cutoff = utcnow() - KEEP_EXPIRED
    with gw.db.begin() as session:
        gone = session.execute(delete(Launch).where(Launch.expires_at < cutoff)).rowcount
        gone += session.execute(delete(UsedTokenId).where(UsedTokenId.expires_at < cutoff)).rowcount
    return gone
