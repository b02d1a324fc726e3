"""Baselines for `make bench`, served only with GATEWAY_BENCH_ENDPOINT (never in production).

The benchmark compares the gateway's pages with these: the same app, middleware and headers,
doing nothing, one read, or one durable write, the way the hot paths do them.
"""

from __future__ import annotations

import functools
import secrets

from flask import Flask
from sqlalchemy import bindparam, insert, literal, select

from ..store.database import CompiledStatement
from ..store.models import Lock, utcnow
from ..web.current import gateway

ONE = select(literal(1))
WRITE = insert(Lock).values(name=bindparam("name"), owner="bench", expires_at=bindparam("now"))


@functools.cache
def compiled(statement) -> CompiledStatement:
    return CompiledStatement.of(statement)


def bare():
    return "ok"


def read():
    """One database round trip: the floor of serving an embed page."""
    db = gateway().db
    if db.is_postgres:  # the way the embed page reads
        return str(db.run(compiled(ONE), {})[0])
    return str(db.fetch(ONE)[0])


def write():
    """One durable INSERT: the floor of anything that records a one-time launch token."""
    db, params = gateway().db, {"name": "bench-" + secrets.token_hex(8), "now": utcnow()}
    if db.is_postgres:  # the way a warm launch writes
        db.run(compiled(WRITE), {**params, "now": params["now"].replace(tzinfo=None)})
    else:
        db.write((WRITE, params))
    return "ok"


def init_app(app: Flask) -> None:
    for view in (bare, read, write):
        app.add_url_rule(f"/_bench/{view.__name__}", f"bench_{view.__name__}", view)
