"""Step 1 of a launch: the OIDC third-party-initiated login (``/lti/login``).

The state is signed, not stored (``ways_in.states``: a login costs a stranger's request
no row and no budget of anyone's); the ``id_token`` must carry the nonce derived from it.
What ties it to the browser that started it is a random binding value, kept in the
browser twice: in a ``__Host-`` cookie that is ``Secure; SameSite=None; Partitioned`` (a
partitioned cookie is kept inside an LMS's frame even where third-party cookies are
blocked), and, when the platform offers ``lti_storage_target``, in the platform's storage
(``lti.put_data``). At the launch either one proves it is the same browser: an attacker
who forwards their own launch to a victim has neither in the victim's browser.

``lti_storage_target`` is honoured only as a platform sends it: in a login that arrived in
a frame (platform storage is the storage of the window that frames the tool; a login at
top level has none). Anyone can add it to a login of their own, which is why what it
leads to, the storage continuation, counts only when the gateway's own page posts it, and
only ever opens a framed page (``launch``).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from ...context import Gateway
from ...errors import N_, BadRequest, Forbidden
from ...support.keys import digest
from .. import limits, states
from . import platforms

MAX_HINT = 4096
STORAGE_TARGET = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
COOKIE_PREFIX = "__Host-lti_state_"
LIFETIME = timedelta(minutes=5)


def cookie_name(state: str) -> str:
    """One cookie per login, so several launches at once (a course page with many links)
    do not overwrite each other's."""
    return COOKIE_PREFIX + digest(state)[:16]


def storage_key(state: str) -> str:
    return "cocalc-gateway-" + digest(state)[:32]


@dataclass(frozen=True)
class LoginAnswer:
    auth_url: str  # the platform's authorization endpoint with the request in its query
    state: str
    binding: str
    storage_target: str | None  # the frame to ask for ``lti.put_data``, when offered
    platform_origin: str


def _text(params, name: str, *, required: bool = False, limit: int = MAX_HINT):
    value = params.get(name)
    if value in (None, ""):
        if required:
            raise BadRequest(N_("the login request has no %(name)s"), field=name, name=name)
        return None
    if len(value) > limit or any(ord(ch) < 0x20 for ch in value):
        raise BadRequest(N_("the login request's %(name)s is malformed"), field=name, name=name)
    return value


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def start(
    gw: Gateway, params, *, launch_url: str, gateway_base: str, framed: bool, client: str | None
) -> LoginAnswer:
    """Check a login request, record its state, and say where the browser goes next.

    ``framed``: the login arrived in a frame (Fetch Metadata, or a browser without it);
    ``client``: the address it came from (a client may start only so many).
    """
    platform = platforms.find(gw, _text(params, "iss", required=True), params.get("client_id"))
    login_hint = _text(params, "login_hint", required=True)
    target = _text(params, "target_link_uri", required=True)
    if not target.startswith(gateway_base + "/"):
        raise BadRequest(N_("target_link_uri is not on this gateway"), field="target_link_uri")
    deployment = _text(params, "lti_deployment_id", limit=255)
    if deployment is not None and deployment not in platform.deployment_ids:
        raise Forbidden(N_("this deployment of the tool is not registered with the gateway"))
    storage_target = _text(params, "lti_storage_target", limit=64)
    if storage_target is not None and not STORAGE_TARGET.match(storage_target):
        raise BadRequest(N_("lti_storage_target is not a frame name"), field="lti_storage_target")
    if not framed:
        storage_target = None  # no platform window to keep it: the cookie binds alone
    limits.sign_in_started(gw, client)
    binding = secrets.token_urlsafe(32)
    state = states.seal(
        gw,
        "lti",
        {
            "p": platform.id,
            "t": digest(target)[:32],
            "s": storage_target,
            "b": digest(binding)[:32],
        },
    )
    nonce = states.derived(gw, "lti-nonce", state)
    request = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": launch_url,
        "login_hint": login_hint,
        "state": state,
        "nonce": nonce,
    }
    hint = _text(params, "lti_message_hint")
    if hint is not None:
        request["lti_message_hint"] = hint
    separator = "&" if urlsplit(platform.login_url).query else "?"
    return LoginAnswer(
        auth_url=platform.login_url + separator + urlencode(request),
        state=state,
        binding=binding,
        storage_target=storage_target,
        platform_origin=origin_of(platform.login_url),
    )
