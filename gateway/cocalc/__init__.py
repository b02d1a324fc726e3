"""Talking to CoCalc: one client interface, two dialects, chosen by configuration or a probe."""

from __future__ import annotations

import logging
import threading

from .client import CoCalcClient
from .current import CurrentClient
from .errors import (
    AccountCreationFailed,
    CoCalcAPIError,
    CoCalcError,
    CoCalcProtocolError,
    CoCalcRequestRejected,
    CoCalcTimeout,
    CoCalcUnavailable,
    CoCalcUnsupported,
)
from .transport import Observer, Transport
from .v1 import V1Client

__all__ = [
    "AccountCreationFailed",
    "CoCalcAPIError",
    "CoCalcClient",
    "CoCalcConnector",
    "CoCalcError",
    "CoCalcProtocolError",
    "CoCalcRequestRejected",
    "CoCalcTimeout",
    "CoCalcUnavailable",
    "CoCalcUnsupported",
    "CurrentClient",
    "V1Client",
]

log = logging.getLogger(__name__)


class CoCalcConnector:
    """Build the client for the configured dialect; with ``auto``, probe the server once.

    The probe runs on first use, not at start-up, so a gateway can boot while CoCalc is
    down; until a probe succeeds every use raises a CoCalcError (a 503 page, a failed
    readiness check) and the next use probes again.
    """

    def __init__(
        self,
        base_url,
        api_key,
        *,
        dialect="auto",
        timeout=10.0,
        retries=2,
        registration_token=None,
        organization=None,
        observer: Observer | None = None,
        headers=None,
    ):
        self._make_transport = lambda kind: Transport(
            base_url,
            api_key,
            dialect=kind,
            timeout=timeout,
            retries=retries,
            observer=observer,
            headers=headers,
        )
        self.configured = dialect
        self.registration_token = registration_token
        self.organization = organization
        self._client: CoCalcClient | None = None
        self._lock = threading.Lock()
        self._admin: bool | None = None
        self._admin_checked = False

    def _build(self, dialect: str) -> CoCalcClient:
        if dialect == "v1":
            return V1Client(self._make_transport("v1"), registration_token=self.registration_token)
        return CurrentClient(self._make_transport("current"), organization=self.organization)

    def detect(self) -> str:
        """Ask the server which API it speaks: v1 ``ping``, else hub ``system.ping``."""
        v1 = self._build("v1")
        try:
            v1.ping()
            return "v1"
        except CoCalcRequestRejected as exc:
            if exc.status != 404:
                raise  # a v1 server that refused our key: report that, not "wrong dialect"
        current = self._build("current")
        try:
            current.ping()
        except (CoCalcRequestRejected, CoCalcProtocolError):
            raise CoCalcProtocolError(
                "COCALC_URL answers neither API v1 nor the current API: is it a CoCalc server?",
                endpoint="detect",
            ) from None
        return "current"

    @property
    def client(self) -> CoCalcClient:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    dialect = self.configured if self.configured != "auto" else self.detect()
                    log.info("using the CoCalc %s API", dialect)
                    self._client = self._build(dialect)
        return self._client

    def key_is_admin(self) -> bool | None:
        """Check once whether the key is a site admin's (None: the dialect cannot tell)."""
        if not self._admin_checked:
            self._admin = self.client.key_is_admin()
            self._admin_checked = True
        return self._admin
