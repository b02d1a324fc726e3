"""The ``cocalc-gateway`` command: Flask's CLI for the app, plus the gateway's own commands."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import FlaskGroup, NoAppException, with_appcontext

from . import create_app, hosts, migrate
from .config import ConfigError
from .context import gateway
from .errors import GatewayError


def _create_app():
    try:
        return create_app()
    except ConfigError as exc:
        # Flask shows this as one clear line naming the setting, not a traceback.
        raise NoAppException(f"configuration: {exc}") from None


cli = FlaskGroup(create_app=_create_app, help="The CoCalc embedding gateway.")


def _fail(exc: Exception):
    raise click.ClickException(getattr(exc, "message", str(exc)))


# -- database ------------------------------------------------------------------------------------
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


# -- hosts ---------------------------------------------------------------------------------------
@click.group("hosts")
def hosts_group():
    """Manage hosts: the sites that hand their users to the gateway."""


@hosts_group.command("add")
@click.argument("name")
@click.option("--origin", "origins", multiple=True, help="A site allowed to frame the pages.")
@click.option("--template-project", help="Project to copy into every new user project.")
@click.option("--template-path", help="Path in the template project to copy.")
@with_appcontext
def hosts_add(name, origins, template_project, template_path):
    """Add a host; prints its id and secret (shown only once) as JSON."""
    try:
        host, secret = hosts.add(
            gateway(),
            name,
            list(origins),
            template_project_id=template_project,
            template_path=template_path,
        )
    except GatewayError as exc:
        _fail(exc)
    click.echo(json.dumps({**hosts.describe(host), "secret": secret}, indent=2))


@hosts_group.command("list")
@with_appcontext
def hosts_list():
    """List hosts as JSON (without secrets)."""
    click.echo(json.dumps([hosts.describe(h) for h in hosts.all_hosts(gateway())], indent=2))


@hosts_group.command("rotate-secret")
@click.argument("host_id")
@with_appcontext
def hosts_rotate(host_id):
    """Give a host a new secret (the old one stops working at once)."""
    try:
        secret = hosts.rotate_secret(gateway(), host_id)
    except GatewayError as exc:
        _fail(exc)
    click.echo(json.dumps({"id": host_id, "secret": secret}, indent=2))


@hosts_group.command("remove")
@click.argument("host_id")
@with_appcontext
def hosts_remove(host_id):
    """Remove a host and forget its users (their CoCalc accounts stay)."""
    try:
        hosts.remove(gateway(), host_id)
    except GatewayError as exc:
        _fail(exc)
    click.echo(json.dumps({"removed": host_id}))


# -- users ---------------------------------------------------------------------------------------
@click.group("users")
def users_group():
    """Manage host users: bulk import, list, show, deprovision."""


@users_group.command("import")
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
    from . import users

    try:
        host = hosts.get(gateway(), host_id)
        rows = users.read_csv(csv_file)
    except GatewayError as exc:
        _fail(exc)
    with click.progressbar(length=len(rows), label="Provisioning", file=sys.stderr) as bar:
        summary = users.import_users(
            gateway(), host, rows, parallelism=parallel, with_tokens=tokens, progress=bar.update
        )
    click.echo(json.dumps(summary.as_dict(), indent=2))
    if summary.failed:
        raise SystemExit(1)


@users_group.command("list")
@click.option("--host", "host_id", help="Only this host's users.")
@with_appcontext
def users_list(host_id):
    """List users as JSON lines."""
    from . import users

    for user in users.list_users(gateway(), host_id):
        click.echo(
            json.dumps(
                {
                    "id": user.id,
                    "host_id": user.host_id,
                    "external_id": user.external_id,
                    "email": user.email,
                    "account_id": user.account_id,
                }
            )
        )


@users_group.command("show")
@click.argument("external_id")
@click.option("--host", "host_id", required=True)
@with_appcontext
def users_show(external_id, host_id):
    """Show one user, their account and projects."""
    from . import users

    try:
        click.echo(
            json.dumps(users.describe(*users.find(gateway(), host_id, external_id)), indent=2)
        )
    except GatewayError as exc:
        _fail(exc)


@users_group.command("deprovision")
@click.argument("external_id")
@click.option("--host", "host_id", required=True)
@click.confirmation_option(prompt="Remove this user from their projects and forget them?")
@with_appcontext
def users_deprovision(external_id, host_id):
    """Remove a user from their CoCalc projects and forget the mapping."""
    from . import users
    from .cocalc import CoCalcError

    try:
        click.echo(json.dumps(users.deprovision(gateway(), host_id, external_id), indent=2))
    except (GatewayError, CoCalcError) as exc:
        _fail(exc)


# -- encryption keys -----------------------------------------------------------------------------
@click.group()
def keys():
    """Manage the keys that encrypt stored secrets."""


@keys.command("generate")
def keys_generate():
    """Print a new encryption key for GATEWAY_ENCRYPTION_KEYS."""
    from .crypto import SecretBox

    click.echo(SecretBox.generate_key())


@keys.command("rotate")
@with_appcontext
def keys_rotate():
    """Re-encrypt every stored secret under the first key of GATEWAY_ENCRYPTION_KEYS."""
    from .rotation import rotate_all

    counts = rotate_all(gateway())
    click.echo(json.dumps(counts))


# -- development ---------------------------------------------------------------------------------
@cli.command(with_appcontext=False)
@click.option("--port", default=5100, show_default=True)
@click.option("--dialect", type=click.Choice(["v1", "current"]), default="v1", show_default=True)
@click.option("--admin-key", envvar="SIMULATOR_ADMIN_KEY", help="API key of the admin account.")
@click.option(
    "--comm-origin",
    "origins",
    multiple=True,
    help="An http origin (with port) the kiosk page answers; for local testing.",
)
@click.option("--latency-ms", default=0.0)
def simulator(port, dialect, admin_key, origins, latency_ms):
    """Run the CoCalc simulator on 127.0.0.1:PORT."""
    from .devserver import ThreadedServer
    from .simulator import SimulatorConfig, create_simulator_app

    config = SimulatorConfig(dialect=dialect, insecure_origins=list(origins), latency_ms=latency_ms)
    if admin_key:
        config.admin_key = admin_key
    server = ThreadedServer(create_simulator_app(config), port=port)
    click.echo(f"CoCalc simulator ({dialect}) on {server.url}")
    server.server.serve_forever()


@cli.command(with_appcontext=False)
@click.option("--port", default=5000, show_default=True, help="Port of the demo host page.")
@click.option(
    "--dialect", type=click.Choice(["v1", "current"]), default="current", show_default=True
)
def demo(port, dialect):
    """Run the simulator, the gateway and a demo host page, each on its own port."""
    from .demo import run_demo

    run_demo(host_port=port, dialect=dialect)


def init_app(app) -> None:
    """Attach the gateway's commands to the app's CLI (``cocalc-gateway`` and ``flask``)."""
    for group in (db, hosts_group, users_group, keys):
        app.cli.add_command(group)


for _group in (db, hosts_group, users_group, keys):
    cli.add_command(_group)  # found even when the app cannot load, to report why


def main() -> None:
    cli(prog_name="cocalc-gateway")


__all__ = ["cli", "main"]


if __name__ == "__main__":
    main()
