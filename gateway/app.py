"""The application factory, and the composition root: the one place that wires the parts
together. Lower layers never import a higher one to make it register itself: the blueprints,
the housekeeping tasks and the database are named here."""

from __future__ import annotations

from flask import Flask

from . import config, web
from .launches import cleanup
from .launches import views as launch_views
from .provisioning import first_projects, revocations, staff, tokens
from .support.resources import resource_dir
from .ways_in import exchanges, limits
from .ways_in import views as ways_in_views
from .ways_in.lti import views as lti_views
from .ways_in.lti.autograding import runs as autograde_runs
from .ways_in.saml import idps as saml_idps
from .ways_in.saml import views as saml_views
from .ways_in.sso import sessions
from .ways_in.sso import views as sso_views
from .web import current, health, metrics, openapi, pages, request_ids

#: Launch tokens are at most 8 KB and API bodies a few hundred bytes: bigger bodies are
#: refused (413) before anything reads them into memory.
MAX_BODY_BYTES = 64 * 1024

BLUEPRINTS = (
    pages.bp,
    ways_in_views.bp,
    lti_views.bp,
    sso_views.bp,
    saml_views.bp,
    launch_views.bp,
    health.bp,
    metrics.bp,
    openapi.bp,
)
#: The housekeeping of every process, in order: (name, task(gw) -> rows dealt with).
#: Unused tokens of expired pages are queued before those pages are purged, and the queue
#: is worked off after.
HOUSEKEEPING = (
    ("revoke unused page tokens", revocations.revoke_unused_page_tokens),
    ("purge launches", cleanup.purge_expired),
    ("purge expired spare tokens", tokens.purge_spares),
    ("revoke tokens", revocations.drain_revocations),
    ("grant staff", staff.grant_due),
    ("stop first projects again", first_projects.retry),
    ("purge exchanges", exchanges.purge),
    ("purge rate counts", limits.purge),
    ("purge SSO sessions", sessions.purge),
    ("refresh SAML metadata", saml_idps.refresh_due),
    ("delete autograding projects left behind", autograde_runs.discard_left_projects),
)


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
    request_ids.init_app(app)
    current.init_database(app)
    current.init_gateway(app, HOUSEKEEPING)
    web.init_app(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    if app.config.get("GATEWAY_BENCH_ENDPOINT"):
        # Dev-only code is imported only here, and only when the setting asks for it.
        from .dev import baselines

        baselines.init_app(app)
    return app
