"""The checks every ``id_token`` passes before the gateway believes a word of it.

Signature first (the platform's key set, by ``kid``; RS256 unless the registration says
otherwise), then the registered claims (``iss``, ``aud`` and ``azp``, ``exp`` and ``iat``
with a small leeway, the login's nonce), then LTI's own: a registered deployment, version
1.3.0, a ``target_link_uri`` on this gateway, and what its message type requires
(``messages``: one validator per type).
"""

from __future__ import annotations

from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)

from ...context import Gateway
from ...errors import N_, BadRequest, Forbidden, Unauthorized
from ...store.lti_tables import LtiPlatform
from .. import id_tokens, key_sets
from ..token import PARSE_ERRORS
from . import claims as c
from . import messages

MAX_ID_TOKEN_BYTES = 48 * 1024


def _signed_claims(gw: Gateway, platform: LtiPlatform, id_token) -> dict:
    if not isinstance(id_token, str) or not id_token:
        raise BadRequest(N_("the launch has no id_token"), field="id_token")
    if len(id_token.encode("utf-8", "surrogatepass")) > MAX_ID_TOKEN_BYTES:
        raise BadRequest(N_("the id_token is larger than 48 KB"), field="id_token")

    def key(guest):
        return key_sets.key_for(gw, platform.jwks_url, guest.headers().get("kid"))

    try:
        return jwt.decode(id_token, key, algorithms=list(platform.algorithms)).claims
    except BadSignatureError:
        raise Unauthorized(N_("the id_token's signature does not verify")) from None
    except UnsupportedAlgorithmError:
        algorithms = ", ".join(platform.algorithms)
        raise Unauthorized(
            N_("the id_token must be signed with %(algorithms)s"), algorithms=algorithms
        ) from None
    except (JoseError, *PARSE_ERRORS):
        raise Unauthorized(N_("the id_token is not a valid JWT")) from None


def _registered(gw: Gateway, platform: LtiPlatform, claims: dict, nonce: str) -> None:
    registry = id_tokens.claims_registry(
        platform.issuer, platform.client_id, nonce, int(gw.settings["LTI_CLOCK_LEEWAY"])
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise Unauthorized(N_("the id_token has expired; open the link in the LMS again")) from None
    except MissingClaimError as exc:
        raise Unauthorized(
            N_("the id_token lacks a required claim (%(description)s)"), description=exc.description
        ) from None
    except (InvalidClaimError, JoseError) as exc:
        raise Unauthorized(
            N_("the id_token has an invalid claim (%(description)s)"), description=exc.description
        ) from None
    if not id_tokens.issued_to(claims, platform.client_id):
        raise Unauthorized(N_("the id_token's azp is not this tool's client id"))


def _lti(platform: LtiPlatform, claims: dict, gateway_base: str) -> None:
    if claims.get(c.VERSION) != "1.3.0":
        raise BadRequest(N_("only LTI 1.3.0 launches are supported (version claim)"))
    if claims.get(c.DEPLOYMENT_ID) not in platform.deployment_ids:
        raise Forbidden(N_("this deployment of the tool is not registered with the gateway"))
    target = claims.get(c.TARGET_LINK_URI)
    if not isinstance(target, str) or not target.startswith(gateway_base + "/"):
        raise BadRequest(N_("the launch's target_link_uri is not on this gateway"))
    messages.validate(claims)  # the message type's own required claims and rules


def verify(gw: Gateway, platform: LtiPlatform, id_token, *, nonce: str, gateway_base: str) -> dict:
    """Return the id_token's claims once every check passed; raise a 4xx error otherwise."""
    claims = _signed_claims(gw, platform, id_token)
    _registered(gw, platform, claims, nonce)
    _lti(platform, claims, gateway_base)
    return claims
