"""LTI Dynamic Registration: an LMS administrator pastes one URL and the LMS registers
the gateway as a tool, with no ids to copy by hand.

The URL carries a one-time code that ``cocalc-gateway lti platforms register-url`` made for
one host: without it, anyone could make the gateway register itself with any platform for
that host. The LMS opens the URL with ``openid_configuration`` (its configuration document)
and ``registration_token``; the administrator confirms, the gateway fetches the document,
posts its tool configuration to the registration endpoint, records the platform, and the
last page tells the LMS with ``org.imsglobal.lti.close``.

Whoever holds the code makes the gateway fetch a URL, so a code is no general fetcher: it
lives hours, not days; its first attempt binds it to one configuration URL (no other is
ever fetched with it); it allows ``MAX_ATTEMPTS`` attempts; and the first registration that
completes uses it up. Every fetch goes through ``gw.outbound`` (no private addresses in
production, no unchecked redirect, a deadline, one message for every failure).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from ... import hosts
from ...context import Gateway
from ...errors import N_, BadGateway, BadRequest, Gone
from ...store.lti_tables import LtiPlatform
from .. import exchanges
from . import platforms, tool_config

CODE_LIFETIME = timedelta(hours=2)
MAX_CODE_LIFETIME = timedelta(hours=48)
#: Fetches one code may make (the confirmation page, then the registration; a few retries).
MAX_ATTEMPTS = 5
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"


def new_code(gw: Gateway, host_id: str, lifetime: timedelta = CODE_LIFETIME) -> str:
    hosts.get(gw, host_id)
    return exchanges.create(
        gw, "register", lifetime=min(lifetime, MAX_CODE_LIFETIME), host_id=host_id
    )


@dataclass(frozen=True)
class PlatformConfiguration:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    scopes: list
    product: str | None


def read_configuration(gw: Gateway, url) -> PlatformConfiguration:
    """Fetch and check the platform's OpenID configuration document."""
    url = platforms.check_url(url, "openid_configuration")
    document = gw.outbound.get_json(url, "configuration document")
    if not isinstance(document, dict):
        raise BadGateway(N_("the platform's configuration document is not a JSON object"))
    try:
        values = {
            name: platforms.check_url(document.get(name), name)
            for name in (
                "issuer",
                "authorization_endpoint",
                "token_endpoint",
                "jwks_uri",
                "registration_endpoint",
            )
        }
    except BadRequest as exc:
        raise BadGateway(
            N_("the platform's configuration document is incomplete: %(text)s"), text=exc.message
        ) from None
    # The issuer must be the site the document came from (LTI Dynamic Registration 3.5.1).
    if urlsplit(values["issuer"]).hostname != urlsplit(url).hostname:
        raise BadGateway(N_("the platform's issuer is not the site its configuration came from"))
    extra = document.get(PLATFORM_CONFIGURATION)
    product = extra.get("product_family_code") if isinstance(extra, dict) else None
    scopes = document.get("scopes_supported")
    return PlatformConfiguration(
        **values,
        scopes=[s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else [],
        product=product if isinstance(product, str) else None,
    )


CODE_REFUSED = N_(
    "this registration link was used, has expired, or was tried too often or with another "
    "platform; make a new one"
)


def attempt(gw: Gateway, code, configuration_url) -> str:
    """Count one attempt of a registration code for ``configuration_url`` (the only URL it
    ever works for, from its first attempt on); return the host it belongs to."""
    url = str(configuration_url or "")
    found = exchanges.attempt(gw, "register", code, subject=url, limit=MAX_ATTEMPTS)
    if found is None:
        raise Gone(CODE_REFUSED)
    return found.host_id


def confirm(gw: Gateway, code, configuration_url) -> tuple[str, PlatformConfiguration]:
    """The confirmation page's view of a registration: the host, and what the platform says."""
    host_id = attempt(gw, code, configuration_url)
    return host_id, read_configuration(gw, configuration_url)


def register(
    gw: Gateway, code, configuration_url, registration_token, tool: tool_config.ToolUrls
) -> LtiPlatform:
    """Register the gateway with the platform and record the platform (code used once, by
    the first registration that completes)."""
    host_id = attempt(gw, code, configuration_url)
    config = read_configuration(gw, configuration_url)
    host = hosts.get(gw, host_id)
    request = tool_config.registration_request(tool, host.name, config.scopes)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if isinstance(registration_token, str) and registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    if exchanges.take(gw, "register", code) is None:
        raise Gone(N_("this registration link was used meanwhile; make a new one"))
    try:
        _, body = gw.outbound.call(
            "POST",
            config.registration_endpoint,
            "registration endpoint",
            ok=(200, 201),
            data=json.dumps(request),
            headers=headers,
        )
        answer = json.loads(body)
        client_id = answer["client_id"]
    except (ValueError, KeyError, TypeError):
        exchanges.release(gw, "register", code)
        raise BadGateway(N_("the platform's registration answer has no client_id")) from None
    except BadGateway:
        exchanges.release(gw, "register", code)  # not registered: the code may try again
        raise
    tool = answer.get(TOOL_CONFIGURATION) if isinstance(answer, dict) else None
    deployment = tool.get("deployment_id") if isinstance(tool, dict) else None
    return platforms.add(
        gw,
        host_id,
        issuer=config.issuer,
        client_id=str(client_id),
        deployment_ids=[str(deployment)] if deployment else [],
        login_url=config.authorization_endpoint,
        token_url=config.token_endpoint,
        jwks_url=config.jwks_uri,
        allow_no_deployment=True,
    )
