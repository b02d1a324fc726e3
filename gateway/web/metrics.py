"""The protected ``/metrics`` endpoint (the counters live in ``gateway.support.counters``)."""

from __future__ import annotations

import hmac
import ipaddress
import os

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from ..errors import N_, Forbidden
from . import forwarding
from .current import gateway

bp = Blueprint("metrics", __name__)


def has_metrics_access() -> bool:
    """Tell whether this request may read metrics: the bearer token, or an allowed network
    (never for a request whose forwarding headers no trusted proxy applied: see
    ``forwarding``)."""
    token = current_app.config.get("GATEWAY_METRICS_TOKEN")
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    forwarded = forwarding.untrusted_forwarding()
    if forwarded:
        forwarding.note(gateway(), forwarded)
        return False
    try:
        client = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(client in network for network in current_app.config["GATEWAY_METRICS_NETWORKS"])


@bp.get("/metrics")
def metrics():
    if not has_metrics_access():
        raise Forbidden(N_("metrics need the metrics token or a request from an allowed network"))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Under gunicorn with several workers, each writes its own files; add them up here.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
