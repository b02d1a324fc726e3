"""The web layer: blueprints, error handlers, security headers, health and metrics."""

from __future__ import annotations

from flask import Flask

from . import assets, errors, health, metrics, openapi, pages, security


def init_app(app: Flask) -> None:
    """Register every blueprint of the production app, and the dev baselines only if asked."""
    from ..launches import views as launch_views
    from ..ways_in import views as ways_in_views
    from ..ways_in.lti import views as lti_views
    from ..ways_in.sso import views as sso_views

    security.init_app(app)
    assets.init_app(app)
    errors.init_app(app)
    if app.config.get("GATEWAY_BENCH_ENDPOINT"):
        # Dev-only code is imported only here, and only when the setting asks for it.
        from ..dev import baselines

        baselines.init_app(app)
    blueprints = (
        pages.bp,
        ways_in_views.bp,
        lti_views.bp,
        sso_views.bp,
        launch_views.bp,
        health.bp,
        metrics.bp,
        openapi.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)

    @app.before_request
    def _start_housekeeping():
        # Started by the first request, in the worker that serves it (not in the CLI).
        app.extensions["gateway"].housekeeping.ensure_started()
