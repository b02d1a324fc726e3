"""Who may sign a browser in without asking: the login-CSRF rule for every launch.

A launch signs its browser into the user's CoCalc account. Were any page able to start
one at top level, an attacker could sign a victim's browser into the attacker's own account
(with the attacker's own valid token or link) and read whatever the victim types. So a
launch signs in without asking only

- inside a frame (``Sec-Fetch-Dest: iframe``): the embed page's ``frame-ancestors`` lets
  only the host's origins show it, and a framed form POST must come from one of them; or
- at top level when the host's own page provably started it (a form POST whose ``Origin``
  is one of the host's), or the gateway's own page did (``Sec-Fetch-Site: same-origin``:
  the confirmation below, the new-tab handoff).

Any other top-level launch gets a page that shows whose account it is (name and e-mail)
and asks to continue; requests that are not navigations (fetch, images) are refused.
Browsers without Fetch Metadata send none of these headers: their launches go ahead, and
the embed page's script then signs in only when it is framed (or the page allows top level).
"""

from __future__ import annotations

import enum

FRAME_DESTINATIONS = ("iframe", "frame")


class Arrival(enum.Enum):
    FRAMED = "framed"  # inside a frame: frame-ancestors decides who shows it
    TOP_LEVEL = "top level"  # at top level, provably started by the host or the gateway
    CONFIRM = "confirm"  # at top level, started by anyone: ask, showing whose account
    REFUSED = "refused"  # not a navigation, or a framed POST from a stranger
    UNKNOWN = "unknown"  # no Fetch Metadata: the page's script checks framing itself


def judge(headers, method: str, host_origins) -> Arrival:
    """Say how a request to start a launch arrived."""
    dest = headers.get("Sec-Fetch-Dest")
    if dest is None:
        return Arrival.UNKNOWN
    origin = headers.get("Origin")
    if dest in FRAME_DESTINATIONS:
        if method == "POST" and origin not in (None, "null") and origin not in host_origins:
            return Arrival.REFUSED
        return Arrival.FRAMED
    if dest != "document":
        return Arrival.REFUSED
    if headers.get("Sec-Fetch-Site") == "same-origin":
        return Arrival.TOP_LEVEL
    if method == "POST" and origin in host_origins:
        return Arrival.TOP_LEVEL
    return Arrival.CONFIRM


def may_show(headers, top_level_allowed: bool) -> bool:
    """Whether an embed page may be served: framed, or at top level only where allowed."""
    dest = headers.get("Sec-Fetch-Dest")
    if dest is None or dest in FRAME_DESTINATIONS:
        return True
    return dest == "document" and top_level_allowed


def from_own_page(headers, gateway_origin: str) -> bool:
    """Whether a request was sent by one of the gateway's own pages (Fetch Metadata, or the
    ``Origin`` of a form POST where a browser sends no Fetch Metadata)."""
    site = headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    return headers.get("Origin") == gateway_origin
