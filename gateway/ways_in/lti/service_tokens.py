"""Access tokens for a platform's services (grades, rosters): the OAuth 2 client-credentials
grant, the client authenticated by a ``private_key_jwt`` assertion that the tool's newest
key signs (authlib), as LTI Advantage's security framework asks. A token is cached (per
process, per platform and scopes) until shortly before it expires."""

from __future__ import annotations

import logging
import threading
import time

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT

from ...context import Gateway
from ...errors import N_, BadGateway
from ...store.lti_tables import LtiPlatform
from . import tool_keys

log = logging.getLogger(__name__)

#: A cached token is renewed when it has less than this left.
MARGIN_S = 60
#: The client assertion is good for this long (LTI asks for a short life).
ASSERTION_LIFETIME_S = 300
_LOCK = threading.Lock()


def _fetch(gw: Gateway, platform: LtiPlatform, signing, scopes: list[str]) -> tuple[str, float]:
    method = PrivateKeyJWT(
        platform.token_url,
        claims={"exp": int(time.time()) + ASSERTION_LIFETIME_S},
        headers={"kid": signing.kid},
        alg=tool_keys.ALGORITHM,
    )
    client = OAuth2Session(
        client_id=platform.client_id,
        client_secret=signing,
        token_endpoint_auth_method=method,
        scope=" ".join(scopes),
    )
    try:
        with gw.outbound.session("LTI token endpoint", client) as session:
            token = session.fetch_token(platform.token_url, grant_type="client_credentials")
    except (OAuthError, requests.RequestException, ValueError, KeyError) as exc:
        log.warning("LTI token request failed: %s %s", platform.id, type(exc).__name__)
        raise BadGateway(N_("the platform's token endpoint did not grant access")) from None
    finally:
        client.close()
    access = token.get("access_token")
    if not isinstance(access, str) or not access:
        raise BadGateway(N_("the platform's token endpoint answered without an access token"))
    lifetime = token.get("expires_in")
    lifetime = float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else 3600.0
    return access, time.time() + lifetime


def access_token(gw: Gateway, platform: LtiPlatform, scopes: list[str]) -> str:
    """A bearer token for ``scopes`` of the platform's services."""
    key = (platform.id, platform.token_url, platform.client_id, " ".join(sorted(scopes)))
    cache = gw.memo.setdefault("lti_service_tokens", {})
    hit = cache.get(key)
    if hit and hit[1] - MARGIN_S > time.time():
        return hit[0]
    with _LOCK:  # many hand-ins at once ask once
        hit = cache.get(key)
        if hit and hit[1] - MARGIN_S > time.time():
            return hit[0]
        token, expires_at = _fetch(gw, platform, tool_keys.current(gw).signing, scopes)
        cache[key] = (token, expires_at)
    return token


def forget(gw: Gateway, platform: LtiPlatform) -> None:
    """Drop a platform's cached tokens (one was refused: it may have been revoked)."""
    cache = gw.memo.setdefault("lti_service_tokens", {})
    for key in [k for k in cache if k[0] == platform.id]:
        cache.pop(key, None)
