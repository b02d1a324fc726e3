"""The ``cocalc-gateway`` command: Flask's CLI for the app, plus the gateway's own commands."""

from __future__ import annotations

from flask.cli import FlaskGroup, NoAppException

from ..config import ConfigError
from . import db, dev, hosts, keys, lti, operator, sso, users

#: The command groups that need the app (its settings and database).
APP_GROUPS = (
    db.db,
    db.housekeeping,
    hosts.hosts,
    users.users,
    keys.keys,
    lti.lti,
    sso.sso,
    operator.doctor,
)


def _create_app():
    from ..app import create_app

    try:
        return create_app()
    except ConfigError as exc:
        # Flask shows this as one clear line naming the setting, not a traceback.
        raise NoAppException(f"configuration: {exc}") from None


cli = FlaskGroup(create_app=_create_app, help="The CoCalc embedding gateway.")
for _group in APP_GROUPS:
    cli.add_command(_group)  # found even when the app cannot load, to report why
cli.add_command(operator.connect)  # needs no app: it helps set one up
cli.add_command(dev.simulator)
cli.add_command(dev.demo)


def init_app(app) -> None:
    """Attach the gateway's commands to the app's CLI (``cocalc-gateway`` and ``flask``)."""
    for group in APP_GROUPS:
        app.cli.add_command(group)


def main() -> None:
    cli(prog_name="cocalc-gateway")


__all__ = ["cli", "main"]
