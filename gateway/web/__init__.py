"""The web layer's shared parts: security headers, static assets, the error pages, and the
housekeeping thread that the first request starts. The blueprints are registered by the
composition root (``gateway.app``)."""

from __future__ import annotations

from flask import Flask

from . import assets, errors, i18n, security


def init_app(app: Flask) -> None:
    security.init_app(app)
    assets.init_app(app)
    errors.init_app(app)
    i18n.init_app(app)

    @app.before_request
    def _start_housekeeping():
        # Started by the first request, in the worker that serves it (not in the CLI).
        app.extensions["gateway"].housekeeping.ensure_started()
