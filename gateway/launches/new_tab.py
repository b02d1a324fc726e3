"""The new-tab handoff: a framed page that cannot sign in where it is framed opens its
launch at top level, in a tab of this browser only.

The new tab is a form the framed page posts into ``_blank``: a top-level request, which a
framed page's (partitioned) cookie does not reach. So the page asks first, as one of its
own bound actions (``showing.act``), for a **ticket**: a one-time value, good for 10
minutes, made for that page only (an HMAC under the gateway's secret: minting one writes
nothing). A page that no cookie reaches gets its tickets in its one view instead. A ticket
is spent in the transaction that records the new page, which is bound to the browser that
posted it by a cookie of its own; whoever has the framed page's URL has no ticket.
"""

from __future__ import annotations

import hmac
import secrets
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from .. import hosts
from ..context import Gateway
from ..errors import N_, Forbidden, Gone
from ..provisioning import Provisioned
from ..provisioning.profile import UserProfile
from ..store.lti_tables import LtiGradeLink, LtiPage
from ..store.models import HostUser
from ..support.keys import digest, proof
from . import pipeline
from .embed import Issued, Shown
from .guard import Place
from .links import spend_once
from .request import Attached, LaunchRequest
from .showing import live

TICKET_LIFETIME = timedelta(minutes=10)
#: How many tickets the one view of a page that no cookie reaches carries ("Open in a new
#: tab", then "Open it again").
ONCE_TICKETS = 2
#: Rows of LTI's that belong to a page: the new tab's page gets its own copies (its
#: hand-in bar, its grade bar, its full-window launch work as the framed page's did).
PAGE_ROWS = (LtiGradeLink, LtiPage)


def ticket(gw: Gateway, page_digest: str) -> str:
    """A new one-time ticket for the page ``page_digest``'s new tab."""
    expires = int(time.time() + TICKET_LIFETIME.total_seconds())
    nonce = secrets.token_urlsafe(12)
    mac = proof(gw.settings["GATEWAY_SECRET_KEY"], "new-tab", page_digest, str(expires), nonce)
    return f"{expires}.{nonce}.{mac}"


def _checked(gw: Gateway, page_digest: str, given) -> datetime:
    """The ticket's expiry, if it is a live ticket of this page; else Forbidden or Gone."""
    refused = Forbidden(N_("a new tab can be opened only from the notebook's own page"))
    parts = given.split(".") if isinstance(given, str) and len(given) < 200 else []
    if len(parts) != 3 or not parts[0].isdigit():
        raise refused
    expires, nonce, mac = parts
    wanted = proof(gw.settings["GATEWAY_SECRET_KEY"], "new-tab", page_digest, expires, nonce)
    if not hmac.compare_digest(mac, wanted):
        raise refused
    if int(expires) <= time.time():
        raise Gone(N_("this new tab's link expired; open the notebook again from its page"))
    return datetime.fromtimestamp(int(expires), UTC)


def copy_for_new_tab(gw: Gateway, key: str, given_ticket) -> Issued:
    """A top-level page of a framed page's launch, bound to the browser that asked, with a
    token of its own; the ticket is spent with it."""
    page_digest = digest(key)
    source = live(gw, page_digest, (Place.FRAMED,))
    expires = _checked(gw, page_digest, given_ticket)
    user = gw.db.fetch(
        select(
            HostUser.external_id,
            HostUser.email,
            HostUser.first_name,
            HostUser.last_name,
            HostUser.account_id,
        ).where(HostUser.id == source.user_id)
    )
    host = hosts.get(gw, source.host_id)
    refusal = Gone(
        N_("this new tab was opened already; open the notebook again from the site you came from"),
        host_origins=host.origins,
    )
    request = LaunchRequest(
        host,
        UserProfile(user.external_id, user.email, user.first_name, user.last_name),
        source.path,
        "",
        via="new-tab",
        locale=source.locale,
    )
    provisioned = Provisioned(
        source.user_id, source.user_project_id, user.account_id, source.project_id, False
    )
    return pipeline.open(
        gw,
        request,
        place=Place.TOP,
        once=spend_once(host, "new-tab:" + digest(given_ticket), expires, refusal),
        shown=Shown.of_json(source.shown),
        attach=_copies(gw, page_digest),
        provisioned=provisioned,
    )


def _copies(gw: Gateway, page_digest: str) -> tuple[Attached, ...]:
    copies = []
    for model in PAGE_ROWS:
        with gw.db.read() as session:
            found = session.get(model, page_digest)
        if found is not None:
            values = {c.key: getattr(found, c.key) for c in model.__table__.columns}
            values.pop("launch_digest")
            copies.append(Attached(model.__table__, values))
    return tuple(copies)
