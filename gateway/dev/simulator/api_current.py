"""The current CoCalc API: REST ``/api/v2/...`` and RPC ``/api/conat/hub``, always HTTP 200."""

from __future__ import annotations

import time

from flask import Blueprint, jsonify, request

from .api_v1 import authorize_user, copy_files, search_users
from .plumbing import faulted, proxy_page, request_api_key, sim
from .state import EMAIL_RE, SimError

bp = Blueprint("sim_api_current", __name__)

COMMON_PASSWORDS = {"password", "password1", "12345678", "qwertyui", "letmein1", "iloveyou"}


def _error(text: str):
    return jsonify(error=text)


def _caller_or_error():
    key = request_api_key()
    if not key:
        return None, _error("You must provide authentication via an API key.")
    caller = sim().state.caller(key)
    if caller is None:
        return None, _error(
            "must be signed in and MUST provide an api key (cookies are not allowed)"
        )
    return caller, None


def _serve(endpoint: str, run):
    """Answer a current-API call: key check, then the handler's value or its error."""
    if sim().config.dialect != "current":
        return proxy_page(404, "Not Found")
    caller, problem = _caller_or_error()
    if problem is not None:
        sim().state.count(endpoint)
        return problem

    def handle():
        try:
            return jsonify(run(caller))
        except SimError as exc:
            return _error(str(exc))

    return faulted(endpoint, handle, _error)


# -- REST ----------------------------------------------------------------------------------------
def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def weak(password: str) -> bool:
    lowered = password.lower()
    return (
        lowered in COMMON_PASSWORDS
        or len(set(password)) < 6
        or password.isalpha()
        or password.isdigit()
    )


def sign_up(caller, email, password, first, last, terms=True) -> str:
    """Create an account the way /auth/sign-up does, with its "My First Project"."""
    state = sim().state
    issues = {}
    if not caller.admin:
        raise SimError("only site admins may create accounts through the API")
    if not terms:
        issues["terms"] = "You must agree to the terms of usage."
    if not EMAIL_RE.match(email or ""):
        issues["email"] = f'Email address "{email}" is not valid.'
    elif state.by_email(email):
        issues["email"] = f'Email address "{email}" already in use.'
    if not 8 <= len(password or "") <= 64:
        issues["password"] = "Your password must have between 8 and 64 characters."
    elif weak(password):
        issues["password"] = "Your password must not be very easy to guess."
    if issues:
        raise IssuesError(issues)
    account_id = state.add_account(email, password=password, first=first, last=last)
    state.add_project(account_id, title="My First Project", start=True)
    return account_id


class IssuesError(Exception):
    def __init__(self, issues):
        super().__init__("issues")
        self.issues = issues


@bp.post("/api/v2/auth/sign-up")
def rest_sign_up():
    def run(caller):
        b = _body()
        try:
            account_id = sign_up(
                caller,
                str(b.get("email", "")),
                str(b.get("password", "")),
                str(b.get("firstName", "")),
                str(b.get("lastName", "")),
                bool(b.get("terms")),
            )
        except IssuesError as exc:
            return {"issues": exc.issues}
        return {"account_id": account_id}

    return _serve("v2/auth/sign-up", run)


@bp.post("/api/v2/projects/create")
def rest_create_project():
    def run(caller):
        b = _body()
        project = sim().state.add_project(
            caller.account_id,
            title=str(b.get("title", "")),
            description=str(b.get("description", "")),
            start=bool(b.get("start")),
        )
        return {"project_id": project.project_id}

    return _serve("v2/projects/create", run)


@bp.post("/api/v2/projects/collaborators/add")
def rest_add_collaborator():
    def run(caller):
        b = _body()
        add_collaborator(caller, str(b.get("project_id", "")), str(b.get("account_id", "")))
        return {"status": "ok"}

    return _serve("v2/projects/collaborators/add", run)


@bp.post("/api/v2/projects/copy-path")
def rest_copy_path():
    def run(caller):
        b = _body()
        copy_files(
            caller,
            b.get("src_project_id", ""),
            b.get("path", ""),
            b.get("target_project_id", ""),
            b.get("target_path"),
        )
        return {"status": "ok"}

    return _serve("v2/projects/copy-path", run)


@bp.post("/api/v2/projects/write-text-file")
def rest_write_text_file():
    def run(caller):
        b = _body()
        project = sim().state.project_for(caller, b.get("project_id", ""))
        with sim().state.lock:
            project.files[str(b.get("path", "")).strip("/")] = str(b.get("content", ""))
        return {"status": "ok"}

    return _serve("v2/projects/write-text-file", run)


