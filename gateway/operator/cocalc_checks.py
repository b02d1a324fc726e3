"""Checks of the CoCalc side: reachable over https with a trusted certificate, the dialect,
an admin's key, and the site settings embedding needs (read with that key)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import requests

from .. import hosts
from ..cocalc import CoCalcError
from ..context import Gateway
from ..launches import sites
from ..provisioning import first_projects as first_projects_of
from .findings import FAIL, OK, SKIP, WARN, Finding

PROBE_TIMEOUT_S = 10
PATIENT_TIMEOUT_S = 30


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def https_on_443(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and parts.port in (None, 443)


def patiently(send):
    """Send once; after a read timeout, once more with a longer one: a hub that just
    restarted may take over 10 s to answer its first request, and answers the next."""
    try:
        return send(PROBE_TIMEOUT_S)
    except requests.exceptions.ReadTimeout:
        return send(PATIENT_TIMEOUT_S)


def reachable(gw: Gateway) -> Finding:
    url = gw.settings["COCALC_URL"]
    try:
        patiently(lambda seconds: requests.get(url, timeout=seconds, allow_redirects=False))
    except requests.exceptions.SSLError:
        return Finding(
            "cocalc_https",
            FAIL,
            f"{url} answers with a certificate the gateway does not trust",
            "give the gateway CoCalc's CA: REQUESTS_CA_BUNDLE=/path/to/ca.pem",
        )
    except requests.RequestException as exc:
        return Finding(
            "cocalc_https",
            FAIL,
            f"{url} cannot be reached ({type(exc).__name__})",
            "check COCALC_URL, the network and CoCalc's proxy",
        )
    if https_on_443(url):
        return Finding("cocalc_https", OK, f"{url} answers over https")
    if is_loopback(url):
        return Finding(
            "cocalc_https", WARN, f"{url} is plain http on this machine (fine for a simulator)"
        )
    return Finding(
        "cocalc_https",
        FAIL,
        f"{url} is not https on port 443: browsers and CoCalc's cookies need it",
        "serve CoCalc over https behind a proxy that passes websockets and X-Forwarded-Proto",
    )


def dialect(gw: Gateway) -> Finding:
    """Which generation of CoCalc's API answers: each one's probe is named when none does."""
    configured = gw.settings.get("COCALC_API_DIALECT") or "auto"
    try:
        client = gw.connector.wait_for_client(PROBE_TIMEOUT_S)
        client.ping()
    except CoCalcError as exc:
        if configured != "auto":
            return Finding(
                "dialect",
                FAIL,
                f"CoCalc does not answer the {configured} API that COCALC_API_DIALECT names "
                f"({exc.message})",
                "set COCALC_API_DIALECT=auto: the gateway finds the one CoCalc speaks",
            )
        tried = gw.connector.last_detection or {}
        found = "; ".join(f"{name}: {what}" for name, what in tried.items())
        return Finding(
            "dialect",
            FAIL,
            f"CoCalc's API generation could not be found ({found or exc.message})",
            "see cocalc_https; COCALC_URL must be CoCalc's own base URL",
            facts={"probes": tried},
        )
    return Finding(
        "dialect", OK, f"CoCalc speaks the {client.dialect} API", facts={"dialect": client.dialect}
    )


def admin_key(gw: Gateway, settings: dict | None) -> Finding:
    """An admin's key: the current API can tell by itself; on API v1, reading the site
    settings (admins only) is the proof."""
    try:
        is_admin = gw.connector.key_is_admin()
    except CoCalcError:
        is_admin = None
    if is_admin is None and settings is not None:
        is_admin = True
    if is_admin:
        return Finding("api_key", OK, "the API key is a site admin's")
    if is_admin is False or settings is None:
        return Finding(
            "api_key",
            FAIL,
            "the API key is not a site admin's (CoCalc refused an admin-only call)",
            "make the key's account an admin (`make-user-admin`, or groups='{admin}' in "
            "CoCalc's database) or use an admin's key; `cocalc-gateway connect` gets one",
        )
    return Finding("api_key", WARN, "whether the key is an admin's could not be told")


def read_settings(gw: Gateway) -> tuple[dict | None, Finding]:
    try:
        found = gw.cocalc.site_settings()
    except CoCalcError as exc:
        return None, Finding(
            "site_settings",
            FAIL,
            f"CoCalc's site settings cannot be read ({exc})",
            "an admin's API key can read them",
        )
    return found, Finding("site_settings", OK, f"read {len(found)} site settings that were set")


def _allows(entries: list[str], host: str) -> bool:
    return any(host == e or (e.startswith(".") and host.endswith(e)) for e in entries)


def iframe_comm_hosts(gw: Gateway, settings: dict | None) -> Finding:
    host = urlsplit(gw.settings["GATEWAY_PUBLIC_URL"]).hostname
    if settings is None:
        return Finding("iframe_comm_hosts", SKIP, "the site settings could not be read")
    entries = settings.get("iframe_comm_hosts", "").replace(",", " ").split()
    if _allows(entries, host):
        return Finding("iframe_comm_hosts", OK, f"lists {host}: CoCalc answers the bridge")
    return Finding(
        "iframe_comm_hosts",
        FAIL,
        f"does not list {host}: CoCalc's kiosk pages ignore the gateway's commands",
        f"add {host} to CoCalc's iframe_comm_hosts (takes effect within seconds)",
        fix=("iframe_comm_hosts", " ".join([*entries, host])),
    )


def _origin(value: str) -> str:
    value = value.strip().rstrip("/")
    return value if "://" in value else "https://" + value if value else ""


def dns(gw: Gateway, settings: dict | None) -> Finding:
    if settings is None:
        return Finding("dns", SKIP, "the site settings could not be read")
    want, have = _origin(gw.settings["COCALC_URL"]), _origin(settings.get("dns", ""))
    if have == want:
        return Finding("dns", OK, f"is {want}")
    if not have:
        return Finding(
            "dns",
            FAIL,
            "is empty: CoCalc's sign-in redirects to a broken https:/app",
            f"set dns to {want}, then restart CoCalc's hub",
            fix=("dns", want),
            restart=True,
        )
    return Finding(
        "dns",
        FAIL,
        f"is {have}, but the gateway sends browsers to {want}",
        "make COCALC_URL CoCalc's public URL, or correct dns and restart the hub",
    )


def framed_sign_in(gw: Gateway, settings: dict | None) -> Finding:
    """Whether a CoCalc frame can sign in under each host origin, by CoCalc's generation
    (``launches.sites``): the page decides the same way, so this says what users get."""
    dialect = gw.connector.wait_for_client(PROBE_TIMEOUT_S).dialect
    samesite = (settings or {}).get("samesite_remember_me") or "strict"
    origins = sorted({o for h in hosts.all_hosts(gw) for o in h.origins})
    facts = {"dialect": dialect, "samesite_remember_me": samesite}
    if not origins:
        return Finding(
            "framed_sign_in",
            WARN,
            "no host yet, so nothing to check",
            "add a host (`cocalc-gateway hosts add`), which says whether its pages can sign in",
            facts=facts,
        )
    gateway_origin = sites_origin(gw.settings["GATEWAY_PUBLIC_URL"])
    cocalc_origin = sites_origin(gw.settings["COCALC_URL"])
    verdicts = sites.verdicts(origins, gateway_origin, cocalc_origin, dialect)
    facts["verdicts"] = verdicts
    cannot = [o for o, v in verdicts["framed"].items() if v == sites.CANNOT]
    might = [o for o, v in verdicts["framed"].items() if v == sites.MIGHT]
    if dialect != "v1" and samesite == "none":
        return Finding(
            "framed_sign_in",
            WARN,
            "CoCalc's samesite_remember_me is none, which weakens its sign-in cookie and still "
            "makes no frame under another site sign in (its account_id cookie is Lax)",
            "set samesite_remember_me back to strict; hosts on another site get the new tab",
            facts=facts,
        )
    if cannot:
        return Finding(
            "framed_sign_in",
            WARN,
            "under " + ", ".join(cannot) + " CoCalc cannot sign in inside the frame: those "
            "launches go to the new tab (or the LMS's full window) at once",
            sites.advice(sites.CANNOT, cocalc_origin),
            facts=facts,
        )
    if might:
        return Finding(
            "framed_sign_in",
            WARN,
            "under " + ", ".join(might) + " the browser decides (third-party cookies); users "
            'whose browser blocks them get an "Open in a new tab" offer',
            "serve those sites under CoCalc's site for a framed sign-in that always works",
            facts=facts,
        )
    return Finding(
        "framed_sign_in", OK, "every host's origin is on CoCalc's site: frames sign in", facts=facts
    )


def sites_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def first_projects(gw: Gateway) -> Finding:
    """ "My First Project" of the gateway's accounts: the ones CoCalc runs still."""
    if not gw.connector.wait_for_client(PROBE_TIMEOUT_S).signup_makes_a_project:
        return Finding("first_projects", OK, "this CoCalc's sign-up makes no project")
    running = first_projects_of.running(gw)
    if running:
        return Finding(
            "first_projects",
            WARN,
            f"{len(running)} first project(s) of gateway accounts are running: "
            + ", ".join(running[:5]),
            "`cocalc-gateway db housekeeping` stops them again (it runs every few minutes)",
            facts={"running": running},
        )
    return Finding("first_projects", OK, "no first project of a gateway account is running")
