"""What every way in produces and a launch consumes: a verified request to show a file of
a user's project."""

from __future__ import annotations

from dataclasses import dataclass

from ..provisioning.profile import UserProfile
from ..store.models import Host


@dataclass(frozen=True)
class LaunchRequest:
    """A verified request to show ``path`` of the user's ``context`` project."""

    host: Host
    profile: UserProfile
    path: str
    context: str
    jti: str | None = None
    expires_at: int | None = None
    #: The language the launch asks for (a BCP 47 tag): the page speaks it.
    locale: str | None = None
