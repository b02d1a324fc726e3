"""From an LTI launch's claims to the gateway's launch request: who, which course, which file.

A platform user is (issuer, ``sub``): the host user id is a digest of both, so two LMSs of
one host never share an account, and re-registering a platform keeps its users. The LTI
context is the project context (a digest of issuer and context id). Names and e-mail are
taken when the platform sends them; many send none, and an address the gateway cannot
use is dropped rather than refusing the launch (it is profile data, never a key).
"""

from __future__ import annotations

import hashlib

from ...errors import BadRequest
from ...hosts import get as get_host
from ...provisioning.profile import EMAIL_RE, UserProfile, check_text
from ...store.lti_tables import LtiPlatform
from ..request import LaunchRequest, clean_path
from . import claims as c


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:40]


def user_id(issuer: str, subject: str) -> str:
    return "lti:" + _digest(issuer, subject)


def context_of(issuer: str, context_id: str | None) -> str:
    return "lti:" + _digest(issuer, context_id) if context_id else ""


def context_claim(claims: dict) -> dict:
    context = claims.get(c.CONTEXT)
    return context if isinstance(context, dict) else {}


def _text(claims: dict, name: str) -> str | None:
    try:
        return check_text(claims.get(name), name)
    except BadRequest:
        return None  # display data the gateway cannot keep is left out, not fatal


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


def profile(issuer: str, subject: str, claims: dict) -> UserProfile:
    first, last = _names(claims)
    return UserProfile(user_id(issuer, subject), _email(claims), first, last)


def custom_path(claims: dict):
    custom = claims.get(c.CUSTOM)
    return custom.get("path") if isinstance(custom, dict) else None


def launch_request(gw, platform: LtiPlatform, claims: dict) -> LaunchRequest:
    """The launch request of a verified resource-link launch."""
    host = get_host(gw, platform.host_id)
    path = custom_path(claims)
    if path is None and host.template_paths:
        path = host.template_paths[0]
    context_id = context_claim(claims).get("id")
    return LaunchRequest(
        host=host,
        profile=profile(platform.issuer, claims["sub"], claims),
        path=clean_path(path),
        context=context_of(platform.issuer, context_id if isinstance(context_id, str) else None),
    )
