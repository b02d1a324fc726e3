"""Whether a framed sign-in can work: sites, as browsers decide them for cookies.

CoCalc's sign-in cookie is ``SameSite=Strict`` unless CoCalc's operator set the site setting
``samesite_remember_me`` to ``none``, and many browsers block third-party cookies anyway. A
CoCalc frame is "third-party" when the top-level page (the host's) is on another *site*:
another scheme, or another registrable domain (example.edu for lms.example.edu) by the
Public Suffix List. ``tldextract`` has the list bundled; nothing is fetched at run time.
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


@functools.lru_cache(maxsize=1024)  # a handful of origins, asked on every embed page
def site(origin: str) -> str:
    """``scheme://registrable-domain`` of an origin or URL (an IP or a bare name: itself)."""
    parts = urlsplit(origin)
    host = (parts.hostname or "").lower()
    try:
        ipaddress.ip_address(host)
        return f"{parts.scheme}://{host}"
    except ValueError:
        pass
    found = _extractor()(host)
    return f"{parts.scheme}://{found.top_domain_under_public_suffix or host}"


def framed_sign_in(top_origin: str, cocalc_origin: str, samesite: str) -> str:
    """Whether a CoCalc frame under ``top_origin`` gets CoCalc's sign-in cookie."""
    if site(top_origin) == site(cocalc_origin):
        return WORKS
    return MIGHT if samesite == "none" else CANNOT


def verdicts(host_origins, gateway_origin: str, cocalc_origin: str, samesite: str) -> dict:
    """For the embed page: the verdict under each host origin, and at top level (the
    gateway's own page, as a new tab opens it)."""
    return {
        "framed": {o: framed_sign_in(o, cocalc_origin, samesite) for o in host_origins},
        "topLevel": framed_sign_in(gateway_origin, cocalc_origin, samesite),
    }
