"""What every OpenID Connect ``id_token`` must carry, whoever issued it (an LMS in an LTI
launch, an identity provider at sign-in): the rules both ways in check alike."""

from __future__ import annotations

from joserfc import jwt


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
