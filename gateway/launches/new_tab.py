"""The new-tab handoff: a framed page that cannot sign in where it is framed opens its
launch at top level, in a tab of this browser only.

The framed page's forms carry one-time proofs that only it holds (``keys.proof`` of its
key); the view also asks for same-origin Fetch Metadata. A client that forges both gets a
top-level page bound to itself (``guard``): nobody else can open it.
"""

from __future__ import annotations

import hmac

from sqlalchemy import select

from .. import hosts
from ..context import Gateway
from ..errors import Forbidden, NotFound
from ..provisioning import Provisioned
from ..store.models import HostUser, Launch, UserProject, utcnow
from ..support.keys import digest, proof
from .embed import Issued, create
from .guard import Place

#: How many new tabs one framed page may open: "Open in a new tab", then "Open it again".
NEW_TABS_PER_PAGE = 2


def proofs(gw: Gateway, key: str) -> list[str]:
    """The one-time values a framed page's new-tab forms carry, one per new tab it may open."""
    secret = gw.settings["GATEWAY_SECRET_KEY"]
    return [proof(secret, "new-tab", digest(key), str(n)) for n in range(NEW_TABS_PER_PAGE)]


def copy_for_new_tab(gw: Gateway, key: str, given_proof) -> Issued:
    """A new top-level page of a framed page's launch (the new-tab offer), bound to the
    browser that asked, with a token of its own.

    Only the framed page holds the proofs it may ask with, each works once, and the page it
    came from must still be live; the new page works only where its cookie is set.
    """
    source = gw.db.fetch(
        select(
            Launch.host_id,
            Launch.user_id,
            Launch.user_project_id,
            Launch.path,
            Launch.expires_at,
            HostUser.account_id,
            UserProject.project_id,
        )
        .join(HostUser, HostUser.id == Launch.user_id)
        .join(UserProject, UserProject.id == Launch.user_project_id)
        .where(
            Launch.digest == digest(key),
            Launch.kind == Place.FRAMED.value,
            Launch.expires_at > utcnow(),
            HostUser.deprovisioned_at.is_(None),
        )
    )
    if source is None:
        raise NotFound("this embed page does not exist or has expired")
    host = hosts.get(gw, source.host_id)
    if not any(hmac.compare_digest(str(given_proof), p) for p in proofs(gw, key)):
        raise Forbidden(
            "a new tab can be opened only from the notebook's own page", host_origins=host.origins
        )
    provisioned = Provisioned(
        source.user_id, source.user_project_id, source.account_id, source.project_id, False
    )
    used = {
        "host_id": host.id,
        "jti": "new-tab:" + digest(given_proof),
        "expires_at": source.expires_at,
    }
    return create(
        gw,
        host,
        provisioned,
        source.path,
        place=Place.TOP,
        used=used,
        replayed="this new tab was opened already; open the notebook again from the site "
        "you came from",
    )
