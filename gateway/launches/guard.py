"""Who may sign a browser in: the login-CSRF rule and the page binding, in one place.

A launch ends on an embed page that signs its browser into the user's CoCalc account. Two
attacks follow from that. An attacker who gets a victim's browser to open *his* page signs
the victim into the attacker's account and reads what the victim types (login CSRF); and
whoever opens *someone else's* page from a leaked or forwarded URL gets that person's
CoCalc session. Headers that a client sends prove nothing about which browser it is (a
plain HTTP client sets ``Origin`` and ``Sec-Fetch-*`` as it likes), and a page key is a
bearer secret. So:

- Pages are typed by where they may be shown (``Place``). A **framed** page works only
  inside a frame, where ``frame-ancestors`` lets only the host's origins show it. A
  **top-level** page is bound, when it is issued, to the browser that received it: a
  first-party ``Secure; HttpOnly`` cookie set in the same response that issues the key,
  whose digest is stored with the page. It signs in only where that cookie comes back, and
  it hands out its sign-in once. An **SSO** page lives only under the sign-in session that
  opened it (``/sso/notebook/<key>``, never ``/embed/<key>``).
- A launch gets a top-level page (``judge``) only when the host's own page posted it
  there (a form POST whose ``Origin`` is the host's), or when the gateway's own page did:
  same-origin Fetch Metadata (or ``Origin`` where a browser sends none) **and** a proof
  that only that page holds (``keys.proof``: the confirmation page's "continue", the
  new-tab offer). Forged headers do not help anyone else: the binding cookie lands in the
  client that sent them.
- Any other top-level launch gets a confirmation page that shows whose account it is;
  requests that are not navigations (fetch, images) are refused. A top-level page opened
  in a browser without its binding gets a page that names the account and never the
  sign-in. Browsers without Fetch Metadata send none of these headers: their launches go
  ahead as framed pages, and the embed page's script signs in only when it is framed.
"""

from __future__ import annotations

import enum

FRAME_DESTINATIONS = ("iframe", "frame")
#: The binding cookie of a top-level page (one per page: its path is the page's own URL).
BINDING_COOKIE = "gw_page"


class Place(enum.Enum):
    """Where a page may be shown: stored as the page's ``kind``."""

    FRAMED = "embed"  # inside the host's frame only
    TOP = "top"  # at top level, in the browser it is bound to
    SSO = "sso"  # at top level, under the sign-in session that opened it


#: The kinds of ``Launch`` rows that are pages (``handoff`` rows are one-time links).
PAGE_KINDS = tuple(place.value for place in Place)


class Arrival(enum.Enum):
    FRAMED = "framed"  # inside a frame: frame-ancestors decides who shows it
    TOP_LEVEL = "top level"  # at top level, provably started by the host or the gateway
    CONFIRM = "confirm"  # at top level, started by anyone: ask, showing whose account
    REFUSED = "refused"  # not a navigation, or a framed POST from a stranger
    UNKNOWN = "unknown"  # no Fetch Metadata: the page's script checks framing itself


def judge(headers, method: str, host_origins, *, gateway_origin: str, proven: bool) -> Arrival:
    """Say how a request to start a launch arrived.

    ``proven``: the request carries the proof of the gateway page it claims to come from.
    """
    dest = headers.get("Sec-Fetch-Dest")
    origin = headers.get("Origin")
    if dest in FRAME_DESTINATIONS:
        if method == "POST" and origin not in (None, "null") and origin not in host_origins:
            return Arrival.REFUSED
        return Arrival.FRAMED
    if dest not in (None, "document"):
        return Arrival.REFUSED
    if proven and method == "POST" and from_own_page(headers, gateway_origin):
        return Arrival.TOP_LEVEL
    if dest is None:
        return Arrival.UNKNOWN
    if method == "POST" and origin in host_origins:
        return Arrival.TOP_LEVEL
    return Arrival.CONFIRM


def place_of(arrival: Arrival) -> Place:
    """The page a launch that arrived so gets."""
    return Place.TOP if arrival is Arrival.TOP_LEVEL else Place.FRAMED


class Admission(enum.Enum):
    SIGN_IN = "sign in"  # show the page with its sign-in
    SIGNED_IN = "signed in"  # show the page; its sign-in was handed out already (a reload)
    NOT_FRAMED = "not framed"  # a framed page opened at top level
    OTHER_BROWSER = "other browser"  # a top-level page without this browser's binding


def admit(place: Place, headers, *, bound: bool, first_view: bool) -> Admission:
    """Whether a page may be shown to this request, and with its sign-in or without.

    ``bound``: the request carries the page's binding (its cookie, or for an SSO page the
    session that opened it). ``first_view``: no view of the page has had its sign-in yet.
    """
    if place is Place.FRAMED:
        dest = headers.get("Sec-Fetch-Dest")
        if dest is None or dest in FRAME_DESTINATIONS:
            return Admission.SIGN_IN
        return Admission.NOT_FRAMED
    if not bound:
        return Admission.OTHER_BROWSER
    return Admission.SIGN_IN if first_view else Admission.SIGNED_IN


def from_own_page(headers, gateway_origin: str) -> bool:
    """Whether a request says it was sent by one of the gateway's own pages (Fetch Metadata,
    or the ``Origin`` of a form POST where a browser sends no Fetch Metadata). A client can
    say so falsely: on its own this only keeps other sites' pages out."""
    site = headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    return headers.get("Origin") == gateway_origin
