"""Who a signed token (an LTI launch, an OpenID Connect sign-in) says the user is.

A user of an issuer is (issuer, ``sub``): the host user id is a digest of both, under the
way in's scheme (``lti:``, ``oidc:``), so two issuers of one host never share an account,
and registering an issuer again keeps its users. Names and e-mail are taken when the
issuer sends them (many send none); an address or a name the gateway cannot keep is left
out rather than refusing the sign-in: it is profile data, never a key.
"""

from __future__ import annotations

import hashlib

from ..errors import BadRequest
from ..provisioning.profile import EMAIL_RE, UserProfile, check_text


def digest_of(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:40]


def external_id(scheme: str, issuer: str, subject: str) -> str:
    return f"{scheme}:{digest_of(issuer, subject)}"


def _text(claims: dict, name: str) -> str | None:
    try:
        return check_text(claims.get(name), name)
    except BadRequest:
        return None


def _names(claims: dict) -> tuple[str | None, str | None]:
    first, last = _text(claims, "given_name"), _text(claims, "family_name")
    if not (first or last):
        full = _text(claims, "name")
        if full:
            first, _, last = full.partition(" ")
    return first or None, last or None


def _email(claims: dict) -> str | None:
    email = claims.get("email")
    if isinstance(email, str) and len(email) <= 320 and EMAIL_RE.match(email.strip()):
        return email.strip()
    return None


def profile_from_claims(scheme: str, issuer: str, subject: str, claims: dict) -> UserProfile:
    first, last = _names(claims)
    return UserProfile(external_id(scheme, issuer, subject), _email(claims), first, last)
