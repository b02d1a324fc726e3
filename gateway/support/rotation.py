"""Re-encrypt stored secrets under the newest key, after an operator adds one."""

from __future__ import annotations

from sqlalchemy import select

from ..context import Gateway
from ..store.models import CachedToken, Host, HostUser, Launch

# Each encrypted column, by table.
ENCRYPTED = (
    (Host, "secret_encrypted"),
    (HostUser, "password_encrypted"),
    (CachedToken, "token_encrypted"),
    (Launch, "token_encrypted"),
)


def rotate_all(gw: Gateway, batch: int = 500) -> dict[str, int]:
    """Rotate every encrypted value, one table at a time; return counts per table."""
    counts = {}
    for model, column in ENCRYPTED:
        done = 0
        with gw.db.begin() as session:
            for row in session.scalars(select(model).where(getattr(model, column).is_not(None))):
                setattr(row, column, gw.box.rotate(getattr(row, column)))
                done += 1
                if done % batch == 0:
                    session.flush()
        counts[model.__tablename__] = done
    return counts
