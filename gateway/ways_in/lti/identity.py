"""From an LTI launch's claims to the gateway's launch request: who, which course, which file.

Who: ``ways_in.identity`` (a platform user is (issuer, ``sub``)). The LTI context is the
project context (a digest of issuer and context id). The file is the custom ``path``,
else the host's first template path.
"""

from __future__ import annotations

from ...hosts import get as get_host
from ...launches.request import LaunchRequest
from ...provisioning.paths import clean_path
from ...provisioning.profile import UserProfile
from ...store.lti_tables import LtiPlatform
from ...support.languages import clean_tag
from ..identity import digest_of, external_id, profile_from_claims
from . import claims as c


def user_id(issuer: str, subject: str) -> str:
    return external_id("lti", issuer, subject)


def context_of(issuer: str, context_id: str | None) -> str:
    return "lti:" + digest_of(issuer, context_id) if context_id else ""


def context_claim(claims: dict) -> dict:
    context = claims.get(c.CONTEXT)
    return context if isinstance(context, dict) else {}


def profile(issuer: str, subject: str, claims: dict) -> UserProfile:
    return profile_from_claims("lti", issuer, subject, claims)


def _custom(claims: dict) -> dict:
    custom = claims.get(c.CUSTOM)
    return custom if isinstance(custom, dict) else {}


def custom_path(claims: dict):
    return _custom(claims).get("path")


#: The custom parameter of a Deep Linking "new notebook": each learner gets a blank one.
NEW_FILE = ("new", "notebook")


def asks_new_file(claims: dict) -> bool:
    """The link names a new notebook (created blank at the learner's first launch)."""
    name, value = NEW_FILE
    return _custom(claims).get(name) == value


def launch_request(gw, platform: LtiPlatform, claims: dict, via: str = "lti") -> LaunchRequest:
    """The launch request of a verified resource-link launch (or of a review's reviewer)."""
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
        via=via,
        locale=locale_of(claims),
    )


def locale_of(claims: dict) -> str | None:
    """The language the platform asked for (``launch_presentation.locale``), if well-formed."""
    shown = claims.get(c.LAUNCH_PRESENTATION)
    return clean_tag(shown.get("locale")) if isinstance(shown, dict) else None
