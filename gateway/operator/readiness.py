"""Readiness, one definition for ``/readyz`` and its metrics.

*Ready* is a statement about this instance: it can serve pages, because its database
answers and is migrated (its configuration was checked at start-up, or it would not run).
CoCalc's state is reported beside that, never in it: embed pages and warm launches work
while CoCalc is down, so a load balancer that dropped every gateway on a CoCalc outage
would turn a partial outage into a full one. What ``doctor`` finds (all but its synthetic
launch) makes the body say ``degraded`` with the failing findings, for an operator's alert.

The findings are refreshed in the background, at most once a minute and one refresh at a
time, however many probes arrive. A probe that finds them older than that starts the
refresh and waits a moment for it (``FRESH_WAIT_S``), so after a long idle it does not
answer with findings of minutes ago; the body says how old the findings are. Until the
first refresh is in, the status is ``starting`` (the instance itself may serve already).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from prometheus_client import Gauge

from ..context import Gateway
from . import doctor, gateway_checks
from .findings import Finding

REFRESH_S = 60.0
FRESH_WAIT_S = 3.0
READY, DEGRADED, UNAVAILABLE, STARTING = "ready", "degraded", "unavailable", "starting"

CHECKS = Gauge(
    "gateway_doctor_check_ok",
    "Whether each doctor check passes (1) or fails (0), as /readyz last found",
    ["check"],
    multiprocess_mode="mostrecent",
)


@dataclass(frozen=True)
class Readiness:
    status: str
    instance: Finding
    findings: list[Finding] | None  # None: not checked yet
    #: How many seconds ago the findings were made (None: not checked yet).
    age_s: float | None = None

    @property
    def http_status(self) -> int:
        return 503 if self.status == UNAVAILABLE else 200

    @property
    def failing(self) -> list[Finding]:
        return [f for f in self.findings or [] if f.failed]


class _Findings:
    """The latest findings of one app, and the one refresh that may be running."""

    def __init__(self):
        self.lock = threading.Lock()
        self.found: list[Finding] | None = None
        self.at = 0.0
        self.refreshed = threading.Event()  # set when the refresh under way is done
        self.refreshing = False

    def latest(self, gw: Gateway) -> tuple[list[Finding] | None, float | None]:
        """The findings and their age; stale ones are refreshed, waited for a moment."""
        with self.lock:
            stale = self.found is None or time.monotonic() - self.at > REFRESH_S
            if stale and not self.refreshing:
                self.refreshing = True
                self.refreshed = threading.Event()
                gw.background.submit("readiness checks", lambda: self._refresh(gw))
            waiting = self.refreshed if stale else None
        if waiting is not None:
            waiting.wait(FRESH_WAIT_S)
        with self.lock:
            found, at = self.found, self.at
        return found, (time.monotonic() - at if found is not None else None)

    def _refresh(self, gw: Gateway) -> None:
        try:
            found = doctor.run(gw, synthetic=False)
            for finding in found:
                CHECKS.labels(finding.name).set(0 if finding.failed else 1)
            with self.lock:
                self.found, self.at = found, time.monotonic()
        finally:
            with self.lock:
                self.refreshing = False
                self.refreshed.set()


def readiness(gw: Gateway) -> Readiness:
    """Whether this instance can serve, and what the doctor last found beside it."""
    instance = gateway_checks.database(gw)
    findings, age = gw.memo.setdefault("readiness", _Findings()).latest(gw)
    if instance.failed:
        status = UNAVAILABLE
    elif findings is None:
        status = STARTING
    elif any(f.failed for f in findings):
        status = DEGRADED
    else:
        status = READY
    return Readiness(status, instance, findings, age)
