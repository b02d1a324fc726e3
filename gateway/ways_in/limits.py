"""Limits on sign-ins: one that a client may spend of its own, and one per host that only
verified sign-ins spend.

``/lti/login`` and ``/sso/<host>/login`` answer anyone, and write nothing (their states are
signed, not stored: ``states``). A client address may still start only
``GATEWAY_LOGIN_RATE_LIMIT`` sign-ins a minute (a whole class behind one NAT starts one
each; raise it for a bigger class): it spends its own budget and nobody else's.

A host's budget, ``GATEWAY_LOGINS_PER_HOST`` sign-ins in 10 minutes, counts only sign-ins
that its platform or identity provider verified (a launch whose ``id_token`` checked out,
a callback whose code the provider exchanged): a stranger cannot spend it, so no group of
anonymous clients can lock a host's users out. It holds a misbehaving platform (a loop of
launches) to a rate CoCalc can take. Both counts live in the database every instance
shares.
"""

from __future__ import annotations

from datetime import timedelta

from ..context import Gateway
from ..errors import N_, TooManyRequests
from ..store import rate_limits

CLIENT_WINDOW = timedelta(minutes=1)
HOST_WINDOW = timedelta(minutes=10)


def sign_in_started(gw: Gateway, client_address: str | None) -> None:
    """Count a sign-in a client starts; TooManyRequests when the client is over its limit."""
    per_client = int(gw.settings["GATEWAY_LOGIN_RATE_LIMIT"])
    bucket = rate_limits.client_bucket("sign-in", client_address)
    if not rate_limits.hit(gw.db, bucket, limit=per_client, window=CLIENT_WINDOW):
        raise TooManyRequests(
            N_("too many sign-ins from this network in the last minute; try again in a minute"),
            retry_after=int(CLIENT_WINDOW.total_seconds()),
        )


def sign_in_verified(gw: Gateway, host_id: str) -> None:
    """Count a sign-in of ``host_id`` that its platform or provider verified."""
    per_host = int(gw.settings["GATEWAY_LOGINS_PER_HOST"])
    if not rate_limits.hit(gw.db, f"sign-ins-of:{host_id}", limit=per_host, window=HOST_WINDOW):
        raise TooManyRequests(
            N_("this site has too many sign-ins at once; try again in a few minutes"),
            retry_after=int(HOST_WINDOW.total_seconds()),
        )


def purge(gw: Gateway) -> int:
    return rate_limits.purge(gw.db)
