"""Who may sign a browser in: the login-CSRF rule and the page binding, in one place.

A launch ends on an embed page that signs its browser into the user's CoCalc account. Two
attacks follow from that. An attacker who gets a victim's browser to open *his* page signs
the victim into the attacker's account and reads what the victim types (login CSRF); and
whoever opens *someone else's* page from a leaked URL ("Copy frame address", devtools, a
HAR file sent to support) gets that person's CoCalc session. Headers that a client sends
prove nothing about which browser it is (a plain HTTP client sets ``Origin`` and
``Sec-Fetch-*`` as it likes), and a page key is a bearer secret. So:

- **Every page is bound to the browser that got it.** The response that issues a page key
  also sets a cookie of that page's own (``__Host-gw_page_<id>``: ``Secure``, ``HttpOnly``,
  ``Path=/``, no ``Domain``, so no sibling subdomain can set or toss it), whose digest is
  stored with the page. A framed page's cookie is ``SameSite=None; Partitioned``: the
  browser keeps it inside the host's frame even where it blocks third-party cookies
  (CHIPS), and in that frame only. A top-level page's is ``SameSite=Lax``. A page shows,
  with its sign-in, only where its cookie comes back; so does every action under
  ``/embed/<key>/…`` (``showing.act``).
- **A frame that no cookie reaches** (a browser that blocks every third-party cookie,
  partitioned ones included) still opens its page **once**, in the minute after it was
  issued (the browser follows the redirect at once): the first view is claimed in one
  UPDATE, and shows no sign-in, only the way to a new tab (where cookies are first-party).
  Whoever comes with the URL later gets nothing.
- Pages are typed by where they may be shown (``Place``): a **framed** page only in a
  frame (``frame-ancestors`` lets only the host's origins show it), a **top-level** page
  only at top level, an **SSO** page only under the sign-in session that opened it
  (``/sso/notebook/<key>``, never ``/embed/<key>``).
- A launch gets a top-level page (``judge``) only when the host's own page posted it
  there (a form POST whose ``Origin`` is the host's), or when the gateway's own page did:
  same-origin Fetch Metadata (or ``Origin`` where a browser sends none) **and** a proof
  that only that page holds (the confirmation page's "continue", a new-tab ticket). Forged
  headers do not help anyone else: the binding cookie lands in the client that sent them.
- Any other top-level launch gets a confirmation page that shows whose account it is;
  requests that are not navigations (fetch, images) are refused. A page opened in a
  browser without its binding gets a page that names the account and never the sign-in.
"""

from __future__ import annotations

import enum
from datetime import timedelta

from ..support.keys import digest

FRAME_DESTINATIONS = ("iframe", "frame")
#: The binding cookie of a page: the prefix, then the page's own id (``page_cookie``).
PAGE_COOKIE_PREFIX = "__Host-gw_page_"
#: A browser keeps at most this many page cookies: issuing one more drops the oldest, so
#: a browser that opens many pages never sends an oversized ``Cookie`` header.
MAX_PAGE_COOKIES = 12
#: How soon after it was issued a page that no cookie reaches may have its one view.
ONCE_WITHIN = timedelta(minutes=1)


#: A signed-in session of one host (the SSO way in): its pages are bound to it.
SESSION_COOKIE_PREFIX = "__Host-gw_session_"


def page_cookie(key: str) -> str:
    """The name of page ``key``'s binding cookie (a prefix of its digest: no secret)."""
    return PAGE_COOKIE_PREFIX + digest(key)[:16]


def session_cookie(host_id: str) -> str:
    """The session cookie of one host (host ids are ``host_<16 hex digits>``)."""
    return SESSION_COOKIE_PREFIX + host_id.removeprefix("host_")


class Place(enum.Enum):
    """Where a page may be shown: stored as the page's ``kind``."""

    FRAMED = "embed"  # inside the host's frame only
    TOP = "top"  # at top level
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
    SIGN_IN = "sign in"  # show the page, with its sign-in while it holds one
    ONCE = "once"  # a frame no cookie reaches: its one view, no sign-in, the new tab
    NOT_FRAMED = "not framed"  # a framed page opened at top level
    OTHER_BROWSER = "other browser"  # without this page's binding


def admit(place: Place, headers, *, bound: bool, presented: bool, unviewed: bool) -> Admission:
    """Whether a page may be shown to this request, and how.

    ``bound``: the request carries the page's binding (its cookie, or for an SSO page the
    session that opened it); ``presented``: it carries a binding cookie at all (a wrong
    one is another browser's); ``unviewed``: nobody has been shown the page yet.
    """
    if place is Place.FRAMED:
        dest = headers.get("Sec-Fetch-Dest")
        if dest is not None and dest not in FRAME_DESTINATIONS:
            return Admission.NOT_FRAMED
        if bound:
            return Admission.SIGN_IN
        if not presented and unviewed:
            return Admission.ONCE
        return Admission.OTHER_BROWSER
    return Admission.SIGN_IN if bound else Admission.OTHER_BROWSER


def from_own_page(headers, gateway_origin: str) -> bool:
    """Whether a request says it was sent by one of the gateway's own pages (Fetch Metadata,
    or the ``Origin`` of a form POST where a browser sends no Fetch Metadata). A client can
    say so falsely: on its own this only keeps other sites' pages out."""
    site = headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    return headers.get("Origin") == gateway_origin
