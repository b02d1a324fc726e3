"""The LMS's HTTP side: course pages and the OIDC authorization endpoint (``pages``), keys,
tokens, grades, rosters and Deep Linking returns (``services``), Dynamic Registration."""

from __future__ import annotations

from flask import Flask, abort, current_app

from ..devserver import ThreadedServer
from ..languages import speak
from ..resources import STATIC, TEMPLATES
from .adapters import PlatformConf
from .state import LmsState


def lms_state() -> LmsState:
    return current_app.extensions["lms"]


def platform_conf() -> PlatformConf:
    """The library's platform object for this request (it caches the registration)."""
    config = PlatformConf(state=lms_state())
    config.get_registration()
    return config


def create_lms_app(state: LmsState) -> Flask:
    from . import pages, registration, services

    app = Flask(
        "gateway.dev.lms",
        static_folder=STATIC,
        template_folder=TEMPLATES,
    )
    app.extensions["lms"] = state
    speak(app)
    for blueprint in (pages.bp, services.bp, registration.bp):
        app.register_blueprint(blueprint)

    @app.errorhandler(KeyError)
    def missing(exc):
        abort(404)

    return app


def start_lms(tool_url: str, *, port: int = 0, **settings) -> tuple[ThreadedServer, LmsState]:
    """Serve an LMS on a loopback port whose registered tool is the gateway at ``tool_url``."""
    state = LmsState(tool_url=tool_url, **settings)
    server = ThreadedServer(port=port)
    state.url = server.url
    server.start(create_lms_app(state))
    return server, state