@bp.post("/api/v2/user-query")
def rest_user_query():
    def run(caller):
        setting = (_body().get("query") or {}).get("site_settings") or {}
        if not caller.admin:
            raise SimError("only admins may change site settings")
        if setting.get("name") == "iframe_comm_hosts":
            sim().config.iframe_comm_hosts = str(setting.get("value", "")).split()
        return {"query": {"site_settings": setting}}

    return _serve("v2/user-query", run)


# -- RPC hub -------------------------------------------------------------------------------------
def add_collaborator(caller, project_id, account_id):
    state = sim().state
    with state.lock:
        project = state.projects.get(project_id)
        if project is None or not project.has_access(caller.account_id):
            raise SimError("OwnershipError: Project not found")
        if account_id not in state.accounts:
            raise SimError("Error: no such account")
        project.collaborators.add(account_id)


def hub_create_project(caller, opts):
    return (
        sim()
        .state.add_project(
            caller.account_id,
            title=str(opts.get("title", "")),
            description=str(opts.get("description", "")),
            start=bool(opts.get("start")),
        )
        .project_id
    )


def hub_add_collaborator(caller, opts):
    opts = opts.get("opts", opts)
    add_collaborator(caller, str(opts.get("project_id", "")), str(opts.get("account_id", "")))
    return {"project_id": [str(opts.get("project_id"))]}


def hub_remove_collaborator(caller, opts):
    opts = opts.get("opts", opts)
    state = sim().state
    with state.lock:
        project = state.projects.get(str(opts.get("project_id", "")))
        if project is None or not project.has_access(caller.account_id):
            raise SimError("OwnershipError: Project not found")
        project.collaborators.discard(str(opts.get("account_id", "")))
    return None


def hub_start(caller, opts):
    project = sim().state.project_for(caller, opts.get("project_id", ""))
    with sim().state.lock:
        project.running = True
    return None


def hub_generate_token(caller, opts):
    account_id = str(opts.get("user_account_id", ""))
    password = str(opts.get("password") or "")
    if caller.admin and not password:
        return sim().state.issue_token(account_id)  # an admin's call does not check the account
    return sim().state.issue_token(authorize_user(caller, account_id, password))


def hub_revoke_token(caller, token):
    sim().state.revoke_token(str(token))
    return None


def hub_user_search(caller, opts):
    return [
        {
            **r,
            "name": f"{r['first_name']} {r['last_name']}".strip(),
            "last_active": None,
            "created": None,
            "email_address_verified": None,
        }
        for r in search_users(str(opts.get("query", "")), opts.get("limit"))
    ]


def hub_org_create_user(caller, opts):
    try:
        return sign_up(
            caller,
            str(opts.get("email", "")),
            str(opts.get("password", "")),
            str(opts.get("firstName", "")),
            str(opts.get("lastName", "")),
        )
    except IssuesError as exc:
        raise SimError("Error: " + "; ".join(exc.issues.values())) from None


def hub_org_create_token(caller, opts):
    if not caller.admin:
        raise SimError("Error: must be an admin of the organization")
    token = sim().state.issue_token(str(opts.get("user", "")))
    return {"token": token, "url": f"{request.host_url}auth/impersonate?auth_token={token}"}


def hub_org_expire_token(caller, opts):
    sim().state.revoke_token(str(opts.get("token", "")))
    return None


HUB = {
    "system.ping": lambda caller, *args: {"now": int(time.time() * 1000)},
    "projects.createProject": hub_create_project,
    "projects.addCollaborator": hub_add_collaborator,
    "projects.removeCollaborator": hub_remove_collaborator,
    "projects.start": hub_start,
    "system.generateUserAuthToken": hub_generate_token,
    "system.revokeUserAuthToken": hub_revoke_token,
    "system.userSearch": hub_user_search,
    "org.createUser": hub_org_create_user,
    "org.createToken": hub_org_create_token,
    "org.expireToken": hub_org_expire_token,
}


@bp.post("/api/conat/hub")
def hub():
    body = _body()
    name = str(body.get("name", ""))
    args = body.get("args") or []

    def run(caller):
        function = HUB.get(name)
        if function is None:
            raise SimError(f"Error: unknown function '{name}'")
        if not isinstance(args, list):
            raise SimError(f"Error: {name} needs its arguments")
        try:
            return function(caller, *args)
        except (TypeError, AttributeError):
            raise SimError(f"Error: invalid arguments for {name}") from None

    return _serve(name if name in HUB else "hub:unknown", run)
