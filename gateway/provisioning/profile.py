"""Who a host says its user is, and the rules every way in applies to it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ..errors import BadRequest

MAX_ID = 255
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class UserProfile:
    """Who the host says its user is; only ``external_id`` is required."""

    external_id: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None


def _clean_text(value, name: str, limit: int = MAX_ID) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string", field=name)
    value = value.strip()
    if len(value) > limit:
        raise BadRequest(f"{name} is longer than {limit} characters", field=name)
    if CONTROL_RE.search(value):
        raise BadRequest(f"{name} contains control characters", field=name)
    return value


def validate(profile: UserProfile, context: str) -> tuple[UserProfile, str]:
    """Check what a host sent; raise BadRequest naming the first bad field."""
    external_id = _clean_text(profile.external_id, "user id")
    if not external_id:
        raise BadRequest("the user id is missing", field="user id")
    email = _clean_text(profile.email, "email", 320)
    if email and not EMAIL_RE.match(email):
        raise BadRequest("email is not a valid e-mail address", field="email")
    return UserProfile(
        external_id=external_id,
        email=email or None,
        first_name=_clean_text(profile.first_name, "first name"),
        last_name=_clean_text(profile.last_name, "last name"),
    ), _clean_text(context, "context")


def stable_email(host_id: str, external_id: str, domain: str) -> str:
    """Make a valid, stable address for a user the host gave no e-mail for."""
    digest = hashlib.sha256(f"{host_id}\0{external_id}".encode()).hexdigest()[:32]
    return f"u-{digest}@{domain}"
