"""Limits on the anonymous endpoints that write rows: the sign-ins a client may start, and
the sign-ins one host may have in progress.

``/lti/login`` and ``/sso/<host>/login`` answer anyone, and each records an exchange that
lives minutes. Without limits a loop of them fills the database. A client address may start
``GATEWAY_LOGIN_RATE_LIMIT`` sign-ins a minute (a whole class behind one NAT starts one
each; raise it for a bigger class); a host may start ``GATEWAY_LOGINS_PER_HOST`` in the
lifetime of a sign-in (10 minutes). Both counts live in the database every instance shares.
"""

from __future__ import annotations

from datetime import timedelta

from ..context import Gateway
from ..errors import TooManyRequests
from ..store import rate_limits
from ..support.housekeeping import task

CLIENT_WINDOW = timedelta(minutes=1)
HOST_WINDOW = timedelta(minutes=10)


def sign_in_started(gw: Gateway, client_address: str | None, host_id: str) -> None:
    """Count a sign-in that is about to be recorded; TooManyRequests when over a limit."""
    per_client = int(gw.settings["GATEWAY_LOGIN_RATE_LIMIT"])
    bucket = rate_limits.client_bucket("sign-in", client_address)
    if not rate_limits.hit(gw.db, bucket, limit=per_client, window=CLIENT_WINDOW):
        raise TooManyRequests(
            "too many sign-ins from this network in the last minute; try again in a minute",
            retry_after=int(CLIENT_WINDOW.total_seconds()),
        )
    per_host = int(gw.settings["GATEWAY_LOGINS_PER_HOST"])
    if not rate_limits.hit(gw.db, f"sign-ins-of:{host_id}", limit=per_host, window=HOST_WINDOW):
        raise TooManyRequests(
            "this site has too many sign-ins in progress; try again in a few minutes",
            retry_after=int(HOST_WINDOW.total_seconds()),
        )


@task("purge rate counts")
def purge(gw: Gateway) -> int:
    return rate_limits.purge(gw.db)
