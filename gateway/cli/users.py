"""``cocalc-gateway users``: host users in bulk (import, list, show, deprovision)."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from .. import hosts
from ..provisioning import lifecycle
from ..provisioning import users as service
from ..web.current import gateway
from .common import clear_errors, echo_json


@click.group("users")
def users():
    """Manage host users: bulk import, list, show, deprovision, delete."""


@users.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8"))
@click.option("--host", "host_id", required=True, help="The host these users belong to.")
@click.option(
    "--parallel",
    default=8,
    show_default=True,
    type=click.IntRange(1, 64),
    help="How many users are provisioned at the same time.",
)
@click.option(
    "--tokens/--no-tokens",
    default=False,
    show_default=True,
    help="Also fetch each user's auth token now.",
)
@with_appcontext
def users_import(csv_file, host_id, parallel, tokens):
    """Pre-provision the users of a CSV file (id,email,first_name,last_name[,context])."""
    with clear_errors():
        host = hosts.get(gateway(), host_id)
        rows = service.read_csv(csv_file)
    with click.progressbar(length=len(rows), label="Provisioning", file=sys.stderr) as bar:
        summary = service.import_users(
            gateway(), host, rows, parallelism=parallel, with_tokens=tokens, progress=bar.update
        )
    echo_json(summary.as_dict())
    if summary.failed:
        raise SystemExit(1)


@users.command("list")
@click.option("--host", "host_id", help="Only this host's users.")
@with_appcontext
def users_list(host_id):
    """List users as JSON lines."""
    for user, projects in service.list_users(gateway(), host_id):
        click.echo(json.dumps(service.describe(user, projects)))


@users.command("show")
@click.argument("external_id")
@click.option("--host", "host_id", required=True)
@with_appcontext
def users_show(external_id, host_id):
    """Show one user, their account and projects."""
    with clear_errors():
        echo_json(service.describe(*service.find(gateway(), host_id, external_id)))


@users.command("deprovision")
@click.argument("external_id")
@click.option("--host", "host_id", required=True)
@click.confirmation_option(prompt="Remove this user from their projects and stop their pages?")
@with_appcontext
def users_deprovision(external_id, host_id):
    """Remove a user from their projects and stop their pages (a later launch brings them
    back to the same account)."""
    with clear_errors():
        echo_json(lifecycle.deprovision(gateway(), host_id, external_id))


@users.command("delete")
@click.argument("external_id")
@click.option("--host", "host_id", required=True)
@click.confirmation_option(
    prompt="Delete this user's CoCalc account and projects where CoCalc allows, and forget "
    "them for good?"
)
@with_appcontext
def users_delete(external_id, host_id):
    """Erase a user: their CoCalc account and projects where the API allows, and the mapping."""
    with clear_errors():
        echo_json(lifecycle.erase(gateway(), host_id, external_id))
