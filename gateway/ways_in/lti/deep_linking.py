"""Deep Linking: an instructor picks a notebook of the host's catalogue, and the gateway
answers the LMS with a signed ``LtiDeepLinkingResponse`` holding one ``ltiResourceLink``
whose custom ``path`` is that file (and a line item, when the LMS allows one).

The catalogue (``launches.catalogue``) is the host's template paths and the template
project's files. The picker is an
exchange: its key lives only in the page, is used once, and remembers the request's
return URL and opaque ``data``, which the response must echo.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from datetime import timedelta

from joserfc import jwt

from ...context import Gateway
from ...errors import BadRequest, Gone
from ...launches import catalogue
from ...store.lti_tables import LtiPlatform
from ...store.models import Host
from .. import exchanges
from . import claims as c
from . import platforms, tool_keys

log = logging.getLogger(__name__)

PICKER_LIFETIME = timedelta(minutes=30)
RESPONSE_LIFETIME_S = 300
MAX_DATA_BYTES = 4096


def open_picker(gw: Gateway, platform: LtiPlatform, host: Host, claims: dict) -> tuple[str, list]:
    """Record a picker for a verified Deep Linking request; return its key and items."""
    settings = claims.get(c.DL_SETTINGS)
    if not isinstance(settings, dict):
        raise BadRequest("the Deep Linking request has no deep_linking_settings")
    return_url = platforms.check_url(settings.get("deep_link_return_url"), "deep_link_return_url")
    accept = settings.get("accept_types") or []
    if "ltiResourceLink" not in accept:
        raise BadRequest("this LMS placement does not accept LTI resource links")
    items = catalogue.offer(gw, host)
    data = settings.get("data")
    key = exchanges.create(
        gw,
        "picker",
        lifetime=PICKER_LIFETIME,
        owner_id=platform.id,
        host_id=host.id,
        data={
            "return_url": return_url,
            # Opaque to the tool and echoed back as it came (LTI-DL 4.4.1: usually a string).
            "data": data if len(json.dumps(data)) <= MAX_DATA_BYTES else None,
            "line_item": bool(settings.get("accept_lineitem")),
            "deployment_id": claims[c.DEPLOYMENT_ID],
            "items": items,
        },
    )
    return key, items


def respond(gw: Gateway, key, path, *, launch_url: str) -> tuple[str, str]:
    """Use a picker: return the LMS's return URL and the signed response for ``path``."""
    picker = exchanges.take(gw, "picker", key)
    if picker is None:
        raise Gone("this picker was used already or has expired; open it from the LMS again")
    if path not in picker.data["items"]:
        raise BadRequest("pick one of the notebooks offered", field="path")
    platform = platforms.get(gw, picker.owner_id)
    title = path.rsplit("/", 1)[-1]
    item = {"type": "ltiResourceLink", "title": title, "url": launch_url, "custom": {"path": path}}
    if picker.data["line_item"]:
        item["lineItem"] = {"scoreMaximum": 100, "label": title}
    now = int(time.time())
    response = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "iat": now,
        "exp": now + RESPONSE_LIFETIME_S,
        "nonce": secrets.token_urlsafe(16),
        c.DEPLOYMENT_ID: picker.data["deployment_id"],
        c.MESSAGE_TYPE: c.DEEP_LINKING_RESPONSE,
        c.VERSION: "1.3.0",
        c.DL_CONTENT_ITEMS: [item],
    }
    if picker.data.get("data") is not None:
        response[c.DL_DATA] = picker.data["data"]
    signing = tool_keys.current(gw).signing
    header = {"alg": tool_keys.ALGORITHM, "kid": signing.kid, "typ": "JWT"}
    return picker.data["return_url"], jwt.encode(header, response, signing)
