"""Facts the gateway learned and every process shares, in the ``gateway_state`` table."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from .database import Database
from .models import GatewayState, utcnow

#: A request came with forwarding headers while no proxy was trusted (``web.forwarding``).
FORWARDED_WITHOUT_PROXY = "forwarded_without_proxy"


def load(db: Database, name: str) -> dict | None:
    row = db.fetch(select(GatewayState.value).where(GatewayState.name == name))
    return row.value if row else None


def save(db: Database, name: str, value: dict) -> None:
    try:
        db.write((insert(GatewayState), {"name": name, "value": value, "updated_at": utcnow()}))
    except IntegrityError:  # known already (perhaps from another process): replace it
        db.write(
            (
                update(GatewayState).where(GatewayState.name == name),
                {"value": value, "updated_at": utcnow()},
            )
        )
