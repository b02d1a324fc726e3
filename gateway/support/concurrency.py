"""A few worker threads for CoCalc calls that must not hold up a page (refills, revocations)."""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)

WORKER_NAME = "gateway-bg"  # the workers' threads are named so (logs, tests tell them apart)
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix=WORKER_NAME)
_pending: set[Future] = set()
_lock = threading.Lock()


def submit(name: str, fn: Callable[[], object]) -> Future:
    """Run ``fn`` soon in a worker; failures are logged, never raised to anyone."""
    context = contextvars.copy_context()

    def run():
        try:
            context.run(fn)
        except Exception as exc:
            log.warning("background task %s failed: %s: %s", name, type(exc).__name__, exc)

    future = _executor.submit(run)
    with _lock:
        _pending.add(future)
    future.add_done_callback(lambda f: _discard(f))
    return future


def _discard(future: Future) -> None:
    with _lock:
        _pending.discard(future)


def wait_idle(timeout: float = 30) -> None:
    """Block until every submitted task has finished (tests and the CLI use it)."""
    with _lock:
        futures = list(_pending)
    for future in futures:
        future.result(timeout=timeout)


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
