"""Named locks in the database, so every thread and every gateway process agrees who works."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from .db import Database
from .errors import ServiceBusy
from .models import Lock, utcnow


def _try_acquire(db: Database, name: str, owner: str, lease: float) -> bool:
    now = utcnow()
    expires = now + timedelta(seconds=lease)
    try:
        with db.begin() as session:
            session.add(Lock(name=name, owner=owner, expires_at=expires))
        return True
    except IntegrityError:
        pass  # someone holds it: the primary key decided, as it does across processes
    with db.begin() as session:
        # A lease left behind by a crashed process is taken over once it has run out.
        taken = session.execute(
            update(Lock)
            .where(Lock.name == name, Lock.expires_at < now)
            .values(owner=owner, expires_at=expires)
        )
        return taken.rowcount == 1


@contextmanager
def db_lock(db: Database, name: str, *, lease: float = 120, wait: float = 60) -> Iterator[None]:
    """Hold the lock ``name`` for the block; wait for it at most ``wait`` seconds.

    The lease must outlast the work inside (CoCalc calls with their timeouts and retries);
    it only matters if a process dies while holding the lock.
    """
    owner = uuid.uuid4().hex
    deadline = time.monotonic() + wait
    delay = 0.005
    while not _try_acquire(db, name, owner, lease):
        if time.monotonic() > deadline:
            raise ServiceBusy("another request is still setting this user up; try again")
        time.sleep(delay * random.uniform(0.5, 1.5))
        delay = min(delay * 2, 0.1)
    try:
        yield
    finally:
        with db.begin() as session:
            session.execute(delete(Lock).where(Lock.name == name, Lock.owner == owner))
