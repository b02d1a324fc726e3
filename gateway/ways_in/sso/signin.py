"""Sign-in with OpenID Connect: the authorization request, and what its callback proves.

The state is signed, not stored (``ways_in.states``): it names the host and the provider,
and the ``nonce`` and the PKCE verifier are derived from it with the gateway's key, so no
one who sees the state in a URL can compute them. The browser gets a ``__Host-`` cookie
with a signed random binding value (and the file to open): the callback must come back to
the browser that started it, so a callback URL replayed, or opened in another browser, is
refused. The state is spent when the session it made is recorded.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ... import hosts
from ...context import Gateway
from ...errors import N_, BadGateway, BadRequest, Forbidden, Unauthorized
from ...launches.request import OneTime
from ...provisioning.paths import clean_path
from ...provisioning.profile import UserProfile
from ...store.models import Host
from ...store.sso_tables import SsoProvider
from ...support.keys import digest
from ...support.languages import clean_tag, first_tag
from .. import limits, states
from ..id_tokens import reported_error
from ..identity import profile_from_claims
from . import providers, validation

LIFETIME = timedelta(minutes=10)
COOKIE_PREFIX = "__Host-sso_state_"


def cookie_name(state: str) -> str:
    return COOKIE_PREFIX + digest(state)[:16]


def _signer(gw: Gateway) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(gw.settings["GATEWAY_SECRET_KEY"], salt="sso-state")


@dataclass(frozen=True)
class Started:
    authorization_url: str
    state: str
    cookie: str  # the signed binding (and the file to open) the browser keeps


def start(
    gw: Gateway,
    host_id: str,
    path,
    *,
    redirect_uri: str,
    provider_id=None,
    client=None,
    ui_locales=None,
) -> Started:
    """Build a sign-in's authorization request; ``client``: the address it came from (a
    client may start only so many); ``ui_locales``: the languages the sign-in link asks for
    (passed on to the provider, and the pages' if its ID token names no ``locale``)."""
    locale = first_tag(ui_locales)
    provider = providers.for_host(gw, host_id, provider_id)
    path = clean_path(path)
    limits.sign_in_started(gw, client)
    binding = secrets.token_urlsafe(32)
    state = states.seal(gw, "sso", {"h": host_id, "p": provider.id, "b": digest(binding)[:32]})
    client = OAuth2Session(
        provider.client_id,
        scope=provider.scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )
    extra = {"ui_locales": locale} if locale else {}
    url, _ = client.create_authorization_url(
        provider.endpoints["authorization_endpoint"],
        state=state,
        nonce=states.derived(gw, "oidc-nonce", state),
        code_verifier=states.derived(gw, "pkce", state),
        **extra,
    )
    cookie = _signer(gw).dumps({"binding": binding, "path": path, "ui_locale": locale})
    return Started(url, state, cookie)


@dataclass(frozen=True)
class SignedIn:
    host: Host
    provider: SsoProvider
    profile: UserProfile
    path: str
    id_token: str
    #: The language to speak: the ID token's ``locale`` claim, else the link's ``ui_locales``.
    locale: str | None = None
    #: The sign-in's state, spent with the session it makes.
    once: OneTime | None = None


def _refused_by_provider(args) -> None:
    code = reported_error(args)
    if code:
        if code == "access_denied":
            raise Forbidden(N_("sign-in was declined at the identity provider"))
        raise BadRequest(N_("the identity provider did not sign you in (%(code)s)"), code=code)


def _bound(gw: Gateway, state: str, cookies, binding_digest: str) -> dict:
    """What the browser that started this sign-in keeps (its binding, the file to open)."""
    signed = cookies.get(cookie_name(state))
    try:
        kept = _signer(gw).loads(signed, max_age=int(LIFETIME.total_seconds())) if signed else None
    except BadSignature:
        kept = None
    binding = kept.get("binding") if isinstance(kept, dict) else None
    if not isinstance(binding, str) or not hmac.compare_digest(
        digest(binding)[:32], binding_digest
    ):
        raise Forbidden(N_("this sign-in was started in another browser; sign in again here"))
    return kept


def _tokens(
    gw: Gateway, provider: SsoProvider, secret: str, code, verifier: str, redirect_uri: str
) -> dict:
    if not isinstance(code, str) or not code or len(code) > 4096:
        raise BadRequest(N_("the provider sent no authorization code"))
    client = OAuth2Session(
        provider.client_id,
        secret,
        token_endpoint_auth_method=provider.endpoints.get("token_auth", "client_secret_basic"),
        redirect_uri=redirect_uri,
    )
    try:
        with gw.outbound.session("SSO token endpoint", client) as session:
            return session.fetch_token(
                provider.endpoints["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
            )
    except OAuthError:
        raise Unauthorized(N_("the provider did not accept this sign-in; sign in again")) from None
    except (requests.RequestException, ValueError):
        raise BadGateway(N_("the identity provider could not be reached")) from None
    finally:
        client.close()


def _userinfo(gw: Gateway, provider: SsoProvider, access_token, subject: str) -> dict:
    url = provider.endpoints.get("userinfo_endpoint")
    if not url or not isinstance(access_token, str):
        return {}
    auth = {"Authorization": f"Bearer {access_token}"}
    info = gw.outbound.get_json(url, "userinfo", headers=auth)
    if not isinstance(info, dict) or info.get("sub") != subject:
        return {}  # a userinfo of someone else is ignored (OpenID Connect Core 5.3.2)
    return info


@dataclass(frozen=True)
class Callback:
    """A callback whose state this gateway made, not yet checked any further."""

    host_id: str
    state: str
    data: dict


USED = N_("this sign-in was used already, has expired, or was not started here")


def arrived(gw: Gateway, args) -> Callback | None:
    """The callback's state, if this gateway made it (to offer a way back on an error)."""
    state = args.get("state")
    data = states.unseal(gw, "sso", state, LIFETIME)
    return Callback(data["h"], state, data) if data else None


def finish(gw: Gateway, args, cookies, *, redirect_uri: str) -> SignedIn:
    """Check a callback and return who signed in; raise a 4xx for anything else."""
    _refused_by_provider(args)
    callback = arrived(gw, args)
    if callback is None:
        raise Unauthorized(USED)
    host = hosts.get(gw, callback.host_id)
    once = states.spend(host, "sso", callback.state, LIFETIME, Unauthorized(USED))
    if gw.db.fetch(once.spent) is not None:
        raise once.refusal
    kept = _bound(gw, callback.state, cookies, callback.data["b"])
    provider = providers.get(gw, callback.data["p"])
    if provider.host_id != host.id:
        raise Unauthorized(USED)
    secret = gw.box.decrypt(provider.client_secret_encrypted)
    verifier = states.derived(gw, "pkce", callback.state)
    tokens = _tokens(gw, provider, secret, args.get("code"), verifier, redirect_uri)
    nonce = states.derived(gw, "oidc-nonce", callback.state)
    claims = validation.verify(gw, provider, tokens.get("id_token"), nonce)
    limits.sign_in_verified(gw, host.id)
    if not (claims.get("email") and (claims.get("name") or claims.get("given_name"))):
        claims = {**_userinfo(gw, provider, tokens.get("access_token"), claims["sub"]), **claims}
    return SignedIn(
        host=host,
        provider=provider,
        profile=profile_from_claims("oidc", provider.issuer, claims["sub"], claims),
        path=kept.get("path") or "",
        id_token=tokens["id_token"],
        locale=clean_tag(claims.get("locale")) or kept.get("ui_locale"),
        once=once,
    )
