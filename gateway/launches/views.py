"""HTTP views of launches: one-time links, embed pages, and what the embed page reports.

Every view that could sign a browser in asks ``guard.judge`` first (login CSRF), and none
of them does anything for ``HEAD``: mail scanners and link previewers send it, and a
launch link or token must survive them.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
)

from ..context import gateway
from ..errors import Forbidden
from ..web import assets
from ..web.security import embed_csp
from ..web.urls import public_url
from . import embed as pages
from . import guard, links, sites

bp = Blueprint("launches", __name__)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def embed_location(key: str) -> str:
    return public_url("launches.embed", key=key)


def arrival_or_answer(host, profile, *, form: dict):
    """Judge how a launch arrived: (arrival, None) to go ahead, or (_, a response)."""
    if request.method == "HEAD":
        return None, Response(status=200)  # a preview of the link uses nothing up
    arrival = guard.judge(request.headers, request.method, host.origins)
    if arrival is guard.Arrival.REFUSED:
        raise Forbidden(
            "a launch must be opened in a page of the site you came from",
            host_origins=host.origins,
        )
    if arrival is guard.Arrival.CONFIRM:
        action = public_url(request.endpoint, **(request.view_args or {}))
        page = render_template("confirm.html", host=host, profile=profile, action=action, form=form)
        return arrival, Response(page, mimetype="text/html")
    return arrival, None


@bp.route("/launch/<key>", methods=["GET", "POST"])
def redeem(key):
    link = links.peek_handoff(gateway(), key)
    g.frame_ancestors = link.host.origins
    arrival, answer = arrival_or_answer(link.host, link.profile, form={})
    if answer is not None:
        return answer
    top_level = arrival is guard.Arrival.TOP_LEVEL
    return redirect(embed_location(links.redeem_handoff(gateway(), key, top_level)), 303)


@bp.get("/embed/<key>")
def embed(key):
    return embed_page(key)


def embed_page(key: str, header: dict | None = None) -> Response:
    """The embed page of ``key``; ``header`` (a signed-in user's name and links) makes it a
    full-page notebook with a bar on top (the SSO way in)."""
    page = pages.load(gateway(), key)
    g.frame_ancestors = page.host_origins
    if not guard.may_show(request.headers, page.top_level):
        raise Forbidden(
            "this page works only inside the site you came from; open the launch there again",
            host_origins=page.host_origins,
        )
    config = current_app.config
    settings = {
        "cocalcOrigin": page.cocalc_origin,
        "projectId": page.project_id,
        "path": page.path,
        "hostOrigins": page.host_origins,
        "expiresAt": page.expires_at.isoformat(),
        "signedInUrl": public_url("launches.signed_in", key=key),
        "startUrl": public_url("launches.start_again", key=key),
        "dialect": page.dialect,
        # The current API's sign-in (the kiosk URL signs in itself on API v1): see the page.
        "signInUrl": page.sign_in.sign_in_url,
        "topLevel": page.top_level,
        "newTabUrl": public_url("launches.new_tab", key=key),
        # Whether CoCalc's sign-in cookie reaches a CoCalc frame under each host origin,
        # and under the gateway's own page (a new tab): "works", "might" or "cannot".
        "cookies": sites.verdicts(
            page.host_origins,
            origin_of(config["GATEWAY_PUBLIC_URL"]),
            page.cocalc_origin,
            config["COCALC_SAMESITE_REMEMBER_ME"],
        ),
        "readyTimeoutMs": config["GATEWAY_BRIDGE_TIMEOUT_MS"],
        # After an attempt that CoCalc answered but did not finish, the page asks for the
        # project to be started again (an interrupted start never opens a file).
        "openTimeoutMs": config["GATEWAY_OPEN_TIMEOUT_MS"],
        "openAttemptMs": config["GATEWAY_OPEN_RETRY_MS"],
        "handInUrl": public_url("lti.hand_in", key=key) if page.gradable else None,
    }
    modules, modules_hash = assets.import_map(current_app)
    html = render_template(
        "embed.html", page=page, settings=settings, header=header, import_map=modules
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = embed_csp(
        page.cocalc_origin, page.host_origins, modules_hash
    )
    return response


@bp.post("/embed/<key>/new-tab")
def new_tab(key):
    """The framed page's "Open in a new tab" (a form posted into ``_blank``): a new page of
    the same launch that may sign in at top level. Only the gateway's own page may ask."""
    if not guard.from_own_page(
        request.headers, origin_of(current_app.config["GATEWAY_PUBLIC_URL"])
    ):
        raise Forbidden("a new tab can be opened only from the notebook's own page")
    return redirect(embed_location(pages.copy_for_new_tab(gateway(), key)), 303)


@bp.post("/embed/<key>/signed-in")
def signed_in(key):
    pages.signed_in(gateway(), key)
    return "", 204


@bp.post("/embed/<key>/start")
def start_again(key):
    """The page's ``open`` did not complete: ask CoCalc to start the project again."""
    started = pages.restart_project(gateway(), key)
    return jsonify(started=started), 202
