"""Way in 1: a signed launch token (HS256 JWT, the host's secret), verified before anything.

Every input is hostile until checked: the token is size-limited, read without trusting it
only to find its issuer (a host id of a fixed shape, checked before any look-up), verified,
and only then are its claims read, each with the same rules as every other way in.
"""

from __future__ import annotations

import base64
import json
import time

from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import OctKey

from .. import hosts
from ..context import Gateway
from ..errors import N_, BadRequest, NotFound, Unauthorized
from ..launches.request import LaunchRequest
from ..provisioning.paths import clean_path
from ..provisioning.profile import UserProfile, check_identifier, check_text
from ..store.models import Host
from ..support.languages import clean_tag

MAX_TOKEN_BYTES = 8 * 1024
MAX_LIFETIME_S = 600
LEEWAY_S = 30
#: What a parser of untrusted JSON may raise: malformed text, bad encodings, deep nesting.
PARSE_ERRORS = (ValueError, TypeError, UnicodeError, RecursionError)


def _unverified_issuer(token: str) -> str:
    """Read ``iss`` before verifying: it names the host whose secret verifies the token."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, *PARSE_ERRORS):
        raise Unauthorized(N_("the launch token is not a valid JWT")) from None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str) or not issuer:
        raise Unauthorized(N_("the launch token has no issuer (iss)"))
    return issuer


def _decode(gw: Gateway, host: Host, token: str):
    return jwt.decode(token, OctKey.import_key(hosts.signing_key(gw, host)), algorithms=["HS256"])


def _verified(gw: Gateway, token: str):
    """Return the token's host and decoded token, or raise Unauthorized."""
    try:
        host = hosts.get(gw, _unverified_issuer(token))
    except NotFound:
        raise Unauthorized(N_("the launch token's issuer is not a known host")) from None
    try:
        try:
            return host, _decode(gw, host, token)
        except BadSignatureError:
            # The host may have rotated its secret since this process cached it.
            fresh = hosts.get(gw, host.id, fresh=True)
            if fresh.secret_encrypted == host.secret_encrypted:
                raise
            return fresh, _decode(gw, fresh, token)
    except BadSignatureError:
        raise Unauthorized(
            N_("the launch token's signature does not match the host's secret")
        ) from None
    except UnsupportedAlgorithmError:
        raise Unauthorized(N_("launch tokens must be signed with HS256")) from None
    except (JoseError, *PARSE_ERRORS):
        raise Unauthorized(N_("the launch token is not a valid JWT")) from None


def _check_registered_claims(host: Host, claims: dict) -> None:
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY_S,
        iss={"essential": True, "value": host.id},
        sub={"essential": True},
        jti={"essential": True},
        exp={"essential": True},
    )
    origins = host.origins
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise Unauthorized(N_("the launch token has expired"), host_origins=origins) from None
    except MissingClaimError as exc:
        raise BadRequest(
            N_("the launch token lacks a required claim (%(description)s)"),
            host_origins=origins,
            description=exc.description,
        ) from None
    except (InvalidClaimError, JoseError) as exc:
        raise BadRequest(
            N_("the launch token has an invalid claim (%(description)s)"),
            host_origins=origins,
            description=exc.description,
        ) from None
    exp = claims["exp"]
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise BadRequest(N_("the launch token's exp must be a number"), host_origins=origins)
    if exp > time.time() + MAX_LIFETIME_S + LEEWAY_S:
        raise BadRequest(
            N_("the launch token's exp is more than 10 minutes ahead"),
            field="exp",
            host_origins=origins,
        )


def _claim(claims: dict, name: str, check, *args, **kwargs):
    value = claims.get(name)
    return check(value, f"claim {name}", *args, **kwargs)


def read_token(gw: Gateway, token: str | None) -> LaunchRequest:
    """Verify a launch token (HS256, the host's secret) and its claims; never trust it before."""
    if not token:
        raise BadRequest(N_("the launch token is missing"), field="token")
    if len(token.encode("utf-8", "surrogatepass")) > MAX_TOKEN_BYTES:
        raise BadRequest(N_("the launch token is larger than 8 KB"), field="token")
    host, decoded = _verified(gw, token)
    claims = decoded.claims
    _check_registered_claims(host, claims)
    try:
        return LaunchRequest(
            host=host,
            profile=UserProfile(
                external_id=_claim(claims, "sub", check_identifier, required=True),
                email=_claim(claims, "email", check_text, 320),
                first_name=_claim(claims, "given_name", check_text),
                last_name=_claim(claims, "family_name", check_text),
            ),
            path=clean_path(claims.get("path")),
            locale=clean_tag(claims.get("locale")),
            context=_claim(claims, "context", check_identifier),
            jti=_claim(claims, "jti", check_identifier, required=True),
            expires_at=int(claims["exp"]),
        )
    except BadRequest as exc:  # the host is known: its frame may show the error page
        exc.host_origins = host.origins
        raise
