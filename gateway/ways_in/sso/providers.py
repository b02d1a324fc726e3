"""Identity providers: which OpenID Provider signs a host's users in.

``add`` reads the provider's discovery document (``ISS/.well-known/openid-configuration``)
once and keeps the endpoints; its issuer must be exactly the one given (OpenID Connect
Discovery 4.3). The client secret is encrypted at rest.
"""

from __future__ import annotations

import secrets

from ... import hosts
from ...context import Gateway
from ...errors import N_, BadGateway, BadRequest, NotFound
from ...store.registry import Registry
from ...store.sso_tables import SsoProvider
from ...support import outbound

DEFAULT_SCOPE = "openid email profile"
REQUIRED = ("authorization_endpoint", "token_endpoint", "jwks_uri")
OPTIONAL = ("userinfo_endpoint", "end_session_endpoint")


def discover(gw: Gateway, issuer: str) -> dict:
    """The provider's endpoints, from its discovery document."""
    issuer = outbound.check_url(issuer, "issuer").rstrip("/")
    document = gw.outbound.get_json(issuer + "/.well-known/openid-configuration", "discovery")
    if not isinstance(document, dict) or document.get("issuer", "").rstrip("/") != issuer:
        raise BadGateway(N_("the provider's discovery document names another issuer"))
    try:
        endpoints = {name: outbound.check_url(document.get(name), name) for name in REQUIRED}
        for name in OPTIONAL:
            if document.get(name):
                endpoints[name] = outbound.check_url(document[name], name)
    except BadRequest as exc:
        raise BadGateway(
            N_("the provider's discovery document: %(text)s"), text=exc.message
        ) from None
    methods = document.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise BadGateway(N_("the provider does not support PKCE with S256"))
    auth = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    endpoints["token_auth"] = (
        "client_secret_basic" if "client_secret_basic" in auth else "client_secret_post"
    )
    algorithms = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    endpoints["algorithms"] = [a for a in algorithms if a in ("RS256", "PS256", "ES256")]
    endpoints["issuer"] = document["issuer"]
    return endpoints


def add(gw: Gateway, host_id: str, *, issuer, client_id, client_secret, scope=DEFAULT_SCOPE):
    hosts.get(gw, host_id)
    if not isinstance(client_id, str) or not client_id.strip() or len(client_id) > 255:
        raise BadRequest(N_("a provider needs a client id"))
    if not isinstance(client_secret, str) or not client_secret:
        raise BadRequest(N_("a provider needs the client secret it issued"))
    words = scope.split() if isinstance(scope, str) else []
    if "openid" not in words:
        raise BadRequest(N_("the scope must include openid"))
    endpoints = discover(gw, issuer)
    provider = SsoProvider(
        id="sso_" + secrets.token_hex(8),
        host_id=host_id,
        issuer=endpoints.pop("issuer"),
        client_id=client_id,
        client_secret_encrypted=gw.box.encrypt(client_secret),
        scope=" ".join(words),
        endpoints=endpoints,
    )
    with gw.db.begin() as session:
        session.add(provider)
    return provider


REGISTRY = Registry(
    SsoProvider,
    "identity provider",
    ("id", "host_id", "issuer", "client_id", "scope", "created_at"),
    computed={"end_session": lambda p: bool(p.endpoints.get("end_session_endpoint"))},
)


def all_providers(gw: Gateway) -> list[SsoProvider]:
    return REGISTRY.all(gw.db)


def get(gw: Gateway, provider_id) -> SsoProvider:
    return REGISTRY.get(gw.db, provider_id)


def of_host(gw: Gateway, host_id: str) -> list[SsoProvider]:
    return REGISTRY.find(gw.db, host_id=host_id)


def for_host(gw: Gateway, host_id: str, provider_id=None) -> SsoProvider:
    """The provider a host's sign-in uses: the one named, or the host's only one."""
    hosts.get(gw, host_id)
    found = REGISTRY.find(gw.db, host_id=host_id)
    if provider_id:
        found = [p for p in found if p.id == provider_id]
    if not found:
        raise NotFound(N_("this site has no sign-in provider set up"))
    if len(found) > 1:
        raise BadRequest(N_("this site has several sign-in providers: name one (?provider=ID)"))
    return found[0]


def remove(gw: Gateway, provider_id: str) -> None:
    REGISTRY.remove(gw.db, provider_id)


def describe(provider: SsoProvider) -> dict:
    return REGISTRY.describe(provider)
