"""Response headers for every page, and trust in reverse proxies where configured."""

from __future__ import annotations

import ipaddress
import re

from flask import Flask, request
from flask.sessions import SessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

# Every page but the embed page refuses to be framed; the embed view sets its own policy.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def embed_csp(cocalc_origin: str, frame_ancestors: list[str], script_hash: str = "") -> str:
    """Policy of the embed page: framed only by the host's origins, framing only CoCalc and
    requesting only the gateway and CoCalc (its sign-in); ``script_hash`` allows its import
    map (the one inline script)."""
    ancestors = " ".join(frame_ancestors) or "'none'"
    scripts = f"'self' {script_hash}" if script_hash else "'self'"
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self'; img-src 'self' data:; "
        f"frame-src {cocalc_origin}; connect-src 'self' {cocalc_origin}; object-src 'none'; "
        f"base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
    )


def framed_page_csp(frame_ancestors: list[str]) -> str:
    """Policy of a gateway message page shown inside a host's iframe."""
    return DEFAULT_CSP.replace(
        "frame-ancestors 'none'", "frame-ancestors " + " ".join(frame_ancestors)
    )


def forms_may_go_to(origins: list[str]) -> str:
    """The default policy, with forms that may also end at these origins (a form's redirect
    counts as its target: the SAML discovery page's choice redirects to the IdP)."""
    return DEFAULT_CSP.replace("form-action 'self'", " ".join(["form-action 'self'", *origins]))


class NoSessions(SessionInterface):
    """The gateway keeps no session: none is read or written, and none can be set by mistake
    (writing to ``flask.session`` raises). Opening Flask's cookie session on every request
    cost about 40 µs, an eighth of a bare request."""

    def open_session(self, app, request):
        return None  # Flask then hands out a NullSession

    def save_session(self, app, session, response):
        pass


FORWARDED = (
    "X_FORWARDED_FOR",
    "X_FORWARDED_PROTO",
    "X_FORWARDED_HOST",
    "X_FORWARDED_PORT",
    "X_FORWARDED_PREFIX",
)
SAFE_PREFIX = re.compile(r"^(/[A-Za-z0-9._~-]+)*/?$")
SAFE_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


class TrustedProxies:
    """Apply ``X-Forwarded-*`` only to requests from the configured proxies, and only values
    of the right shape: a client that reaches the gateway directly cannot claim another
    address (``/metrics`` trusts networks) or a prefix such as ``//evil.example``."""

    def __init__(self, app, hops: int, networks):
        self.app, self.networks = app, tuple(networks)
        self.fixed = ProxyFix(
            app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )

    def _trusted(self, environ) -> bool:
        try:
            peer = ipaddress.ip_address(environ.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        return any(peer in network for network in self.networks)

    def __call__(self, environ, start_response):
        if not self._trusted(environ):
            for name in FORWARDED:
                environ.pop(f"HTTP_{name}", None)
            return self.app(environ, start_response)
        prefix = environ.get("HTTP_X_FORWARDED_PREFIX")
        if prefix is not None and not all(SAFE_PREFIX.match(p.strip()) for p in prefix.split(",")):
            environ.pop("HTTP_X_FORWARDED_PREFIX")
        host = environ.get("HTTP_X_FORWARDED_HOST")
        if host is not None and not all(SAFE_HOST.match(h.strip()) for h in host.split(",")):
            environ.pop("HTTP_X_FORWARDED_HOST")
        return self.fixed(environ, start_response)


def init_app(app: Flask) -> None:
    app.session_interface = NoSessions()
    hops = int(app.config.get("GATEWAY_PROXY_FIX") or 0)
    if hops:
        app.wsgi_app = TrustedProxies(app.wsgi_app, hops, app.config["GATEWAY_TRUSTED_PROXIES"])

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.endpoint == "static":
            # Host pages import cocalc-embed.js (and its modules) across origins.
            response.headers["Access-Control-Allow-Origin"] = "*"
        else:
            response.headers.setdefault("Cache-Control", "no-store")
        return response
