"""Work that must not hold up a page (token refills, revocations, a project's start), and
steps that run side by side.

Each app's ``Gateway`` owns one ``Background`` pool and closes it when the app closes; a
pool never outlives the app that made it. ``wait_idle`` waits for every live pool (tests
and the CLI: a count taken while a refill is still in flight would depend on the race).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)

WORKER_NAME = "gateway-bg"  # the workers' threads are named so (logs, tests tell them apart)
_LIVE: weakref.WeakSet = weakref.WeakSet()


class Background:
    """A few worker threads for one app; failures are logged, never raised to anyone."""

    def __init__(self, workers: int = 4):
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=WORKER_NAME)
        self._pending: set[Future] = set()
        self._lock = threading.Lock()
        self.closed = False
        _LIVE.add(self)

    def submit(self, name: str, fn: Callable[[], object]) -> Future | None:
        """Run ``fn`` soon in a worker (nothing once the pool is closed)."""
        context = contextvars.copy_context()

        def run():
            try:
                context.run(fn)
            except Exception as exc:
                log.warning("background task %s failed: %s: %s", name, type(exc).__name__, exc)

        with self._lock:
            if self.closed:
                log.info("background task %s not run: the app is closing", name)
                return None
            future = self._executor.submit(run)
            self._pending.add(future)
        future.add_done_callback(self._discard)
        return future

    def later(self, seconds: float, name: str, fn: Callable[[], object]) -> None:
        """Run ``fn`` in a worker after ``seconds``, without holding a worker meanwhile;
        ``wait_idle`` waits for it as for work already submitted."""
        placeholder: Future = Future()
        with self._lock:
            if self.closed:
                return
            self._pending.add(placeholder)

        def fire():
            submitted = self.submit(name, fn)
            if submitted is None:
                placeholder.set_result(None)
            else:
                submitted.add_done_callback(lambda _: placeholder.set_result(None))
            self._discard(placeholder)

        timer = threading.Timer(seconds, fire)
        timer.daemon = True
        timer.start()

    def _discard(self, future: Future) -> None:
        with self._lock:
            self._pending.discard(future)

    def wait_idle(self, timeout: float = 30) -> None:
        """Block until no task is left: those submitted or scheduled, and those they
        submitted or scheduled in turn."""
        while True:
            with self._lock:
                futures = list(self._pending)
            if not futures:
                return
            for future in futures:
                future.result(timeout=timeout)

    def close(self, timeout: float = 30) -> None:
        """Let the tasks under way finish, take no more, and end the threads."""
        with self._lock:
            self.closed = True
        self.wait_idle(timeout)
        self._executor.shutdown(wait=True)
        _LIVE.discard(self)


def wait_idle(timeout: float = 30) -> None:
    """Block until every live pool's tasks have finished (tests and the CLI)."""
    for pool in list(_LIVE):
        pool.wait_idle(timeout)


def run_together(*steps: Callable[[], object]) -> list[object]:
    """Run independent steps at the same time; wait for all, then raise the first failure.

    Waiting for every step before raising keeps the database consistent: no step is still
    writing when the caller starts to clean up or retry.
    """
    if len(steps) == 1:
        return [steps[0]()]
    results: list[object] = [None] * len(steps)
    errors: list[BaseException | None] = [None] * len(steps)

    def runner(index: int) -> None:
        try:
            results[index] = steps[index]()
        except BaseException as exc:  # re-raised in the caller's thread below
            errors[index] = exc

    threads = []
    for index in range(1, len(steps)):
        context = contextvars.copy_context()
        thread = threading.Thread(target=context.run, args=(runner, index), daemon=True)
        thread.start()
        threads.append(thread)
    runner(0)
    for thread in threads:
        thread.join()
    for error in errors:
        if error is not None:
            raise error
    return results
