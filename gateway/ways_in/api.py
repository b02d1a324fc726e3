"""Way in 2: the host's server asks first (``POST /api/v1/launches`` with its secret)."""

from __future__ import annotations

from ..errors import N_, BadRequest
from ..launches.request import LaunchRequest
from ..provisioning.paths import clean_path
from ..provisioning.profile import UserProfile
from ..store.models import Host
from ..support.languages import clean_tag


def read_api_request(host: Host, body) -> LaunchRequest:
    """Check the JSON body of ``POST /api/v1/launches``."""
    if not isinstance(body, dict):
        raise BadRequest(N_("the request body must be a JSON object"))
    user = body.get("user")
    if not isinstance(user, dict):
        raise BadRequest(N_("the request needs a 'user' object"), field="user")
    if not isinstance(user.get("id"), str) or not user["id"].strip():
        raise BadRequest(N_("the request needs 'user.id' (a string)"), field="user.id")
    for name in ("email", "first_name", "last_name"):
        if user.get(name) is not None and not isinstance(user[name], str):
            raise BadRequest(N_("user.%(name)s must be a string"), field=f"user.{name}", name=name)
    context = body.get("context")
    if context is not None and not isinstance(context, str):
        raise BadRequest(N_("context must be a string"), field="context")
    return LaunchRequest(
        host=host,
        profile=UserProfile(
            external_id=user["id"],
            email=user.get("email"),
            first_name=user.get("first_name"),
            last_name=user.get("last_name"),
        ),
        path=clean_path(body.get("path")),
        locale=clean_tag(body.get("locale")),
        context=context or "",
    )
