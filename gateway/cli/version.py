"""``cocalc-gateway --version``: the gateway's version, and what it can tell without a network
call: the database's migration revision and the CoCalc dialect it remembers (an SQLite file
is read; a database server is a network call, so for PostgreSQL it says how to ask)."""

from __future__ import annotations

import os
from importlib import metadata

import click
from sqlalchemy import create_engine, make_url, select
from sqlalchemy.exc import SQLAlchemyError

from ..store import migrate
from ..store.models import GatewayState


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from flask import Flask  # the app's default: SQLite in its instance folder

    folder = Flask("gateway", instance_relative_config=True).instance_path
    return "sqlite:///" + os.path.join(folder, "gateway.sqlite3")


def _sqlite_facts(url) -> list[str]:
    path = url.database or ""
    if not path or not os.path.exists(path):
        return [f"database: {path or 'sqlite'} (not created yet)"]
    engine = create_engine(url)
    try:
        revision = migrate.current(engine)
        with engine.connect() as connection:
            dialect = connection.execute(
                select(GatewayState.value).where(GatewayState.name == "cocalc_dialect")
            ).scalar()
    except SQLAlchemyError:
        return [f"database: {path} (not migrated: run `cocalc-gateway db upgrade`)"]
    finally:
        engine.dispose()
    found = [f"database: {path}, revision {revision or 'none'}"]
    if dialect and dialect.get("dialect"):
        found.append(f"CoCalc dialect: {dialect['dialect']} (found at {dialect.get('url')})")
    else:
        found.append("CoCalc dialect: not known yet (`cocalc-gateway doctor` finds it)")
    return found


def lines() -> list[str]:
    found = [f"cocalc-gateway {metadata.version('cocalc-gateway')}"]
    configured = os.environ.get("COCALC_API_DIALECT", "auto")
    try:
        url = make_url(_database_url())
    except Exception:  # a malformed URL: say so rather than fail --version
        return [*found, "database: DATABASE_URL is not a database URL"]
    if url.get_backend_name() == "sqlite":
        facts = _sqlite_facts(url)
    else:
        facts = [
            f"database: {url.get_backend_name()} at {url.host or 'localhost'} (its revision: "
            "`cocalc-gateway db current`; read here only without a network call)"
        ]
    if configured != "auto":
        facts = [f for f in facts if not f.startswith("CoCalc dialect")]
        facts.append(f"CoCalc dialect: {configured} (COCALC_API_DIALECT)")
    return found + facts


def _print(context: click.Context, _param, value) -> None:
    if not value or context.resilient_parsing:
        return
    click.echo("\n".join(lines()))
    context.exit()


option = click.Option(
    ["--version"],
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print,
    help="The gateway's version, its database's revision and the CoCalc dialect it knows.",
)
