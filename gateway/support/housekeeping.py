"""Housekeeping off the request path: a periodic task in each process, or one run by cron.

The tasks themselves live with the data they keep (``gateway.launches.cleanup`` and
others) as plain functions; the composition root (``gateway.app``) names them, in order,
and hands the list to the ``Scheduler`` of each app. Each task is one or a few atomic
statements, so several processes (or a cron job beside them) may run them at the same
time. Nothing here ever runs inside a request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

#: (name, task(gw) returning how many rows it dealt with)
Task = tuple[str, Callable]


def run_once(gw, tasks: Sequence[Task]) -> dict[str, int]:
    """Run every task once; a failing task is logged and the others still run."""
    done = {}
    for name, fn in tasks:
        try:
            done[name] = fn(gw)
        except Exception as exc:
            log.warning("housekeeping task %s failed: %s", name, type(exc).__name__)
            done[name] = -1
    return done


class Scheduler:
    """Run ``tasks`` every ``interval`` seconds in a daemon thread, started on first use."""

    def __init__(self, gw, interval: float, tasks: Sequence[Task] = ()):
        self.gw, self.interval, self.tasks = gw, interval, tuple(tasks)
        self._started = False
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        #: The thread that runs the tasks, once started.
        self.thread: threading.Thread | None = None

    def run_once(self) -> dict[str, int]:
        return run_once(self.gw, self.tasks)

    def ensure_started(self) -> None:
        if self._started or self.interval <= 0 or self._stopped.is_set():
            return
        with self._lock:
            if self._started:
                return
            self._started = True
            self.thread = threading.Thread(target=self._loop, name="housekeeping", daemon=True)
            self.thread.start()

    def stop(self) -> None:
        """End the thread after its current run (the app closes; tests)."""
        self._stopped.set()

    def _loop(self) -> None:
        while not self._stopped.wait(self.interval):
            self.run_once()
