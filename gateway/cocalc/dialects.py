"""The generations of CoCalc's API the gateway speaks: one entry each, in probing order.

Each entry makes its client and says how to tell, from one small call, whether a server
speaks it. The probe's answer is one of three: this server speaks it (it answered, even if
only to refuse the key in its own words); it does not (a 404, a 5xx or a page that is not
JSON where the API would be: a v1-era build answers the current API's path with a 500
error page of its web front end, and current CoCalc answers ``/api/v1/ping`` with an HTML
404); or the server could not be reached at all. Detection asks each in turn and takes
the first that speaks, so one generation failing its probe never hides the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .client import CoCalcClient
from .current import CurrentClient
from .errors import (
    CoCalcAPIError,
    CoCalcProtocolError,
    CoCalcRequestRejected,
    CoCalcUnavailable,
)
from .v1 import V1Client


@dataclass(frozen=True)
class Options:
    """What a client of either generation may need beyond its transport."""

    registration_token: str | None = None
    organization: str | None = None


def _speaks_current(client: CoCalcClient) -> bool:
    try:
        client.ping()
    except CoCalcAPIError:
        return True  # the hub answered in its own words (a bad key, say)
    except (CoCalcRequestRejected, CoCalcProtocolError):
        return False
    return True


def _speaks_v1(client: CoCalcClient) -> bool:
    try:
        client.ping()
    except CoCalcRequestRejected as exc:
        return exc.status == 400  # API v1 refusing the key: reported elsewhere, not here
    except CoCalcProtocolError:
        return False
    return True


@dataclass(frozen=True)
class Dialect:
    name: str
    make: Callable[[object, Options], CoCalcClient]
    #: True when the server speaks this generation, False when it does not; raises
    #: CoCalcUnavailable when it cannot be reached (or answers 5xx: then False is told).
    speaks: Callable[[CoCalcClient], bool]


DIALECTS: dict[str, Dialect] = {
    # The current API first: its ping is small and fast, while current CoCalc answers the
    # v1 ping with a large HTML 404, slowly when cold.
    "current": Dialect(
        "current",
        lambda transport, options: CurrentClient(transport, organization=options.organization),
        _speaks_current,
    ),
    "v1": Dialect(
        "v1",
        lambda transport, options: V1Client(
            transport, registration_token=options.registration_token
        ),
        _speaks_v1,
    ),
}


class UnknownDialect(ValueError):
    """A dialect name that is no entry of ``DIALECTS``."""


def named(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise UnknownDialect(
            f"no CoCalc API dialect {name!r} (known: {', '.join(DIALECTS)})"
        ) from None


def answered_otherwise(exc: CoCalcUnavailable) -> bool:
    """A 5xx or 429 is an answer of the server's (its web front end, a proxy), not silence:
    that generation is not served there, and the next may be."""
    return exc.status is not None
