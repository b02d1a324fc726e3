"""Browser-facing pages of the simulator: kiosk pages, token sign-in, and test controls.

As the real server does (``../shared/cocalc-api.md`` sections 4 to 7): the current API's
kiosk URL answers 302 to ``/static/app.html?target=...``, a single-page app that rewrites the
address bar, answers postMessage before its iframe fires ``load``, says "connecting" in its
first status replies, shows its own sign-in screen without a cookie, and never opens a file
of a project that is not running. ``/auth/impersonate`` sets the sign-in cookies and
redirects on ``onload``. API v1 builds signed in with ``?auth_token=`` on the kiosk URL.
"""

from __future__ import annotations

import base64
import time
from urllib.parse import parse_qsl, quote, urlsplit

from flask import (
    Blueprint,
    Response,
    jsonify,
    make_response,
    render_template,
    request,
)

from .plumbing import sim
from .sessions import (
    TWELVE_HOURS,
    front_end_account,
    session_cookie,
    sign_in_cookies,
)

bp = Blueprint("sim_pages", __name__)


@bp.before_request
def _page_latency():
    delay = sim().config.page_latency_ms
    if delay > 0 and not request.path.startswith("/_sim/"):
        time.sleep(delay / 1000)


PIXEL = base64.b64decode("R0lGODlhAQABAAAAACw=")


def _found(location: str) -> Response:
    # Express's redirect: 302, text/plain, "Found. Redirecting to ..."
    response = Response(f"Found. Redirecting to {location}", 302, mimetype="text/plain")
    response.headers["Location"] = location
    return response


@bp.get("/projects/<project_id>/files/")
@bp.get("/projects/<project_id>/files/<path:path>")
def kiosk(project_id, path=""):
    # Both generations redirect app URLs to the single-page app (``app-redirect.ts``),
    # the query (``auth_token`` included) inside ``target``.
    target = request.full_path if request.query_string else request.path
    return _found(f"/static/app.html?target={quote(target, safe='')}")


@bp.get("/_sim/v1/sign-in")
def v1_sign_in():
    """What the v1-era app does with ``?auth_token=`` once its websocket is open: sign in
    with the token (``sign_in_using_auth_token``), which sets ``remember_me`` (an AJAX
    ``GET /cookies?set=``); the app then reloads itself (``client/hub.ts``)."""
    account_id = sim().state.token_account(request.args.get("auth_token"))
    if account_id is None or sim().config.dialect != "v1":
        return jsonify(error="unknown or expired auth token"), 401
    return sign_in_cookies(jsonify(ok=True), account_id)


@bp.get("/app")
def app_redirect():
    if request.args.get("get_api_key") and sim().config.dialect == "v1":
        from .keys import get_api_key_page

        return get_api_key_page()
    return _found("/static/app.html")


@bp.get("/static/app.html")
def app_page():
    """The single-page app: what the target names, or just who is signed in."""
    target = urlsplit(request.args.get("target", ""))
    parts = target.path.strip("/").split("/")
    if len(parts) >= 3 and parts[0] == "projects" and parts[2] == "files":
        query = dict(parse_qsl(target.query))
        kiosk_mode = query.get("fullscreen") == "kiosk"
        path = "/".join(parts[3:])
        if sim().config.dialect == "v1":  # the v1-era app opens the URL's file itself
            return _app(parts[1], path, kiosk_mode, initial=path, token=query.get("auth_token"))
        return _app(parts[1], path, kiosk_mode, initial=None)
    account_id = front_end_account()
    text = f"Signed in as {account_id}." if account_id else "You are not signed in."
    return render_template("simulator/message.html", title="CoCalc", text=text)


