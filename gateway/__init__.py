"""The CoCalc embedding gateway (``create_app`` builds the Flask application)."""

from __future__ import annotations


def create_app(test_config: dict | None = None):
    """Create the gateway app (see ``gateway.app.create_app``)."""
    from .app import create_app as build

    return build(test_config)
