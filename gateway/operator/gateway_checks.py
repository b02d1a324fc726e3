"""Checks of the gateway's own side: its public URL, its database, and a synthetic launch
of a throw-away user from start to the sign-in page, cleaned up afterwards."""

from __future__ import annotations

import contextlib
import functools
import secrets

import requests

from .. import hosts, provisioning
from ..cocalc import CoCalcError
from ..context import Gateway
from ..errors import GatewayError
from ..provisioning import lifecycle, revocations, tokens
from ..store import migrate, state
from .cocalc_checks import PROBE_TIMEOUT_S, https_on_443, is_loopback
from .findings import FAIL, OK, WARN, Finding


def public_url(gw: Gateway) -> Finding:
    url = gw.settings["GATEWAY_PUBLIC_URL"]
    if https_on_443(url):
        return Finding("gateway_https", OK, f"{url} is https on port 443")
    if is_loopback(url):
        return Finding("gateway_https", WARN, f"{url} is on this machine (fine for a demo)")
    return Finding(
        "gateway_https",
        FAIL,
        f"{url} is not https on port 443: CoCalc answers postMessage only to such pages",
        "serve the gateway over https on port 443 and set GATEWAY_PUBLIC_URL to it",
    )


@functools.cache
def _head() -> str:
    """The newest migration (read from its files once: readiness probes ask every time)."""
    return migrate.head()


def database(gw: Gateway) -> Finding:
    try:
        revision = migrate.current(gw.db.engine)
    except Exception as exc:  # any driver error: the database is not usable
        return Finding(
            "database",
            FAIL,
            f"cannot be reached ({type(exc).__name__})",
            "check DATABASE_URL and that the database server runs",
        )
    head = _head()
    if revision != head:
        return Finding(
            "database",
            FAIL,
            f"is at revision {revision}, not {head}",
            "run: cocalc-gateway db upgrade",
        )
    return Finding("database", OK, f"reachable, at revision {head}")


def proxy(gw: Gateway) -> Finding:
    """Requests that carry forwarding headers while no proxy is trusted: every client then
    looks like the proxy (often 127.0.0.1), and the gateway cannot tell them apart."""
    seen = state.load(gw.db, state.FORWARDED_WITHOUT_PROXY)
    hops = int(gw.settings.get("GATEWAY_PROXY_FIX") or 0)
    if hops == 0 and seen:
        return Finding(
            "proxy",
            FAIL,
            f"requests arrive with {seen['header']} (last at {seen['at']}), but no proxy is "
            "trusted: every client looks like the proxy's address",
            "set GATEWAY_PROXY_FIX to the number of proxies in front and "
            "GATEWAY_TRUSTED_PROXIES to their networks",
        )
    if hops:
        return Finding("proxy", OK, f"{hops} trusted proxy hop(s) in front")
    return Finding("proxy", OK, "no proxy in front, and no request said otherwise")


def _sign_in_page(gw: Gateway, user_id: int, account_id: str, project_id: str) -> str:
    token = tokens.ensure(gw, user_id, account_id)
    sign_in = gw.cocalc.browser_sign_in(token.token, project_id, "")
    url = sign_in.sign_in_url or sign_in.kiosk_url
    try:
        # Cookieless, like every call of the gateway's; the page's answer is what counts.
        reply = requests.get(url, timeout=PROBE_TIMEOUT_S, allow_redirects=False)
    finally:
        if tokens.revocation_enabled(gw):
            revocations.revoke(gw, token.token)
    if reply.status_code not in (200, 302) or "error" in reply.text[:300].lower():
        raise CoCalcError(f"the sign-in page answered HTTP {reply.status_code}", endpoint="sign-in")
    return url.split("?", 1)[0]


def synthetic_launch(gw: Gateway) -> Finding:
    """Provision a throw-away user of a throw-away host, reach the sign-in page, erase both."""
    name = "doctor-" + secrets.token_hex(4)
    host, _ = hosts.add(gw, f"{name} (temporary, cocalc-gateway doctor)", [])
    step = "provisioning"
    try:
        ready = provisioning.provision(gw, host, provisioning.UserProfile(name), with_token=False)
        step = "the sign-in page"
        page = _sign_in_page(gw, ready.user_id, ready.account_id, ready.project_id)
    except (GatewayError, CoCalcError) as exc:
        detail = getattr(exc, "message", None) or str(exc)
        return Finding(
            "synthetic_launch",
            FAIL,
            f"a launch failed at {step}: {detail}",
            "fix the failures above first; then see the gateway's log",
        )
    finally:
        kept = _clean_up(gw, host.id, name)
    if kept:  # never "erased" when something stays (API v1 keeps accounts)
        return Finding(
            "synthetic_launch",
            OK,
            f"a throw-away user reached {page}; left in CoCalc: " + "; ".join(kept),
        )
    return Finding("synthetic_launch", OK, f"a throw-away user reached {page} (and was erased)")


def _clean_up(gw: Gateway, host_id: str, name: str) -> list[str]:
    """Erase the throw-away user and host; what stays in CoCalc is said."""
    kept = ["the throw-away user (CoCalc could not be asked)"]
    # Nothing was made, or CoCalc is down: the host's removal still goes ahead.
    with contextlib.suppress(GatewayError, CoCalcError):
        kept = lifecycle.erase(gw, host_id, name)["kept_in_cocalc"]
    hosts.remove(gw, host_id, purge=True)
    return kept
