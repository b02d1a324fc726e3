"""``/healthz`` (the process is up) and ``/readyz`` (this instance can serve; for operators
also CoCalc's state and what ``cocalc-gateway doctor`` finds: ``operator.readiness``)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..operator.readiness import readiness
from .current import gateway
from .metrics import has_metrics_access

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """200 ``ready``, ``degraded`` (some doctor finding fails) or ``starting`` (no finding
    yet), 503 ``unavailable``."""
    found = readiness(gateway())
    if not has_metrics_access():  # anyone may ask whether; only operators learn why
        return jsonify(status=found.status), found.http_status
    by_name = {f.name: f for f in found.findings or []}
    dialect = by_name.get("dialect")
    body = {
        "status": found.status,
        "checks": {
            "database": {"ok": not found.instance.failed, "detail": found.instance.detail},
            "cocalc": {
                "ok": bool(dialect) and not dialect.failed,
                "dialect": (dialect.facts.get("dialect") if dialect else None),
                "key_is_admin": gateway().connector.known_key_is_admin(),
            }
            if found.findings is not None
            else {"ok": None, "detail": "not checked yet"},
        },
        # The findings' own age: never older than REFRESH_S plus one refresh, after idle.
        "checked_s_ago": round(found.age_s, 1) if found.age_s is not None else None,
        "failing": [f.name for f in found.failing],
        "doctor": [f.as_dict() for f in found.findings or []],
    }
    return jsonify(body), found.http_status
