"""The app's ``Gateway`` and database: built once per app here, found by views and commands
through ``gateway()``."""

from __future__ import annotations

import os

from flask import Flask, current_app

from .. import context
from ..store.database import open_database
from ..support import counters, logs


def init_database(app: Flask) -> None:
    url = app.config.get("DATABASE_URL")
    if not url:  # SQLite in the instance folder
        os.makedirs(app.instance_path, exist_ok=True)
        url = "sqlite:///" + os.path.join(app.instance_path, "gateway.sqlite3")
    app.extensions["db"] = open_database(url, int(app.config["GATEWAY_DB_CONNECTIONS"]))


def init_gateway(app: Flask, housekeeping: tuple = ()) -> None:
    """Build the app's Gateway; ``housekeeping``: the tasks its scheduler runs."""
    gw = app.extensions["gateway"] = context.build(
        app.config,
        app.extensions["db"],
        tasks=housekeeping,
        observer=counters.observe_cocalc_call,
        headers=logs.request_id_headers,
    )
    gw.connector.start()  # a remembered dialect at once, else a probe in the background


def gateway() -> context.Gateway:
    """Return the current app's Gateway (inside a request or CLI command)."""
    return current_app.extensions["gateway"]


def close(app: Flask) -> None:
    """Close an app's Gateway: its housekeeping, background work and database pools."""
    gw = app.extensions.get("gateway")
    if gw is not None:
        gw.close()
