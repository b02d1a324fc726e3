"""``cocalc-gateway db``: the database's migrations and housekeeping."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..context import gateway
from ..store import migrate


@click.group()
def db():
    """Manage the gateway's database."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision):
    """Apply the database migrations."""
    migrate.upgrade(gateway().db.engine, revision)
    click.echo(f"database at revision {migrate.current(gateway().db.engine)}")
