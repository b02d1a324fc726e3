"""The ``cocalc-gateway`` command: the gateway's own commands on Flask's CLI machinery (the
app is built for each command that needs it), without Flask's own options and commands:
``--app``, ``--debug``, ``--env-file``, ``run``, ``shell`` and ``routes`` mean nothing to an
operator, and ``--version`` speaks for the gateway (``version.py``)."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup, NoAppException
from sqlalchemy import exc as db_errors

from ..config import ConfigError
from . import db, dev, hosts, keys, lti, operator, saml, sso, users, version

#: The command groups that need the app (its settings and database).
APP_GROUPS = (
    db.db,
    db.housekeeping,
    hosts.hosts,
    users.users,
    keys.keys,
    lti.lti,
    sso.sso,
    saml.saml,
    operator.doctor,
)


SECRETS = frozenset({"GATEWAY_SECRET_KEY"})
#: What each command needs set, by its path (the longest that matches); every other command
#: needs every required setting. A command that needs no CoCalc runs without its settings.
NEEDS = {
    ("db",): frozenset(),
    ("doctor",): frozenset(),  # it says what is missing, as its first finding
    ("hosts",): SECRETS,
    ("keys",): SECRETS,
    ("lti", "keys"): SECRETS,
    ("lti", "platforms"): SECRETS | {"GATEWAY_PUBLIC_URL"},
    ("sso",): SECRETS | {"GATEWAY_PUBLIC_URL"},
    ("saml",): SECRETS | {"GATEWAY_PUBLIC_URL"},
}


def needs(path: tuple[str, ...]) -> frozenset | None:
    """The settings the command at ``path`` needs (None: all required ones). Listing the
    commands (``--help``) loads the app too, and needs nothing."""
    if not path:
        return frozenset()
    for length in range(len(path), 0, -1):
        if path[:length] in NEEDS:
            return NEEDS[path[:length]]
    return None


def _command_path() -> tuple[str, ...]:
    context, names = click.get_current_context(silent=True), []
    while context is not None and context.parent is not None:
        names.append(context.info_name)
        context = context.parent
    return tuple(reversed(names))


def _create_app():
    from ..app import create_app

    try:
        return create_app(require=needs(_command_path()))
    except ConfigError as exc:
        # Flask shows this as one clear line naming the setting, not a traceback.
        raise NoAppException(f"configuration: {exc}") from None


class GatewayGroup(FlaskGroup):
    """Flask's group (it builds the app for a command), with the gateway's options only."""

    FLASK_OPTIONS = frozenset({"app", "debug", "env_file"})

    def __init__(self, **extra):
        super().__init__(
            add_default_commands=False, add_version_option=False, set_debug_flag=False, **extra
        )
        self.params = [p for p in self.params if p.name not in self.FLASK_OPTIONS]
        self.params.append(version.option)


cli = GatewayGroup(create_app=_create_app, help="The CoCalc embedding gateway.")
for _group in APP_GROUPS:
    cli.add_command(_group)  # found even when the app cannot load, to report why
cli.add_command(operator.connect)  # needs no app: it helps set one up
if dev.available():  # the dev tools are in a checkout, not in the wheel
    cli.add_command(dev.simulator)
    cli.add_command(dev.demo)


def attach(app) -> None:
    """Add the gateway's commands to an app's own ``app.cli`` (tests invoke them there)."""
    for group in APP_GROUPS:
        app.cli.add_command(group)


def main() -> None:
    try:
        cli(prog_name="cocalc-gateway", standalone_mode=True)
    except (db_errors.OperationalError, db_errors.ProgrammingError) as exc:
        # Names the driver's error only (its message may hold the database's address).
        cause = type(getattr(exc, "orig", None) or exc).__name__
        click.echo(
            f"Error: the database cannot be used ({cause}); is DATABASE_URL right, and did "
            "`cocalc-gateway db upgrade` run?",
            err=True,
        )
        raise SystemExit(1) from None


__all__ = ["cli", "main"]
