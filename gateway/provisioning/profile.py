"""Who a host says its user is, and the rules every way in applies to it.

Identity is exact: a user is (host, user id), and a project is (user, context), byte for
byte. Nothing is stripped or folded, so two ids a host keeps apart can never share a CoCalc
account. Ids and contexts that could only be told apart by invisible characters (leading or
trailing white space of any kind, control, format or line-separator characters, lone
surrogates) are refused with a 400 instead of being normalised into each other.
Names are display data: they are trimmed, and only characters that cannot be stored or
shown (control characters, lone surrogates) are refused.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..errors import N_, BadRequest

MAX_ID = 255
MAX_EMAIL = 320
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
#: Unicode categories refused anywhere in an id or context: control, format, surrogate,
#: private use, unassigned, and the line and paragraph separators.
ID_REFUSED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
#: Refused in names: what cannot be stored (surrogates) or shown (control characters).
NAME_REFUSED = frozenset({"Cc", "Cs"})


@dataclass(frozen=True)
class UserProfile:
    """Who the host says its user is; only ``external_id`` is required."""

    external_id: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None


def _refused(value: str, categories: frozenset[str]) -> bool:
    return any(unicodedata.category(ch) in categories for ch in value)


def check_identifier(value, name: str, *, required: bool = False) -> str:
    """Return an id or context exactly as given; refuse what could merge distinct ids."""
    if value is None or value == "":
        if required:
            raise BadRequest(N_("the %(name)s is missing"), field=name, name=name)
        return ""
    if not isinstance(value, str):
        raise BadRequest(N_("the %(name)s must be a string"), field=name, name=name)
    if len(value) > MAX_ID:
        raise BadRequest(
            N_("the %(name)s is longer than %(max_id)s characters"),
            field=name,
            name=name,
            max_id=MAX_ID,
        )
    if _refused(value, ID_REFUSED):
        raise BadRequest(
            N_("the %(name)s contains control, format or invisible characters"),
            field=name,
            name=name,
        )
    if value != value.strip():
        raise BadRequest(N_("the %(name)s starts or ends with white space"), field=name, name=name)
    return value


def check_text(value, name: str, limit: int = MAX_ID) -> str | None:
    """Return a trimmed display text (None when absent); refuse what cannot be stored."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(N_("%(name)s must be a string"), field=name, name=name)
    if _refused(value, NAME_REFUSED):
        raise BadRequest(N_("%(name)s contains control characters"), field=name, name=name)
    value = value.strip()
    if len(value) > limit:
        raise BadRequest(
            N_("%(name)s is longer than %(limit)s characters"), field=name, name=name, limit=limit
        )
    return value or None


def validate(profile: UserProfile, context: str) -> tuple[UserProfile, str]:
    """Check what a host sent; raise BadRequest naming the first bad field."""
    external_id = check_identifier(profile.external_id, "user id", required=True)
    email = check_text(profile.email, "email", MAX_EMAIL)
    if email and not EMAIL_RE.match(email):
        raise BadRequest(N_("email is not a valid e-mail address"), field="email")
    return UserProfile(
        external_id=external_id,
        email=email,
        first_name=check_text(profile.first_name, "first name"),
        last_name=check_text(profile.last_name, "last name"),
    ), check_identifier(context, "context")
