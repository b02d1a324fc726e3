"""The CoCalc embedding gateway: a Flask application factory."""

from __future__ import annotations

from flask import Flask

from .resources import resource_dir


def create_app(test_config: dict | None = None) -> Flask:
    """Create the gateway app; settings come from the environment unless tests pass them."""
    from . import cli, config, context, db, errors, logs, security, views

    app = Flask(
        __name__,
        instance_relative_config=True,
        static_folder=resource_dir("static"),
        template_folder=resource_dir("templates"),
    )
    settings = config.from_environment(test_config)
    app.config.from_mapping(settings)
    app.config["SECRET_KEY"] = settings["GATEWAY_SECRET_KEY"]
    # Launch tokens are at most 8 KB and API bodies a few hundred bytes: refuse big bodies
    # (413) before anything reads them into memory.
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    logs.init_app(app)
    db.init_app(app)
    context.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    views.init_app(app)
    cli.init_app(app)
    return app
