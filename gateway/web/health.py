"""``/healthz`` (the process is up) and ``/readyz`` (database and CoCalc answer)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from ..context import gateway
from .metrics import has_metrics_access

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Report whether the database and CoCalc answer, and which CoCalc dialect is in use."""
    checks, ready = {}, True
    try:
        with gateway().db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except Exception as exc:
        checks["database"], ready = {"ok": False, "error": type(exc).__name__}, False
    try:
        client = gateway().cocalc
        client.ping()
        checks["cocalc"] = {
            "ok": True,
            "dialect": client.dialect,
            "key_is_admin": gateway().connector.key_is_admin(),
        }
    except Exception as exc:
        checks["cocalc"] = {"ok": False, "error": getattr(exc, "message", type(exc).__name__)}
        ready = False
    status = "ready" if ready else "unavailable"
    if not has_metrics_access():  # anyone may ask whether; only operators learn why
        return jsonify(status=status), (200 if ready else 503)
    return jsonify(status=status, checks=checks, embedding=embedding_checklist()), (
        200 if ready else 503
    )


def embedding_checklist() -> dict:
    """What CoCalc's operator must allow for this gateway (the gateway cannot see it)."""
    public = urlsplit(current_app.config["GATEWAY_PUBLIC_URL"])
    return {
        "gateway_origin": f"{public.scheme}://{public.netloc}",
        "https_on_port_443": public.scheme == "https" and public.port in (None, 443),
        "iframe_comm_hosts_must_list": public.hostname,
        "samesite_remember_me": "none, unless host site, gateway and CoCalc share one site",
    }
