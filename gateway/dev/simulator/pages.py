"""Browser-facing pages of the simulator: the kiosk page, token sign-in, and test controls."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, jsonify, make_response, redirect, render_template, request

from .plumbing import sim
from .state import FAULT_MODES

bp = Blueprint("sim_pages", __name__)

COOKIE = "remember_me"


def _signed_in_account() -> str | None:
    return sim().state.session_account(request.cookies.get(COOKIE))


def _sign_in_cookie(response, account_id: str):
    session = sim().state.new_session(account_id)
    response.set_cookie(COOKIE, session, httponly=True, samesite="Strict", max_age=12 * 3600)
    response.set_cookie("account_id", account_id, samesite="Strict", max_age=12 * 3600)
    return response


@bp.get("/projects/<project_id>/files/<path:path>")
def kiosk(project_id, path):
    config, state = sim().config, sim().state
    token = request.args.get("auth_token")
    if token and config.dialect == "v1":
        # v1-era CoCalc signs in with the token, then drops it from the address bar.
        account_id = state.token_account(token)
        if account_id is None:
            return render_template(
                "simulator/message.html",
                title="Invalid auth token",
                text="The auth token is unknown or expired.",
            ), 401
        args = {k: v for k, v in request.args.items() if k != "auth_token"}
        return _sign_in_cookie(redirect(f"{request.path}?{urlencode(args)}"), account_id)
    account_id = _signed_in_account()
    if account_id is None:
        return render_template(
            "simulator/message.html", title="Sign in to CoCalc", text="You are not signed in."
        ), 200
    project = state.projects.get(project_id)
    if project is None or not project.has_access(account_id):
        return render_template(
            "simulator/message.html",
            title="No access",
            text="You are not a collaborator on this project.",
        ), 403
    kiosk_mode = request.args.get("fullscreen") == "kiosk"
    # The v1 era opened the file from the URL; current CoCalc shows only a banner until "open".
    initial = path if config.dialect == "v1" else None
    return render_template(
        "simulator/kiosk.html",
        kiosk=kiosk_mode,
        project_id=project_id,
        initial=initial,
        settings={
            "iframe_comm_hosts": config.iframe_comm_hosts,
            "insecure_origins": config.insecure_origins,
            "open_delay_ms": config.open_delay_ms,
            "silent": state.peek_fault("kiosk") == "silent_kiosk",
            "initial": initial,
            "project_id": project_id,
        },
    )


@bp.get("/_sim/kiosk/file")
def kiosk_file():
    """Serve a file's text to a signed-in collaborator (the kiosk page's editor loads it)."""
    account_id = _signed_in_account()
    project = sim().state.projects.get(request.args.get("project_id", ""))
    if account_id is None or project is None or not project.has_access(account_id):
        return jsonify(error="no access to this project"), 403
    path = request.args.get("path", "").strip("/")
    with sim().state.lock:
        project.running = True
        content = project.files.setdefault(path, "") if path else ""
    return jsonify(path=path, content=content)


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
        return (
            f"ERROR: impersonate error -- Error: unknown or expired token: '{token}'",
            200,
            {"Content-Type": "text/plain"},
        )
    target = (config.dns or request.host_url.rstrip("/")) + "/app"
    page = render_template("simulator/redirect.html", target=target)
    return _sign_in_cookie(make_response(page), account_id)


@bp.get("/app")
def app_page():
    account_id = _signed_in_account()
    text = f"Signed in as {account_id}." if account_id else "You are not signed in."
    return render_template("simulator/message.html", title="CoCalc", text=text)


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


@bp.post("/_sim/config")
def configure():
    """Change latency, kiosk origins and timing knobs of a running simulator."""
    config = sim().config
    body = request.get_json(silent=True) or {}
    for name in ("latency_ms", "open_delay_ms", "fault_sleep_s"):
        if name in body:
            setattr(config, name, float(body[name]))
    for name in ("iframe_comm_hosts", "insecure_origins"):
        if name in body:
            setattr(config, name, [str(v) for v in body[name]])
    if "async_copies" in body:
        config.async_copies = bool(body["async_copies"])
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
            collaborators=sorted(project.collaborators),
            files=dict(project.files),
            running=project.running,
        )


@bp.post("/_sim/projects/<project_id>/stop")
def stop_project(project_id):
    state = sim().state
    with state.lock:
        project = state.projects.get(project_id)
        if project is None:
            abort(404)
        project.running = False
    return jsonify(ok=True)
