"""Whether a framed sign-in can work: sites, as browsers decide them for cookies.

A CoCalc frame is "third-party" when the top-level page (the host's) is on another *site*:
another scheme, or another registrable domain (example.edu for lms.example.edu) by the
Public Suffix List. ``tldextract`` has the list bundled; nothing is fetched at run time.
What CoCalc's own cookies allow then depends on its generation (each read in its source):

- **The current API** signs in with two cookies (``server/auth/set-sign-in-cookies.ts``):
  ``remember_me`` (``SameSite=Strict``, or ``None`` where the site setting
  ``samesite_remember_me`` says so) and ``account_id``, which has no SameSite (Lax) and
  which the front end goes by (``frontend/client/client.ts``). A frame under another site
  never stores ``account_id``: it **cannot** sign in, whatever ``samesite_remember_me``
  says (0 of 7 such launches did, with it at ``none`` and third-party cookies allowed).
- **The v1-era build** has no such setting and no ``account_id`` cookie: ``remember_me`` is
  always ``SameSite=None; Secure``. A frame under another site **might** sign in: where the
  browser allows third-party cookies.

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


def framed_sign_in(top_origin: str, cocalc_origin: str, dialect: str) -> str:
    """Whether a CoCalc frame under ``top_origin`` can be signed in, by CoCalc's generation
    (``dialect``; "auto" while it is not known counts as the current API)."""
    if site(top_origin) == site(cocalc_origin):
        return WORKS
    return MIGHT if dialect == "v1" else CANNOT


ADVICE = {
    WORKS: "the notebook opens in the host's frame, signed in",
    MIGHT: "the browser decides: where it blocks third-party cookies, users get an "
    '"Open in a new tab" offer',
    CANNOT: 'every launch goes to the new tab at once ("Open in a new tab", or the LMS\'s '
    "full window): CoCalc's front end needs its account_id cookie, which no browser keeps "
    "in a frame under another site; to open notebooks in the frame, serve the host page "
    "under CoCalc's site ({cocalc_site})",
}


def advice(verdict: str, cocalc_origin: str) -> str:
    """What a verdict means for the host's users, and what to change when it is not good."""
    return ADVICE[verdict].format(cocalc_site=site(cocalc_origin).split("://", 1)[1])


def verdicts(host_origins, gateway_origin: str, cocalc_origin: str, dialect: str) -> dict:
    """For the embed page: the verdict under each host origin, and at top level (the
    gateway's own page, as a new tab opens it)."""
    return {
        "framed": {o: framed_sign_in(o, cocalc_origin, dialect) for o in host_origins},
        "topLevel": framed_sign_in(gateway_origin, cocalc_origin, dialect),
    }


def report(origins, gateway_origin: str, cocalc_origin: str, dialect: str) -> list[dict]:
    """For operators (``hosts add``, ``doctor``): each origin's verdict and what it means."""
    found = verdicts(origins, gateway_origin, cocalc_origin, dialect)["framed"]
    return [
        {"origin": o, "sign_in": v, "site": site(o), "advice": advice(v, cocalc_origin)}
        for o, v in found.items()
    ]
