"""HTTP views of launches: one-time links, embed pages, and the embed page's own actions.

Every view that could sign a browser in asks ``guard`` first (login CSRF, the page
binding), every action under ``/embed/<key>/…`` is admitted by ``showing.act`` (the one
page guard), and none of them does anything for ``HEAD``: mail scanners and link
previewers send it, and a launch link or token must survive them.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request

from ..errors import N_, Forbidden
from ..support.keys import digest, proof, proven
from ..ways_in.lti import full_window
from ..web import i18n
from ..web.current import gateway
from ..web.embed_page import gateway_origin, page_action, render_view, to_page
from ..web.urls import public_url
from . import embed as pages
from . import guard, links, new_tab, showing
from .embed import EmbedPage, Once
from .guard import Place

bp = Blueprint("launches", __name__)


def arrival_or_answer(host, profile, *, form: dict, subject: str, locale: str | None = None):
    """Judge how a launch arrived: (arrival, None) to go ahead, or (_, a response).

    ``subject`` names the launch (its token's id, or its link): the confirmation page holds
    the proof for it, so its "continue" is the only same-origin request that counts.
    """
    if request.method == "HEAD":
        return None, Response(status=200)  # a preview of the link uses nothing up
    i18n.speak(locale, host.language)  # the confirmation page's, or an error page's
    secret = current_app.config["GATEWAY_SECRET_KEY"]
    arrival = guard.judge(
        request.headers,
        request.method,
        host.origins,
        gateway_origin=gateway_origin(),
        proven=proven(secret, request.form.get("proof"), "confirm", subject),
    )
    if arrival is guard.Arrival.REFUSED:
        raise Forbidden(
            N_("a launch must be opened in a page of the site you came from"),
            host_origins=host.origins,
        )
    if arrival is guard.Arrival.CONFIRM:
        action = public_url(request.endpoint, **(request.view_args or {}))
        fields = {**form, "proof": proof(secret, "confirm", subject)}
        page = render_template(
            "confirm.html", host=host, profile=profile, action=action, form=fields
        )
        return arrival, Response(page, mimetype="text/html")
    return arrival, None


@bp.route("/launch/<key>", methods=["GET", "POST"])
def redeem(key):
    link = links.peek_handoff(gateway(), key)
    host = link.request.host
    g.frame_ancestors = host.origins
    arrival, answer = arrival_or_answer(
        host,
        link.request.profile,
        form={},
        subject="link\0" + digest(key),
        locale=link.request.locale,
    )
    if answer is not None:
        return answer
    return to_page(links.redeem_handoff(gateway(), key, guard.place_of(arrival)))


def once_extras(key: str, page: EmbedPage) -> Once:
    """What the one view of a framed page that no cookie reaches carries: its new-tab
    tickets, and for an LTI page the URL of its full-window launch."""
    tickets = tuple(new_tab.ticket(gateway(), digest(key)) for _ in range(new_tab.ONCE_TICKETS))
    url = None
    if page.lti is not None:
        url = full_window.resume_url(gateway(), digest(key), public_url("lti.launch"))
    return Once(tickets, url)


@bp.get("/embed/<key>")
def embed(key):
    shown = showing.view(
        gateway(),
        key,
        request.headers,
        request.cookies,
        places=(Place.FRAMED, Place.TOP),
        once=once_extras,
    )
    return render_view(shown)


OWN_PAGE_ONLY = N_("this can be done only from the notebook's own page")


def _acting(key: str) -> showing.ActingPage:
    return page_action(key, Forbidden(OWN_PAGE_ONLY))


@bp.post("/embed/<key>/new-tab", endpoint="new_tab")
def open_new_tab(key):
    """The framed page's "Open in a new tab" (a form posted into ``_blank``): a new page of
    the same launch that signs in at top level, in this browser only. Only the framed page
    may ask: same-origin, and with a one-time ticket only that page was given."""
    if not guard.from_own_page(request.headers, gateway_origin()):
        raise Forbidden(N_("a new tab can be opened only from the notebook's own page"))
    return to_page(new_tab.copy_for_new_tab(gateway(), key, request.form.get("ticket")))


@bp.post("/embed/<key>/new-tab/ticket", endpoint="new_tab_ticket")
def new_tab_ticket(key):
    """A one-time ticket for the page's new tab, for the page's own browser only."""
    acting = _acting(key)
    if acting.row.place is not Place.FRAMED:
        raise Forbidden(N_("only a notebook inside a site's page opens a new tab"))
    return jsonify(ticket=new_tab.ticket(gateway(), acting.digest))


@bp.post("/embed/<key>/signed-in")
def signed_in(key):
    pages.signed_in(gateway(), _acting(key).digest)
    return "", 204


@bp.post("/embed/<key>/start")
def start_again(key):
    """The page's ``open`` did not complete: ask CoCalc to start the project again."""
    row = _acting(key).row
    started = pages.restart_project(gateway(), row.user_project_id, row.project_id)
    return jsonify(started=started), 202
