"""Prometheus metrics, and the protected ``/metrics`` endpoint that serves them."""

from __future__ import annotations

import hmac
import ipaddress
import os

from flask import Blueprint, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from .errors import Forbidden

LAUNCHES = Counter("gateway_launches_total", "Launches by way in and outcome", ["way", "outcome"])
COCALC_CALLS = Counter(
    "gateway_cocalc_calls_total", "CoCalc calls by endpoint and outcome", ["endpoint", "outcome"]
)
COCALC_LATENCY = Histogram(
    "gateway_cocalc_call_seconds",
    "Latency of CoCalc calls",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TOKEN_CACHE = Counter("gateway_token_cache_total", "Auth token cache lookups", ["result"])
PROVISIONING_FAILURES = Counter(
    "gateway_provisioning_failures_total", "Provisioning steps that failed", ["step", "error"]
)

bp = Blueprint("metrics", __name__)


def observe_cocalc_call(endpoint: str, outcome: str, seconds: float) -> None:
    COCALC_CALLS.labels(endpoint, outcome).inc()
    COCALC_LATENCY.labels(endpoint).observe(seconds)


def _allowed() -> bool:
    token = current_app.config.get("GATEWAY_METRICS_TOKEN")
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    networks = current_app.config.get("GATEWAY_METRICS_NETWORKS") or "127.0.0.1/32,::1/128"
    try:
        client = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(
        client in ipaddress.ip_network(n.strip(), strict=False)
        for n in str(networks).split(",")
        if n.strip()
    )


@bp.get("/metrics")
def metrics():
    if not _allowed():
        raise Forbidden("metrics need the metrics token or a request from an allowed network")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Under gunicorn with several workers, each writes its own files; add them up here.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
