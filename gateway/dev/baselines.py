"""Baselines for `make bench`, served only with GATEWAY_BENCH_ENDPOINT (never in production).

The benchmark compares the gateway's pages with these: the same app, middleware and headers,
doing nothing, one read, or one durable write, the way the hot paths do them.
"""

from __future__ import annotations

import secrets

from flask import Flask
from sqlalchemy import insert, text

from ..context import gateway
from ..store.models import Lock, utcnow


def bare():
    return "ok"


def read():
    """One database round trip: the floor of serving an embed page."""
    db = gateway().db
    if db.is_postgres:  # the way the embed page reads
        return str(db.run("SELECT 1", {})[0])
    return str(db.fetch(text("SELECT 1"))[0])


def write():
    """One durable INSERT: the floor of anything that records a one-time launch token."""
    db, name, now = gateway().db, "bench-" + secrets.token_hex(8), utcnow()
    if db.is_postgres:  # the way a warm launch writes
        db.run(
            "INSERT INTO locks (name, owner, expires_at) VALUES (%(name)s, 'bench', %(now)s)",
            {"name": name, "now": now.replace(tzinfo=None)},
        )
    else:
        db.write((insert(Lock), {"name": name, "owner": "bench", "expires_at": now}))
    return "ok"


def init_app(app: Flask) -> None:
    for view in (bare, read, write):
        app.add_url_rule(f"/_bench/{view.__name__}", f"bench_{view.__name__}", view)
