"""A stand-in CoCalc server that behaves like the real one (see ../shared/cocalc-api.md)."""

from __future__ import annotations

from flask import Flask

from ..resources import TEMPLATES
from .plumbing import Simulator, SimulatorConfig

__all__ = ["Simulator", "SimulatorConfig", "create_simulator_app"]


def create_simulator_app(config: SimulatorConfig | None = None) -> Flask:
    """Build the simulator's Flask app; one app is one CoCalc server with its own memory."""
    # Importing the modules registers their routes and events.
    from . import api_v1, controls, current, hub, keys, pages, rest, signup, v1_events  # noqa: F401

    config = config or SimulatorConfig()
    if config.dialect not in ("v1", "current"):
        raise ValueError("the simulator's dialect is 'v1' or 'current'")
    app = Flask(
        __name__,
        template_folder=TEMPLATES,
        static_folder=None,
    )
    app.extensions["simulator"] = Simulator(config)
    app.register_blueprint(api_v1.bp)
    app.register_blueprint(current.bp)
    app.register_blueprint(pages.bp)
    return app
