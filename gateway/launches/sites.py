"""Whether a framed sign-in can work: sites, as browsers decide them for cookies.

CoCalc's sign-in cookie is ``SameSite=Strict`` unless CoCalc's operator set the site setting
``samesite_remember_me`` to ``none``, and many browsers block third-party cookies anyway. A
CoCalc frame is "third-party" when the top-level page (the host's) is on another *site*:
another scheme, or another registrable domain (example.edu for lms.example.edu) by the
Public Suffix List. ``tldextract`` has the list bundled; nothing is fetched at run time.

The list's algorithm is applied as browsers apply it, default rule included: a name under
a top-level domain the list does not know (``.test``, ``.internal``, ``.lan``, ``.corp``,
any intranet name) has its last label as public suffix (the rule ``*``), so
``lms.example.test`` and ``cocalc.example.test`` are one site, ``example.test``. IP
addresses and single-label names (``localhost``) are sites of their own. This module is
the one place that decides it: the embed page, ``doctor`` and ``hosts add`` ask here.
"""

from __future__ import annotations

import functools
import ipaddress
from urllib.parse import urlsplit

import tldextract

WORKS, MIGHT, CANNOT = "works", "might", "cannot"


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    # Browsers use the whole list, private suffixes (github.io) included; no network, ever.
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


def registrable_domain(host: str) -> str:
    """The host's registrable domain by the Public Suffix List's algorithm (with its default
    rule ``*``); an IP address or a single-label name is its own."""
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    found = _extractor()(host)
    if found.suffix:  # a listed rule matched (wildcards and exceptions included)
        return found.top_domain_under_public_suffix or host  # or: the host is a suffix itself
    labels = host.split(".")
    return ".".join(labels[-2:])  # the default rule: the last label is the public suffix


@functools.lru_cache(maxsize=1024)  # a handful of origins, asked on every embed page
def site(origin: str) -> str:
    """``scheme://registrable-domain`` of an origin or URL (schemeful, as browsers do)."""
    parts = urlsplit(origin)
    return f"{parts.scheme}://{registrable_domain(parts.hostname or '')}"


def framed_sign_in(top_origin: str, cocalc_origin: str, samesite: str) -> str:
    """Whether a CoCalc frame under ``top_origin`` gets CoCalc's sign-in cookie."""
    if site(top_origin) == site(cocalc_origin):
        return WORKS
    return MIGHT if samesite == "none" else CANNOT


ADVICE = {
    WORKS: "the notebook opens in the host's frame, signed in",
    MIGHT: "the browser decides: where it blocks third-party cookies, users get an "
    '"Open in a new tab" offer',
    CANNOT: 'every launch goes to "Open in a new tab": set CoCalc\'s samesite_remember_me '
    "to none (and COCALC_SAMESITE_REMEMBER_ME=none), or serve the host page under CoCalc's "
    "site ({cocalc_site})",
}


def advice(verdict: str, cocalc_origin: str) -> str:
    """What a verdict means for the host's users, and what to change when it is not good."""
    return ADVICE[verdict].format(cocalc_site=site(cocalc_origin).split("://", 1)[1])


def verdicts(host_origins, gateway_origin: str, cocalc_origin: str, samesite: str) -> dict:
    """For the embed page: the verdict under each host origin, and at top level (the
    gateway's own page, as a new tab opens it)."""
    return {
        "framed": {o: framed_sign_in(o, cocalc_origin, samesite) for o in host_origins},
        "topLevel": framed_sign_in(gateway_origin, cocalc_origin, samesite),
    }


def report(origins, gateway_origin: str, cocalc_origin: str, samesite: str) -> list[dict]:
    """For operators (``hosts add``, ``doctor``): each origin's verdict and what it means."""
    found = verdicts(origins, gateway_origin, cocalc_origin, samesite)["framed"]
    return [
        {"origin": o, "sign_in": v, "site": site(o), "advice": advice(v, cocalc_origin)}
        for o, v in found.items()
    ]
