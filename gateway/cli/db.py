"""``cocalc-gateway db``: the database's migrations and housekeeping."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..store import migrate
from ..web.current import gateway
from .common import echo_json


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


@db.command("current")
@with_appcontext
def db_current():
    """Print the database's migration revision, and the newest the gateway ships."""
    echo_json(
        {
            "revision": migrate.current(gateway().db.engine),
            "head": migrate.head(),
        }
    )


@click.command("housekeeping")
@with_appcontext
def housekeeping():
    """Run the housekeeping tasks once (expired rows, pending revocations); for cron."""
    echo_json(gateway().housekeeping.run_once())
