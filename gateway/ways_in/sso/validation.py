"""The checks an OpenID Connect ``id_token`` passes: the provider's key set (by ``kid``) and
an asymmetric algorithm it announced, then ``iss``, ``aud`` (and ``azp``), ``exp`` and
``iat`` with a small leeway, and the nonce of this very sign-in."""

from __future__ import annotations

from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, JoseError

from ...context import Gateway
from ...errors import N_, Unauthorized
from ...store.sso_tables import SsoProvider
from .. import id_tokens, key_sets
from ..token import PARSE_ERRORS

LEEWAY_S = 60


def verify(gw: Gateway, provider: SsoProvider, id_token, nonce: str) -> dict:
    if not isinstance(id_token, str) or not id_token:
        raise Unauthorized(N_("the provider answered without an id_token"))
    jwks = provider.endpoints["jwks_uri"]

    def key(guest):
        return key_sets.key_for(gw, jwks, guest.headers().get("kid"))

    try:
        claims = jwt.decode(id_token, key, algorithms=provider.endpoints["algorithms"]).claims
        id_tokens.claims_registry(provider.issuer, provider.client_id, nonce, LEEWAY_S).validate(
            claims
        )
    except BadSignatureError:
        raise Unauthorized(N_("the provider's id_token signature does not verify")) from None
    except ExpiredTokenError:
        raise Unauthorized(N_("the provider's id_token has expired; sign in again")) from None
    except (JoseError, *PARSE_ERRORS) as exc:
        detail = getattr(exc, "description", None) or "not a valid JWT"
        raise Unauthorized(
            N_("the provider's id_token was refused (%(detail)s)"), detail=detail
        ) from None
    if not id_tokens.issued_to(claims, provider.client_id):
        raise Unauthorized(N_("the provider's id_token was issued to another client (azp)"))
    return claims
