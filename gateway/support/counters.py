"""Prometheus counters and histograms: what the services count (``/metrics`` serves them)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
#: How launches found their user: "warm" (set up, no CoCalc call) or "cold" (set-up work).
LAUNCH_PATHS = Counter("gateway_launch_paths_total", "Launches by path taken", ["path"])
#: "My First Project" of new accounts: "stopped" (and verified), "still running" (every
#: stop was undone), "unverified" (stopped, but the key may not read a project's state).
FIRST_PROJECTS = Counter(
    "gateway_first_projects_total",
    "Sign-up's first projects, by how stopping them ended",
    ["outcome"],
)
PROVISIONING_FAILURES = Counter(
    "gateway_provisioning_failures_total", "Provisioning steps that failed", ["step", "error"]
)


def observe_cocalc_call(endpoint: str, outcome: str, seconds: float) -> None:
    COCALC_CALLS.labels(endpoint, outcome).inc()
    COCALC_LATENCY.labels(endpoint).observe(seconds)
