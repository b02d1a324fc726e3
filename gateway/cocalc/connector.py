"""Which dialect CoCalc speaks: configured, remembered, or probed in the background.

No request ever waits on the probe. With ``auto`` the dialect found once is remembered (the
gateway keeps it in its database), so a fresh process knows it at once, and an existing
embed page or a warm launch renders even while CoCalc is down. Until the dialect is known,
``client`` raises ``CoCalcUnavailable`` at once (a 503 page, a failed readiness check) and
the probe keeps running in the background. The probe asks each generation of
``dialects.DIALECTS`` in turn, each with a short timeout of its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .client import CoCalcClient
from .dialects import DIALECTS, Options, answered_otherwise, named
from .errors import CoCalcError, CoCalcProtocolError, CoCalcUnavailable
from .transport import Observer, Transport

log = logging.getLogger(__name__)

#: Seconds between two probes while the dialect is unknown (CoCalc down, or not CoCalc).
PROBE_PAUSE_S = 5.0
REMEMBER_FOR_S = 600.0  # how long a probed dialect is offered to a database not ready yet


@dataclass
class DialectMemory:
    """Where a found dialect is kept: ``load()`` returns it (or None), ``save(d)`` keeps it."""

    load: Callable[[], str | None]
    save: Callable[[str], None]


class CoCalcConnector:
    """Build the client for the configured dialect; with ``auto``, find it in the background."""

    def __init__(
        self,
        base_url,
        api_key,
        *,
        dialect="auto",
        timeout=10.0,
        probe_timeout=3.0,
        retries=2,
        registration_token=None,
        organization=None,
        observer: Observer | None = None,
        headers=None,
        memory: DialectMemory | None = None,
    ):
        def transport(kind: str, seconds: float, attempts: int) -> Transport:
            return Transport(
                base_url,
                api_key,
                dialect=kind,
                timeout=seconds,
                retries=attempts,
                observer=observer,
                headers=headers,
            )

        self._transport = transport
        self.timeout, self.retries, self.probe_timeout = timeout, retries, probe_timeout
        if dialect != "auto":
            named(dialect)  # an unknown dialect is an error, never a quiet fallback
        self.configured = dialect
        self.options = Options(registration_token, organization)
        self.registration_token = registration_token
        self.organization = organization
        self.memory = memory
        self._client: CoCalcClient | None = None
        self._lock = threading.Lock()
        self._probing = False
        self._last_probe_error: str | None = None
        self._found = threading.Event()
        self._admin: bool | None = None
        self._admin_checked = False
        #: What each generation's probe found the last time the dialect was detected.
        self.last_detection: dict[str, str] = {}
        if dialect != "auto":
            self._use(dialect)

    def build(self, dialect: str, *, probe: bool = False) -> CoCalcClient:
        """A client of ``dialect`` (for the probe: its short timeout and no retries)."""
        seconds, attempts = (self.probe_timeout, 0) if probe else (self.timeout, self.retries)
        return named(dialect).make(self._transport(dialect, seconds, attempts), self.options)

    def _use(self, dialect: str) -> None:
        self._client = self.build(dialect)
        self._found.set()

    # -- finding the dialect ---------------------------------------------------------------
    def detect(self) -> str:
        """Ask the server which API it speaks: each generation's probe in turn. What each
        probe found is kept (``last_detection``) for the error and for ``doctor``."""
        unreachable, found = None, {}
        for name, dialect in DIALECTS.items():
            try:
                if dialect.speaks(self.build(name, probe=True)):
                    self.last_detection = {**found, name: "answered"}
                    return name
                found[name] = "not served there"
            except CoCalcUnavailable as exc:
                found[name] = exc.message
                if not answered_otherwise(exc):
                    unreachable = exc  # no answer at all: perhaps the other one answers
        self.last_detection = found
        tried = "; ".join(f"{name}: {what}" for name, what in found.items())
        if unreachable is not None:
            raise CoCalcUnavailable(f"CoCalc could not be reached ({tried})", endpoint="detect")
        raise CoCalcProtocolError(
            f"COCALC_URL answers neither API v1 nor the current API ({tried}): is it a "
            "CoCalc server?",
            endpoint="detect",
        )

    def start(self) -> None:
        """Find the dialect: from memory at once, else by a probe in the background."""
        if self._client is not None:
            return
        remembered = None
        if self.memory is not None:
            try:
                remembered = self.memory.load()
            except Exception as exc:  # the database may be down at start-up: probe instead
                log.info("no remembered CoCalc dialect (%s); probing", type(exc).__name__)
        if remembered in DIALECTS:
            log.info("using the CoCalc %s API (remembered)", remembered)
            self._use(remembered)
            return
        self._probe_in_background()

    def _probe_in_background(self) -> None:
        with self._lock:
            if self._probing or self._client is not None:
                return
            self._probing = True
        threading.Thread(target=self._probe_until_found, name="cocalc-probe", daemon=True).start()

    def _probe_until_found(self) -> None:
        try:
            while self._client is None:
                try:
                    dialect = self.detect()
                except CoCalcError as exc:
                    self._last_probe_error = exc.message
                    log.warning("cannot tell which API CoCalc speaks yet: %s", exc)
                    time.sleep(PROBE_PAUSE_S)
                    continue
                log.info("using the CoCalc %s API (probed)", dialect)
                self._use(dialect)
                self._remember(dialect)
        finally:
            with self._lock:
                self._probing = False

    def _remember(self, dialect: str) -> None:
        """Write the dialect down, trying again for a while: a process may start before the
        database is migrated (the probe answers in milliseconds), and an unremembered dialect
        would leave the next process unable to serve pages while CoCalc is down."""
        if self.memory is None:
            return
        pause, deadline = 0.1, time.monotonic() + REMEMBER_FOR_S
        while True:
            try:
                self.memory.save(dialect)
                return
            except Exception as exc:
                if time.monotonic() + pause > deadline:
                    log.warning("could not remember the dialect: %s", type(exc).__name__)
                    return
            time.sleep(pause)
            pause = min(5.0, pause * 2)

    @property
    def client(self) -> CoCalcClient:
        """The client; raises CoCalcUnavailable at once while the dialect is unknown."""
        client = self._client
        if client is not None:
            return client
        self._probe_in_background()
        reason = self._last_probe_error or "the probe is still running"
        raise CoCalcUnavailable(
            f"CoCalc's API dialect is not known yet ({reason})", endpoint="detect"
        )

    def wait_for_client(self, timeout: float) -> CoCalcClient:
        """The client, waiting up to ``timeout`` seconds for the probe (CLI and tools only)."""
        self.start()
        self._found.wait(timeout)
        return self.client

    def known_key_is_admin(self) -> bool | None:
        """What ``key_is_admin`` found, without asking CoCalc (None: not known yet)."""
        return self._admin if self._admin_checked else None

    def key_is_admin(self) -> bool | None:
        """Check once whether the key is a site admin's (None: the dialect cannot tell)."""
        if not self._admin_checked:
            self._admin = self.client.key_is_admin()
            self._admin_checked = True
        return self._admin


class UnconfiguredConnector:
    """Stands in for the connector where ``COCALC_URL`` or ``COCALC_API_KEY`` is not set: a
    command that needs no CoCalc (``db upgrade``, ``hosts``, ``lti keys``) runs without
    them, and anything that would call CoCalc says which setting is missing."""

    def __init__(self, missing: list[str]):
        self.missing = missing

    def _refuse(self):
        from ..config import ConfigError

        raise ConfigError(f"{' and '.join(self.missing)} not set: this needs CoCalc")

    def start(self) -> None:
        pass

    @property
    def client(self) -> CoCalcClient:
        self._refuse()

    def wait_for_client(self, timeout: float) -> CoCalcClient:
        self._refuse()

    def key_is_admin(self) -> bool | None:
        self._refuse()

    def known_key_is_admin(self) -> bool | None:
        return None
