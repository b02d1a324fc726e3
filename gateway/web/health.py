"""``/healthz`` (the process is up) and ``/readyz`` (database and CoCalc answer, and for
operators what ``cocalc-gateway doctor`` finds)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from ..context import gateway
from ..operator import doctor
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
    # What `cocalc-gateway doctor` finds (all but its synthetic launch), cached a minute:
    # the embedding settings that make pages silent long before anything is "down".
    _, findings = doctor.for_readyz(gateway())
    return jsonify(status=status, checks=checks, doctor=[f.as_dict() for f in findings]), (
        200 if ready else 503
    )
