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
from urllib.parse import quote, urlencode, urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
)

from .plumbing import sim
from .sessions import TWELVE_HOURS, session_cookie, sign_in_cookies, signed_in_account
from .state import FAULT_MODES, UUID_RE

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
    config, state = sim().config, sim().state
    if config.dialect == "current":
        target = request.full_path if request.query_string else request.path
        return _found(f"/static/app.html?target={quote(target, safe='')}")
    token = request.args.get("auth_token")
    if token:
        # v1-era CoCalc signs in with the token, then drops it from the address bar.
        account_id = state.token_account(token)
        if account_id is None:
            return render_template(
                "simulator/message.html",
                title="Invalid auth token",
                text="The auth token is unknown or expired.",
            ), 401
        args = {k: v for k, v in request.args.items() if k != "auth_token"}
        return sign_in_cookies(redirect(f"{request.path}?{urlencode(args)}"), account_id)
    return _app(project_id, path, request.args.get("fullscreen") == "kiosk", initial=path)


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
        kiosk_mode = "fullscreen=kiosk" in target.query
        return _app(parts[1], "/".join(parts[3:]), kiosk_mode, initial=None)
    account_id = signed_in_account()
    text = f"Signed in as {account_id}." if account_id else "You are not signed in."
    return render_template("simulator/message.html", title="CoCalc", text=text)


def _app(project_id: str, path: str, kiosk_mode: bool, *, initial: str | None):
    """The app showing a project's file (current CoCalc opens it only on ``open``)."""
    config, state = sim().config, sim().state
    account_id = signed_in_account()
    project = state.projects.get(project_id)
    if account_id is not None and (project is None or not project.has_access(account_id)):
        return render_template(
            "simulator/message.html",
            title="No access",
            text="You are not a collaborator on this project.",
        ), 403
    settings = {
        "iframe_comm_hosts": config.iframe_comm_hosts,
        "insecure_origins": config.insecure_origins,
        "open_delay_ms": config.open_delay_ms,
        "editor_delay_ms": config.editor_delay_ms,
        "connect_delay_ms": config.connect_delay_ms,
        "silent": state.peek_fault("kiosk") == "silent_kiosk",
        "signed_in": account_id is not None,
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
    )


@bp.get("/_sim/asset")
def slow_asset():
    """A picture that arrives late: the app's ``load`` fires after its first replies."""
    time.sleep(min(float(request.args.get("delay_ms", 0)), 5000) / 1000)
    return Response(PIXEL, mimetype="image/gif", headers={"Cache-Control": "no-store"})


@bp.get("/_sim/kiosk/file")
def kiosk_file():
    """A file's text for a signed-in collaborator, and whether the project is running."""
    account_id = signed_in_account()
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


@bp.get("/auth/impersonate")
def impersonate():
    state, config = sim().state, sim().config
    token = request.args.get("auth_token", "")
    account_id = state.token_account(token) if config.dialect == "current" else None
    if account_id is None:
        text = f"ERROR: impersonate error -- Error: unknown or expired token: '{token}'"
        return session_cookie(make_response(text, 200, {"Content-Type": "text/html"}))
    target = (config.dns or request.host_url.rstrip("/")) + "/app"
    page = render_template("simulator/redirect.html", target=target)
    return sign_in_cookies(make_response(page), account_id, max_age=TWELVE_HOURS)


# -- controls for tests and the demo (not part of CoCalc) ------------------------------------
@bp.get("/_sim/calls")
def calls():
    """Report how many times each endpoint was called (read-only introspection)."""
    with sim().state.lock:
        counts = dict(sim().state.calls)
    return jsonify(total=sum(counts.values()), calls=counts, dialect=sim().config.dialect)


@bp.post("/_sim/reset")
def reset():
    """Forget calls and armed faults and restore the knobs (accounts and projects stay)."""
    simulator = sim()
    with simulator.state.lock:
        simulator.state.calls.clear()
        simulator.state.faults.clear()
        simulator.restore_knobs()
    return jsonify(ok=True)


@bp.post("/_sim/faults")
def faults():
    body = request.get_json(silent=True) or {}
    try:
        sim().state.set_fault(str(body["endpoint"]), str(body["mode"]), int(body.get("count", 1)))
    except (KeyError, TypeError, ValueError) as exc:
        return jsonify(error=f"need endpoint, mode ({', '.join(FAULT_MODES)}), count: {exc}"), 400
    return jsonify(ok=True)


NUMBER_KNOBS = (
    "latency_ms",
    "page_latency_ms",
    "open_delay_ms",
    "editor_delay_ms",
    "create_project_delay_ms",
    "fault_sleep_s",
    "load_delay_ms",
    "connect_delay_ms",
    "v1_ping_delay_ms",
)
CHOICE_KNOBS = {
    "copy_reply": ("empty", "missing", "async"),
    "samesite_remember_me": ("strict", "none"),
}


@bp.post("/_sim/config")
def configure():
    """Change latency, kiosk origins and timing knobs of a running simulator."""
    config = sim().config
    body = request.get_json(silent=True) or {}
    for name in NUMBER_KNOBS:
        if name in body:
            setattr(config, name, float(body[name]))
    for name in ("iframe_comm_hosts", "insecure_origins"):
        if name in body:
            setattr(config, name, [str(v) for v in body[name]])
    for name, choices in CHOICE_KNOBS.items():
        if name in body:
            if body[name] not in choices:
                return jsonify(error=f"{name} is one of {', '.join(choices)}"), 400
            setattr(config, name, body[name])
    if "account_rate_limit" in body:
        limit = body["account_rate_limit"]
        config.account_rate_limit = None if limit is None else int(limit)
    if "advance_clock_s" in body:
        sim().state.advance(float(body["advance_clock_s"]))
    return jsonify(ok=True)


@bp.get("/_sim/projects/<project_id>")
def project_info(project_id):
    state = sim().state
    with state.lock:
        project = state.projects.get(project_id)
        if project is None:
            abort(404)
        return jsonify(
            project_id=project.project_id,
            owner=project.owner,
            title=project.title,
            description=project.description,
            collaborators=sorted(project.collaborators),
            files=dict(project.files),
            read_only=sorted(project.read_only),
            state=project.state,
            running=project.running,
            deleted=project.deleted,
        )


@bp.get("/_sim/accounts/<account_id>")
def account_info(account_id):
    state = sim().state
    with state.lock:
        account = state.accounts.get(account_id)
        if account is None:
            abort(404)
        owned = [p.project_id for p in state.projects.values() if p.owner == account_id]
        return jsonify(
            account_id=account.account_id,
            deleted=account.deleted,
            email_address=account.email_address,
            first_name=account.first_name,
            last_name=account.last_name,
            projects=owned,
        )


@bp.post("/_sim/projects/<project_id>/start")
def start_project(project_id):
    state = sim().state
    with state.lock:
        project = state.projects.get(project_id)
        if project is None or not UUID_RE.match(project_id):
            abort(404)
    state.start_project(project)
    return jsonify(ok=True)


@bp.post("/_sim/projects/<project_id>/stop")
def stop_project(project_id):
    state = sim().state
    with state.lock:
        project = state.projects.get(project_id)
        if project is None or not UUID_RE.match(project_id):
            abort(404)
        project.state = "stopped"
    return jsonify(ok=True)
