"""The application factory: settings, storage, the CoCalc client, the web layer, the CLI."""

from __future__ import annotations

from flask import Flask

from . import cli, config, context, web
from .store import database
from .support import logs
from .support.resources import resource_dir

#: Launch tokens are at most 8 KB and API bodies a few hundred bytes: bigger bodies are
#: refused (413) before anything reads them into memory.
MAX_BODY_BYTES = 64 * 1024


def create_app(test_config: dict | None = None, *, require: frozenset | None = None) -> Flask:
    """Create the gateway app; settings come from the environment unless tests pass them.

    ``require``: the settings that must be set (default: all required ones); see
    ``config.load``."""
    app = Flask(
        "gateway",  # the package, so the instance folder is found as before
        instance_relative_config=True,
        static_folder=resource_dir("static"),
        template_folder=resource_dir("templates"),
    )
    app.config.from_mapping(config.from_environment(test_config, require=require))
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    logs.init_app(app)
    database.init_app(app)
    context.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    return app