def _app(
    project_id: str, path: str, kiosk_mode: bool, *, initial: str | None, token: str | None = None
):
    """The app showing a project's file (current CoCalc opens it only on ``open``);
    ``token``: the v1-era app's ``?auth_token=``, which it signs in with, then reloads."""
    config, state = sim().config, sim().state
    account_id = front_end_account()
    project = state.projects.get(project_id)
    if account_id is not None and (project is None or not project.has_access(account_id)):
        return render_template(
            "simulator/message.html",
            title="No access",
            text="You are not a collaborator on this project.",
        ), 403
    settings = {
        "app_init_ms": config.app_init_ms,
        "iframe_comm_hosts": config.iframe_comm_hosts,
        "insecure_origins": config.insecure_origins,
        "open_delay_ms": config.open_delay_ms,
        "editor_delay_ms": config.editor_delay_ms,
        "connect_delay_ms": config.connect_delay_ms,
        "silent": state.peek_fault("kiosk") == "silent_kiosk",
        "signed_in": account_id is not None,
        "sign_in_token": token,
        # Where the v1-era app reloads to after its sign-in: the page without the token.
        "reload_to": f"/projects/{project_id}/files/{quote(path)}?fullscreen=kiosk&session="
        if token
        else None,
        "initial": initial,
        "project_id": project_id,
        # The app rewrites the address bar to the project's page, without path or session.
        "address": f"/projects/{project_id}/files/?fullscreen=kiosk"
        if kiosk_mode and config.dialect == "current"
        else None,
    }
    return render_template(
        "simulator/kiosk.html",
        kiosk=kiosk_mode,
        settings=settings,
        load_delay_ms=int(config.load_delay_ms),
        bundle_ms=int(config.app_bundle_ms),
    )


@bp.get("/_sim/asset")
def slow_asset():
    """A picture that arrives late: the app's ``load`` fires after its first replies."""
    time.sleep(min(float(request.args.get("delay_ms", 0)), 5000) / 1000)
    return Response(PIXEL, mimetype="image/gif", headers={"Cache-Control": "no-store"})


@bp.get("/_sim/kiosk/file")
def kiosk_file():
    """A file's text for a signed-in collaborator, and whether the project is running."""
    account_id = front_end_account()
    project = sim().state.projects.get(request.args.get("project_id", ""))
    if account_id is None or project is None or not project.has_access(account_id):
        return jsonify(error="no access to this project"), 403
    path = request.args.get("path", "").strip("/")
    with sim().state.lock:
        content = project.files.setdefault(path, "") if path and project.running else ""
    return jsonify(path=path, content=content, state=project.state)


@bp.get("/_sim/forge")
def forge():
    """A page that posts the given JSON to its parent: a forger on CoCalc's own origin."""
    return render_template("simulator/forge.html", message=request.args.get("message", "{}"))


@bp.get("/_sim/app-bundle.js")
def app_bundle():
    """The app's bundle: slow to download the first time, then the browser's cached copy
    (CoCalc's static files have hashed names and a long cache life)."""
    time.sleep(min(float(request.args.get("delay_ms", 0)), 10_000) / 1000)
    script = "window.__simBundleLoaded = performance.now();"
    headers = {"Cache-Control": "public, max-age=31536000, immutable"}
    return Response(script, mimetype="text/javascript", headers=headers)


@bp.get("/auth/impersonate")
def impersonate():
    state, config = sim().state, sim().config
    if config.sign_in_delay_ms > 0:  # the hub round trip the real sign-in is
        time.sleep(config.sign_in_delay_ms / 1000)
    token = request.args.get("auth_token", "")
    account_id = state.token_account(token) if config.dialect == "current" else None
    if account_id is None:
        text = f"ERROR: impersonate error -- Error: unknown or expired token: '{token}'"
        return session_cookie(make_response(text, 200, {"Content-Type": "text/html"}))
    target = (config.dns or request.host_url.rstrip("/")) + "/app"
    page = render_template("simulator/redirect.html", target=target)
    return sign_in_cookies(make_response(page), account_id, max_age=TWELVE_HOURS)
