"""Every request gets an id (``X-Request-Id``: the caller's, if it looks like one, else a
new one), logged with each of its lines and sent along with the CoCalc calls it causes
(``support.logs.request_id_var``), across the threads that provisioning starts."""

from __future__ import annotations

import uuid

from flask import Flask, g, request

from ..support import logs


def init_app(app: Flask) -> None:
    if not app.config.get("TESTING") or app.config.get("LOG_TO_STDERR"):
        logs.configure(app.config.get("GATEWAY_LOG_FORMAT", "text"))

    @app.before_request
    def _assign_request_id():
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if logs.REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_id_token = logs.request_id_var.set(g.request_id)

    @app.after_request
    def _echo_request_id(response):
        if "request_id" in g:
            response.headers["X-Request-Id"] = g.request_id
        return response

    @app.teardown_request
    def _forget_request_id(_exc):
        token = g.pop("request_id_token", None)
        if token is not None:
            logs.request_id_var.reset(token)
