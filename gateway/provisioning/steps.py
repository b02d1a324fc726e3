"""What every provisioning step shares: failures counted by step in the metrics."""

from __future__ import annotations

import functools

from ..support.counters import PROVISIONING_FAILURES


def counted(name: str):
    """Count a failure of the decorated step in the metrics, and let the error go on."""

    def wrap(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                PROVISIONING_FAILURES.labels(name, type(exc).__name__).inc()
                raise

        return run

    return wrap
