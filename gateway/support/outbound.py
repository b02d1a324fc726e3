"""Calls from the gateway to a host's services: an LMS or an identity provider (key sets,
token endpoints, grades, rosters, configuration and discovery documents).

Their URLs come from LMS administrators, from platforms' own documents, and for Dynamic
Registration from whoever holds a registration code: the gateway must not be anyone's
fetcher of its own network. So every call here, through one client (``Outbound``):

- goes only to addresses that the policy allows, checked after DNS resolution, on the
  address the connection really uses (a name that resolves to a public address at the check
  and to ``10.0.0.1`` at the connect cannot slip through): in production (a public
  ``GATEWAY_PUBLIC_URL``) private, loopback, link-local and other non-global addresses are
  refused unless ``GATEWAY_OUTBOUND_ALLOW`` names the host or its network;
- follows no redirect (a redirect would be a new, unchecked URL);
- ends within ``GATEWAY_OUTBOUND_DEADLINE`` seconds in all, however slowly the other side
  drips its answer, and reads at most ``checked_http.MAX_BYTES``;
- keeps and sends no cookie; and fails with one message per service, whatever went wrong
  (an open port and a closed one look alike), the details going to the log only.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests

from ..errors import N_, BadGateway, BadRequest
from .checked_http import Adapter, Call
from .cookieless import NoCookies

log = logging.getLogger(__name__)

MAX_URL = 2048
MAX_HOPS = 3
#: The one message of every failure (an open port and a closed one look alike).
LOOPBACK_NAMES = ("localhost",)


def _is_loopback(hostname: str) -> bool:
    if hostname in LOOPBACK_NAMES or hostname.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def check_url(url, name: str) -> str:
    """An absolute https URL (http only on a loopback address, for local testing)."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise BadRequest(
            N_("%(name)s must be a URL of at most %(max_url)s characters"),
            field=name,
            name=name,
            max_url=MAX_URL,
        )
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in ("https", "http") or parts.username:
        raise BadRequest(N_("%(name)s must be an absolute https URL"), field=name, name=name)
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise BadRequest(
            N_("%(name)s must use https (http only on localhost)"), field=name, name=name
        )
    return url


# -- which addresses may be called -------------------------------------------------------------
@dataclass(frozen=True)
class Policy:
    """Where outbound calls may go, and how long they may take."""

    #: Only global addresses (production); False where the gateway itself is on loopback.
    global_only: bool
    allowed_hosts: frozenset = frozenset()
    allowed_networks: tuple = ()
    deadline_s: float = 5.0

    @classmethod
    def from_settings(cls, settings: dict) -> Policy:
        hosts, networks = set(), []
        for item in str(settings.get("GATEWAY_OUTBOUND_ALLOW") or "").split(","):
            item = item.strip().lower()
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.rstrip("."))
        public = urlsplit(settings.get("GATEWAY_PUBLIC_URL") or "").hostname or ""
        return cls(
            global_only=not _is_loopback(public),
            allowed_hosts=frozenset(hosts),
            allowed_networks=tuple(networks),
            deadline_s=float(settings.get("GATEWAY_OUTBOUND_DEADLINE") or 5.0),
        )

    def allows(self, host: str, address: str) -> bool:
        """Whether a connection to ``host`` may use the resolved ``address``."""
        if not self.global_only or host.lower().rstrip(".") in self.allowed_hosts:
            return True
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if any(ip in network for network in self.allowed_networks):
            return True
        return ip.is_global and not ip.is_multicast


class Outbound:
    """The client of every call to an LMS or identity provider (one per app)."""

    def __init__(self, policy: Policy):
        self.policy = policy

    @contextmanager
    def session(self, what: str, http: requests.Session | None = None, *, hops: bool = False):
        """A requests session (or ``http``, e.g. authlib's OAuth2Session) whose calls go
        through this policy: checked addresses, no cookies, one deadline, and no redirect
        (``hops``: the caller follows them itself, checking each). ``what`` names the call
        in the log."""
        call = Call(self.policy)
        http = http or requests.Session()
        http.cookies.set_policy(NoCookies())
        http.headers["User-Agent"] = "cocalc-gateway"
        if not hops:
            http.hooks["response"].append(_refuse_redirect)
        # Direct connections only: a proxy would connect for us, past the address check.
        http.trust_env = False
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            http.verify = bundle
        adapter = Adapter(call)
        http.mount("http://", adapter)
        http.mount("https://", adapter)
        try:
            yield http
        except requests.RequestException as exc:
            _log_failure(what, call, exc)
            raise
        finally:
            call.close()
            adapter.close()

    def call(self, method: str, url: str, what: str, *, ok=(200,), **kwargs):
        """Send one request; return (reply, body), or raise BadGateway (one message).

        A redirect is followed (at most ``MAX_HOPS``) only to a URL that passes the same
        rules (``check_url``, and the address check of every connection); credentials are
        not sent on to another origin."""
        failed = BadGateway(
            N_("the other side's %(what)s could not be reached or did not answer as it should"),
            what=what,
        )
        try:
            with self.session(f"{what} {url}", hops=True) as http:
                for _ in range(MAX_HOPS + 1):
                    reply = http.request(method, url, allow_redirects=False, **kwargs)
                    if not reply.is_redirect:
                        break
                    url, method, kwargs = _next_hop(reply, url, method, kwargs)
                else:
                    log.warning("outbound call redirected too often: %s", what)
                    raise failed
        except (requests.RequestException, BadRequest):
            raise failed from None
        if reply.status_code not in ok:
            log.warning("outbound call refused: %s %s: HTTP %s", what, url, reply.status_code)
            raise failed
        return reply, reply.content

    def get_json(self, url: str, what: str, **kwargs):
        _, body = self.call("GET", url, what, **kwargs)
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            log.warning("outbound call answered no JSON: %s %s", what, url)
            raise BadGateway(
                N_("the other side's %(what)s could not be reached or did not answer as it should"),
                what=what,
            ) from None


def _refuse_redirect(reply, *args, **kwargs):
    if reply.is_redirect:
        raise requests.TooManyRedirects("a redirect, which this call does not follow")


def _next_hop(reply, url: str, method: str, kwargs: dict):
    """Where a redirect goes, checked like the first URL; what the next request sends."""
    target = check_url(urljoin(url, reply.headers["Location"]), "redirect")
    if _origin(target) != _origin(url):  # no credentials to another site
        headers = {k: v for k, v in (kwargs.get("headers") or {}).items()}
        headers.pop("Authorization", None)
        kwargs = {**kwargs, "headers": headers}
    if reply.status_code in (307, 308):
        return target, method, kwargs
    return target, "GET", {k: v for k, v in kwargs.items() if k not in ("data", "json")}


def _origin(url: str) -> tuple:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


def _log_failure(what: str, call: Call, exc: Exception) -> None:
    if call.refused:
        reason = f"address not allowed ({call.refused})"
    elif call.expired:
        reason = f"over the {call.policy.deadline_s:g} s deadline"
    else:
        reason = type(exc).__name__
    log.warning("outbound call failed: %s: %s", what, reason)
