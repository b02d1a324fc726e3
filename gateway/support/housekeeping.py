"""Housekeeping off the request path: a periodic task in each process, or one run by cron.

The tasks themselves live with the data they keep (``gateway.launches.cleanup`` and others),
and register with ``@task`` when the composition root (``gateway.app``) imports them;
each is one or a few atomic statements, so several processes (or a cron job beside them)
may run them at the same time. Nothing here ever runs inside a request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

#: name -> task(gw) returning how many rows it dealt with
TASKS: dict[str, Callable] = {}


def task(name: str):
    """Register ``fn(gw) -> int`` as a housekeeping task."""

    def register(fn):
        TASKS[name] = fn
        return fn

    return register


def run_once(gw) -> dict[str, int]:
    """Run every task once; a failing task is logged and the others still run. The tasks
    are those of the modules the composition root imports (``gateway.app.HOUSEKEEPING``)."""
    done = {}
    for name, fn in TASKS.items():
        try:
            done[name] = fn(gw)
        except Exception as exc:
            log.warning("housekeeping task %s failed: %s", name, type(exc).__name__)
            done[name] = -1
    return done


class Scheduler:
    """Run the tasks every ``interval`` seconds in a daemon thread, started on first use."""

    def __init__(self, gw, interval: float):
        self.gw, self.interval = gw, interval
        self._started = False
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        #: The thread that runs the tasks, once started.
        self.thread: threading.Thread | None = None

    def ensure_started(self) -> None:
        if self._started or self.interval <= 0:
            return
        with self._lock:
            if self._started:
                return
            self._started = True
            self.thread = threading.Thread(target=self._loop, name="housekeeping", daemon=True)
            self.thread.start()

    def stop(self) -> None:
        """End the thread after its current run (tests; a process that exits needs none)."""
        self._stopped.set()

    def _loop(self) -> None:
        while not self._stopped.wait(self.interval):
            run_once(self.gw)
