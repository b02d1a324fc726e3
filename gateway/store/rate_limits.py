"""Request counts per client (or per host) in fixed windows, kept in the database so that
every gateway process and instance sharing it enforces one limit.

One statement per request: an upsert that starts a new window or adds one to the current,
and returns the count. A flood from one client updates one row.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from sqlalchemy import case, delete
from sqlalchemy.dialects import postgresql, sqlite

from ..store.database import Database
from ..store.models import RateCount, utcnow

KEEP = timedelta(days=1)


def client_bucket(prefix: str, address: str | None) -> str:
    """A bucket per client address; IPv6 clients by their /64 (one host has a whole one)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return f"{prefix}:unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return f"{prefix}:{ip.ipv4_mapped}"
        return f"{prefix}:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"{prefix}:{ip}"


def hit(db: Database, bucket: str, *, limit: int, window: timedelta) -> bool:
    """Count one request in ``bucket``'s current window; False once it is over ``limit``."""
    now = utcnow()
    seconds = int(window.total_seconds())
    start = now - timedelta(seconds=int(now.timestamp()) % seconds, microseconds=now.microsecond)
    insert = postgresql.insert if db.is_postgres else sqlite.insert
    statement = insert(RateCount).values(bucket=bucket, window_start=start, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=[RateCount.bucket],
        set_={
            "count": case((RateCount.window_start == start, RateCount.count + 1), else_=1),
            "window_start": start,
        },
    ).returning(RateCount.count)
    with db.engine.begin() as connection:
        count = connection.execute(statement).scalar_one()
    return count <= limit


def purge(db: Database) -> int:
    """Housekeeping: forget windows that ended a day ago."""
    with db.engine.begin() as connection:
        gone = delete(RateCount).where(RateCount.window_start < utcnow() - KEEP)
        return connection.execute(gone).rowcount
