"""What the services need, built once per app: database, CoCalc client, encryption, settings.

No Flask here: the services take the ``Gateway`` as their first argument, and the web layer
(``web.current``) keeps one per app and finds it for views and commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .cocalc import CoCalcClient, CoCalcConnector, DialectMemory
from .cocalc.connector import UnconfiguredConnector
from .store import state
from .store.database import Database
from .support.concurrency import Background
from .support.crypto import SecretBox
from .support.housekeeping import Scheduler, Task
from .support.outbound import Outbound, Policy


@dataclass
class Gateway:
    """The service layer's dependencies; plain functions take it as their first argument."""

    db: Database
    connector: CoCalcConnector
    box: SecretBox
    settings: dict
    #: The client of every call to an LMS or identity provider.
    outbound: Outbound
    #: Per-app memo tables of services (hosts keep theirs here), never shared between apps.
    memo: dict = field(default_factory=dict)
    #: Runs the housekeeping tasks in this process (started by the first request).
    housekeeping: Scheduler | None = None
    #: The worker threads of work no page waits for (refills, revocations): this app's own.
    background: Background = field(default_factory=Background)

    @property
    def cocalc(self) -> CoCalcClient:
        return self.connector.client

    def close(self) -> None:
        """The app is done: stop housekeeping, finish background work, close the pools."""
        if self.housekeeping is not None:
            self.housekeeping.stop()
        self.background.close()
        self.db.dispose()


def dialect_memory(db: Database, cocalc_url: str) -> DialectMemory:
    """Keep the probed dialect in the database, for the CoCalc URL it was found at."""

    def load() -> str | None:
        found = state.load(db, "cocalc_dialect")
        return found["dialect"] if found and found.get("url") == cocalc_url else None

    def save(dialect: str) -> None:
        state.save(db, "cocalc_dialect", {"url": cocalc_url, "dialect": dialect})

    return DialectMemory(load=load, save=save)


def known_dialect(gw: Gateway) -> str:
    """CoCalc's API generation as far as it is known without asking CoCalc: configured, or
    remembered from a probe; else the current API (what every new CoCalc speaks)."""
    configured = gw.settings.get("COCALC_API_DIALECT") or "auto"
    if configured != "auto":
        return configured
    url = gw.settings.get("COCALC_URL")
    try:
        remembered = dialect_memory(gw.db, url).load() if url else None
    except Exception:  # a database not migrated yet: the default
        remembered = None
    return remembered or "current"


def build(
    settings: dict, db: Database, *, tasks: tuple[Task, ...] = (), observer=None, headers=None
) -> Gateway:
    """The services of one app; ``tasks``: its housekeeping, as the composition root lists it."""
    # A command that needs no CoCalc runs without its settings (``config.load(require=)``).
    unset = [n for n in ("COCALC_URL", "COCALC_API_KEY") if settings.get(n) is None]
    connector = (
        UnconfiguredConnector(unset) if unset else _connector(settings, db, observer, headers)
    )
    gw = Gateway(
        db=db,
        connector=connector,
        box=SecretBox.from_settings(settings),
        settings=settings,
        outbound=Outbound(Policy.from_settings(settings)),
    )
    gw.housekeeping = Scheduler(gw, float(settings["GATEWAY_HOUSEKEEPING_INTERVAL"]), tasks)
    return gw


def _connector(settings: dict, db: Database, observer, headers) -> CoCalcConnector:
    return CoCalcConnector(
        settings["COCALC_URL"],
        settings["COCALC_API_KEY"],
        dialect=settings["COCALC_API_DIALECT"],
        timeout=float(settings["COCALC_TIMEOUT"]),
        probe_timeout=float(settings["COCALC_PROBE_TIMEOUT"]),
        retries=int(settings["COCALC_RETRIES"]),
        registration_token=settings.get("COCALC_REGISTRATION_TOKEN"),
        organization=settings.get("COCALC_ORGANIZATION"),
        observer=observer,
        headers=headers,
        memory=dialect_memory(db, settings["COCALC_URL"]),
    )
