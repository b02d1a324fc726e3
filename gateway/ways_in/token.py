"""Reading what a host hands over: a signed launch token, or a server-to-server request."""

from __future__ import annotations

import base64
import json
import re
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
from ..errors import BadRequest, NotFound, Unauthorized
from ..provisioning.profile import UserProfile
from ..store.models import Host
from .request import LaunchRequest, clean_path

MAX_TOKEN_BYTES = 8 * 1024
MAX_LIFETIME_S = 600
LEEWAY_S = 30
MAX_PATH = 4096
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def _unverified_issuer(token: str) -> str:
    """Read ``iss`` before verifying: it names the host whose secret verifies the token."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, UnicodeDecodeError):
        raise Unauthorized("the launch token is not a valid JWT") from None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str) or not issuer:
        raise Unauthorized("the launch token has no issuer (iss)")
    return issuer


def _string_claim(claims: dict, name: str, limit: int = 255) -> str | None:
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"the claim {name} must be a string", field=name)
    if len(value) > limit:
        raise BadRequest(f"the claim {name} is longer than {limit} characters", field=name)
    return value


def _verify(gw: Gateway, host: Host, token: str):
    return jwt.decode(token, OctKey.import_key(hosts.signing_key(gw, host)), algorithms=["HS256"])


def read_token(gw: Gateway, token: str | None) -> LaunchRequest:
    """Verify a launch token (HS256, the host's secret) and its claims; never trust it before."""
    if not token:
        raise BadRequest("the launch token is missing", field="token")
    if len(token.encode()) > MAX_TOKEN_BYTES:
        raise BadRequest("the launch token is larger than 8 KB", field="token")
    try:
        host = hosts.get(gw, _unverified_issuer(token))
    except NotFound:
        raise Unauthorized("the launch token's issuer is not a known host") from None
    try:
        try:
            decoded = _verify(gw, host, token)
        except BadSignatureError:
            # The host may have rotated its secret since this process cached it.
            fresh = hosts.get(gw, host.id, fresh=True)
            if fresh.secret_encrypted == host.secret_encrypted:
                raise
            host = fresh
            decoded = _verify(gw, host, token)
    except BadSignatureError:
        raise Unauthorized(
            "the launch token's signature does not match the host's secret"
        ) from None
    except UnsupportedAlgorithmError:
        raise Unauthorized("launch tokens must be signed with HS256") from None
    except JoseError:
        raise Unauthorized("the launch token is not a valid JWT") from None
    claims = decoded.claims
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY_S,
        iss={"essential": True, "value": host.id},
        sub={"essential": True},
        jti={"essential": True},
        exp={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise Unauthorized("the launch token has expired") from None
    except MissingClaimError as exc:
        raise BadRequest(f"the launch token lacks a required claim ({exc.description})") from None
    except (InvalidClaimError, JoseError) as exc:
        raise BadRequest(f"the launch token has an invalid claim ({exc.description})") from None
    if (
        not isinstance(claims["exp"], int | float)
        or claims["exp"] > time.time() + MAX_LIFETIME_S + LEEWAY_S
    ):
        raise BadRequest("the launch token's exp is more than 10 minutes ahead", field="exp")
    return LaunchRequest(
        host=host,
        profile=UserProfile(
            external_id=_string_claim(claims, "sub") or "",
            email=_string_claim(claims, "email", 320),
            first_name=_string_claim(claims, "given_name"),
            last_name=_string_claim(claims, "family_name"),
        ),
        path=clean_path(claims.get("path")),
        context=_string_claim(claims, "context") or "",
        jti=_string_claim(claims, "jti") or "",
        expires_at=int(claims["exp"]),
    )
