"""What every OpenID Connect ``id_token`` must carry, whoever issued it (an LMS in an LTI
launch, an identity provider at sign-in): the rules both ways in check alike, and the error
an authorization response carries instead of one."""

from __future__ import annotations

import re

from joserfc import jwt

#: The shape of an OAuth 2 error code (RFC 6749 4.1.2.1): shown to users only if it fits.
ERROR_CODE = re.compile(r"^[a-z_]{1,64}$")


def reported_error(params) -> str | None:
    """The error an LMS or identity provider answered instead of signing the user in (safe
    to show: a code of the standard shape, else "an error"); None when there is none."""
    error = params.get("error")
    if not error:
        return None
    return error if isinstance(error, str) and ERROR_CODE.match(error) else "an error"


def claims_registry(issuer: str, client_id: str, nonce: str, leeway: int) -> jwt.JWTClaimsRegistry:
    """``iss`` and ``aud`` as registered, ``sub``, ``exp`` and ``iat`` present (with ``leeway``
    seconds of clock difference), and the nonce of this very sign-in."""
    return jwt.JWTClaimsRegistry(
        leeway=leeway,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )


def issued_to(claims: dict, client_id: str) -> bool:
    """OIDC Core 3.1.3.7: with several audiences (or any ``azp``), ``azp`` must be us."""
    audience, azp = claims["aud"], claims.get("azp")
    several = isinstance(audience, list) and len(audience) > 1
    return not (several or azp is not None) or azp == client_id
