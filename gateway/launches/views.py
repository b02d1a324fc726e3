"""HTTP views of launches: one-time links, embed pages, and what the embed page reports.

Every view that could sign a browser in asks ``guard`` first (login CSRF, the page
binding), and none of them does anything for ``HEAD``: mail scanners and link previewers
send it, and a launch link or token must survive them.
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
from flask_babel import format_datetime

from ..errors import Forbidden
from ..support.keys import digest, proof, proven
from ..web import assets, cookies, i18n, js_messages
from ..web.current import gateway
from ..web.security import embed_csp
from ..web.urls import public_url
from . import embed as pages
from . import guard, links, new_tab, showing, sites
from .embed import EmbedPage, Issued
from .guard import Admission, Place
from .showing import PageView

bp = Blueprint("launches", __name__)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def gateway_origin() -> str:
    return origin_of(current_app.config["GATEWAY_PUBLIC_URL"])


def embed_location(key: str) -> str:
    return public_url("launches.embed", key=key)


def to_page(issued: Issued, location: str | None = None) -> Response:
    """Send the browser to a page just issued; a top-level page's binding cookie is set in
    this same response, so the page works only in the browser that gets it."""
    response = redirect(location or embed_location(issued.key), 303)
    if issued.binding is not None:
        seconds = pages.seconds_left(issued)
        cookies.set_cookie(
            response,
            guard.BINDING_COOKIE,
            issued.binding,
            max_age=seconds,
            # The page's own URL: the cookie goes to this page only, and a browser with many
            # pages does not send them all on every request.
            path=urlsplit(embed_location(issued.key)).path,
            samesite="Lax",
            partitioned=False,
        )
    return response


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
            "a launch must be opened in a page of the site you came from",
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
    g.frame_ancestors = link.host.origins
    arrival, answer = arrival_or_answer(
        link.host, link.profile, form={}, subject="link\0" + digest(key), locale=link.locale
    )
    if answer is not None:
        return answer
    return to_page(links.redeem_handoff(gateway(), key, guard.place_of(arrival)))


@bp.get("/embed/<key>")
def embed(key):
    binding = request.cookies.get(guard.BINDING_COOKIE)
    shown = showing.view(
        gateway(),
        key,
        request.headers,
        places=(Place.FRAMED, Place.TOP),
        binding=digest(binding) if binding else None,
    )
    return render_view(shown)


def render_view(shown: PageView, header: dict | None = None) -> Response:
    """The response to a page view: the page, or the page that names whose it is."""
    if shown.admission is Admission.OTHER_BROWSER:
        html = render_template("other_browser.html", owner=shown.owner, host_name=shown.host_name)
        return Response(html, status=403, mimetype="text/html")
    return render_page(shown.page, header)


def _full_window_settings(page: EmbedPage) -> dict | None:
    """A framed LTI page may ask the LMS for a full-window launch before it offers a new
    tab (Canvas's ``lti.requestFullWindowLaunch``, where the platform supports it)."""
    if page.lti is None or page.place is not Place.FRAMED:
        return None
    return {
        "requestUrl": public_url("lti.full_window", key=page.key),
        # Canvas documents the message; others must list it in lti.capabilities.
        "canvas": page.lti.platform_family == "canvas",
        # A tool the platform put in a window of its own opens a new one; else this one.
        "launchType": "new_window" if page.lti.document_target == "window" else "same_window",
    }


def _review_settings(page: EmbedPage) -> dict | None:
    """What the review bar needs: whose hand-in this is, and where a grade goes."""
    review = page.review
    if review is None:
        return None
    return {
        "learner": review.learner_name,
        "handedInAt": review.handed_in_at.isoformat() if review.handed_in_at else None,
        "handedInAtText": (
            format_datetime(review.handed_in_at, "medium") if review.handed_in_at else None
        ),
        "gradeUrl": public_url("lti.grade", key=page.key) if review.may_grade else None,
    }


def render_page(page: EmbedPage, header: dict | None = None) -> Response:
    """The embed page; ``header`` (a signed-in user's name and links) makes it a full-page
    notebook with a bar on top (the SSO way in)."""
    g.frame_ancestors = page.host_origins
    i18n.speak(page.locale, page.host_language)
    config = current_app.config
    key = page.key
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
        # Whether CoCalc's sign-in cookie reaches a CoCalc frame under each host origin,
        # and under the gateway's own page (a new tab): "works", "might" or "cannot".
        "cookies": sites.verdicts(
            page.host_origins,
            gateway_origin(),
            page.cocalc_origin,
            config["COCALC_SAMESITE_REMEMBER_ME"],
        ),
        "readyTimeoutMs": config["GATEWAY_BRIDGE_TIMEOUT_MS"],
        # After an attempt that CoCalc answered but did not finish, the page asks for the
        # project to be started again (an interrupted start never opens a file).
        "openTimeoutMs": config["GATEWAY_OPEN_TIMEOUT_MS"],
        "openAttemptMs": config["GATEWAY_OPEN_RETRY_MS"],
        "handInUrl": public_url("lti.hand_in", key=key) if page.gradable else None,
        "review": _review_settings(page),
        "fullWindow": _full_window_settings(page),
        # The scripts' messages in the page's language, from the same catalogues.
        "messages": js_messages.for_page(),
    }
    # Only a framed page offers a new tab; its forms carry the one-time proofs.
    offer = None
    if page.place is Place.FRAMED:
        offer = {
            "url": public_url("launches.new_tab", key=key),
            "proofs": new_tab.proofs(gateway(), key),
        }
    modules, modules_hash = assets.import_map(current_app)
    html = render_template(
        "embed.html",
        page=page,
        settings=settings,
        header=header,
        new_tab=offer,
        import_map=modules,
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = embed_csp(
        page.cocalc_origin, page.host_origins, modules_hash
    )
    return response


@bp.post("/embed/<key>/new-tab", endpoint="new_tab")
def open_new_tab(key):
    """The framed page's "Open in a new tab" (a form posted into ``_blank``): a new page of
    the same launch that signs in at top level, in this browser only. Only the framed page
    may ask: same-origin, and with one of the one-time proofs only that page holds."""
    if not guard.from_own_page(request.headers, gateway_origin()):
        raise Forbidden("a new tab can be opened only from the notebook's own page")
    return to_page(new_tab.copy_for_new_tab(gateway(), key, request.form.get("proof")))


@bp.post("/embed/<key>/signed-in")
def signed_in(key):
    pages.signed_in(gateway(), key)
    return "", 204


@bp.post("/embed/<key>/start")
def start_again(key):
    """The page's ``open`` did not complete: ask CoCalc to start the project again."""
    started = pages.restart_project(gateway(), key)
    return jsonify(started=started), 202
