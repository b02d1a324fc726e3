"""The simulator's controls for tests and the demo (not part of CoCalc): call counts,
faults, knobs, and a look at its projects and accounts."""

from __future__ import annotations

import base64

from flask import abort, jsonify, request

from .pages import bp
from .plumbing import sim
from .state import FAULT_MODES, UUID_RE


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
    "first_project_start_ms",
    "sign_in_delay_ms",
    "app_bundle_ms",
    "app_init_ms",
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
    if "real_exec" in body:
        config.real_exec = bool(body["real_exec"])
    if "advance_clock_s" in body:
        sim().state.advance(float(body["advance_clock_s"]))
    return jsonify(ok=True)


def _project_or_404(state, project_id: str):
    """The project a control names (the caller holds the state's lock), else a 404."""
    project = state.projects.get(project_id)
    if project is None or not UUID_RE.match(project_id):
        abort(404)
    return project


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@bp.put("/_sim/projects/<project_id>/files/<path:path>")
def put_file(project_id, path):
    """Put a file (any bytes) into a project, as a user's upload would (tests: a grader's
    archive in a teacher's project)."""
    state = sim().state
    with state.lock:
        project = _project_or_404(state, project_id)
        data = request.get_data()
        try:
            project.files[path.strip("/")] = data.decode()
        except UnicodeDecodeError:
            project.files[path.strip("/")] = data
    return jsonify(ok=True)


@bp.get("/_sim/projects/<project_id>")
def project_info(project_id):
    state = sim().state
    with state.lock:
        project = _project_or_404(state, project_id)
        return jsonify(
            project_id=project.project_id,
            owner=project.owner,
            title=project.title,
            description=project.description,
            collaborators=sorted(project.collaborators),
            files={
                path: content if isinstance(content, str) else {"base64": _b64(content)}
                for path, content in project.files.items()
            },
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
        project = _project_or_404(state, project_id)
    state.start_project(project)
    return jsonify(ok=True)


@bp.post("/_sim/projects/<project_id>/stop")
def stop_project(project_id):
    state = sim().state
    with state.lock:
        project = _project_or_404(state, project_id)
        project.state = "stopped"
    return jsonify(ok=True)
