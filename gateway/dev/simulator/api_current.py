"""The current CoCalc API: REST ``/api/v2/...`` and RPC ``/api/conat/hub``.

As the real server answers (``../shared/cocalc-api.md`` sections 3, 6 and 7): failures are
HTTP 200 ``{"error"}`` or sign-up ``{"issues"}``, except malformed sign-up bodies (HTTP 400);
on REST endpoints a sign-in cookie beats the API key; sign-up with the e-mail and password
of an existing account signs the caller in; an admin's token call never checks a password.
"""

from __future__ import annotations

import time
import uuid

from flask import Blueprint, jsonify, make_response, request

from . import passwords
from .api_v1 import copy_files, search_users
from .plumbing import faulted, proxy_page, request_api_key, sim
from .sessions import sign_in_cookies, signed_in_account
from .state import EMAIL_RE, UUID_RE, SimError

bp = Blueprint("sim_api_current", __name__)

#: The real server's ban after a non-admin's wrong password (server/auth/auth-token.ts).
BAN_S = 30
#: Its message, with the unevaluated template the real code has.
BANNED = "banned -- please wait at least #{BAN_TIME_MS/1000}s before trying again"
ADMIN_ONLY_SIGN_UP = "Only users in the group 'admin' are allowed to create new users."


def _error(text: str):
    return jsonify(error=text)


def _hub_error(text: str):
    # The hub answers `${err}`: "Error: ..." unless the error has a name of its own.
    named = text.split(":", 1)[0].endswith("Error")
    return _error(text if named else f"Error: {text}")


def _key_caller():
    key = request_api_key()
    if not key:
        return None, "You must provide authentication via an API key."
    caller = sim().state.caller(key)
    if caller is None:
        return None, "must be signed in and MUST provide an api key (cookies are not allowed)"
    return caller, None


def _rest_caller():
    """REST endpoints take a sign-in cookie first, and the API key only without one."""
    account_id = signed_in_account()
    if account_id is not None:
        return sim().state.accounts.get(account_id), None
    return _key_caller()


def _current_only():
    return None if sim().config.dialect == "current" else proxy_page(404, "Not Found")


def _serve(endpoint: str, run, *, caller_from=_rest_caller, error=_error):
    """Answer a current-API call: the caller, then the handler's value or its error."""
    wrong = _current_only()
    if wrong is not None:
        return wrong
    caller, problem = caller_from()
    if problem is not None:
        sim().state.count(endpoint)
        return _error(problem)

    def handle():
        try:
            value = run(caller)
        except SimError as exc:
            return error(str(exc))
        return value if hasattr(value, "status_code") else jsonify(value)

    return faulted(endpoint, handle, error)


def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


# -- sign-up ---------------------------------------------------------------------------------
def _invalid_body(errors: list[dict]):
    return jsonify(message="Invalid request body.", errors=errors), 400


def _sign_up_shape_error(body):
    """The request schema's verdict (zod): None, or the HTTP 400 the real server answers."""
    fields = ("email", "password", "firstName", "lastName")
    regular = (
        isinstance(body, dict)
        and all(isinstance(body.get(f), str) for f in fields)
        and isinstance(body.get("terms"), bool)
        and body.get("anonymous") in (None, False)
    )
    anonymous = isinstance(body, dict) and body.get("anonymous") is True
    if not regular and not anonymous:
        return _invalid_body(
            [{"code": "invalid_union", "unionErrors": [], "path": [], "message": "Invalid input"}]
        )
    if regular and not EMAIL_RE.match(body["email"]):
        return _invalid_body(
            [
                {
                    "validation": "email",
                    "code": "invalid_string",
                    "message": "Invalid email",
                    "path": ["email"],
                }
            ]
        )
    return None


def obvious_issues(email: str, password: str, terms: bool) -> dict:
    issues = {}
    if not terms:
        issues["terms"] = "You must agree to the terms of usage."
    if not EMAIL_RE.match(email or ""):
        issues["email"] = f"You must provide a valid email address -- '{email}' is not valid."
    weakness = passwords.problem(password)
    if weakness:
        issues["password"] = weakness
    return issues


def create_account(email, password, first, last) -> str:
    """Create an account with its "My First Project", which sign-up also starts."""
    state = sim().state
    account_id = state.add_account(email, password=password, first=first, last=last)
    state.add_project(account_id, title="My First Project", start=True)
    return account_id


def sign_up(caller, body) -> tuple[dict, str | None]:
    """Run /auth/sign-up's rules in the real order; return the reply and whom to sign in."""
    state, config = sim().state, sim().config
    password = (body.get("password") or "").strip()
    email = (body.get("email") or "").lower().strip()
    first = (body.get("firstName") or "Anonymous").strip()
    last = (body.get("lastName") or f"User-{int(time.time())}").strip()
    if body.get("anonymous") is True:
        return {
            "issues": {"api": "Creation of anonymous accounts via the API is not allowed."}
        }, None
    existing = state.by_email(email)
    if existing is not None and password and existing.password == password:
        return {"account_id": existing.account_id}, existing.account_id  # signs the caller in
    issues = obvious_issues(email, password, bool(body.get("terms")))
    if issues:
        return {"issues": issues}, None
    if caller is None:
        return {"issues": {"reCaptcha": "reCaptcha token missing"}}, None
    if not caller.admin:
        return {"issues": {"api": f"Error: {ADMIN_ONLY_SIGN_UP}"}}, None
    if existing is not None:
        return {"issues": {"email": f'Email address "{email}" already in use.'}}, None
    token = config.registration_token
    if token and body.get("registrationToken") != token:
        issue = "Issue with registration token -- Invalid registration token."
        return {"issues": {"registrationToken": issue}}, None
    if not state.check_creation_rate(config.account_rate_limit):
        return {"error": "too many accounts created from this address; try again later"}, None
    return {"account_id": create_account(email, password, first, last)}, None


@bp.post("/api/v2/auth/sign-up")
def rest_sign_up():
    wrong = _current_only()
    if wrong is not None:
        return wrong
    body = request.get_json(silent=True)
    shape = _sign_up_shape_error(body)
    if shape is not None:
        sim().state.count("v2/auth/sign-up")
        return shape

    def run(_caller):
        caller, _problem = _rest_caller()
        reply, sign_in = sign_up(caller, body)
        response = make_response(jsonify(reply))
        if sign_in:
            sign_in_cookies(response, sign_in, max_age=183 * 24 * 3600)
        return response

    return _serve("v2/auth/sign-up", run, caller_from=lambda: (None, None))


# -- projects (REST) -------------------------------------------------------------------------
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


@bp.post("/api/v2/projects/get")
def rest_get_projects():
    def run(caller):
        b = _body()
        account_id = b.get("account_id")
        if account_id and not caller.admin:
            raise SimError(
                "The `account_id` field may only be specified by account administrators."
            )
        account_id = account_id or caller.account_id
        state = sim().state
        with state.lock:
            mine = [p for p in state.projects.values() if p.has_access(account_id)]
        mine.reverse()  # most recently made first, like "ORDER BY last_edited DESC"
        limit = int(b.get("limit") or 50)
        return [
            {"project_id": p.project_id, "title": p.title, "description": p.description}
            for p in mine[:limit]
        ]

    return _serve("v2/projects/get", run)


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
        if b.get("path") is None:
            raise SimError("path must be specified")
        for name in ("src_project_id", "target_project_id"):
            if not UUID_RE.match(str(b.get(name, ""))):
                raise SimError(f"{name} must be a valid uuid")
        for end in ("target", "source"):
            project = sim().state.projects.get(
                b["target_project_id" if end == "target" else "src_project_id"]
            )
            if project is None or not project.has_access(caller.account_id):
                raise SimError(f"must be a collaborator on {end} project")
        record = copy_files(
            caller, b["src_project_id"], b["path"], b["target_project_id"], b.get("target_path")
        )
        if b.get("wait_until_done") is False and sim().config.async_copies:
            return {"copy_id": record_async_copy(record)}
        # copy_id is set only for copies that have not finished; otherwise "".
        return {"copy_id": ""}

    return _serve("v2/projects/copy-path", run)


def record_async_copy(record: dict) -> str:
    state = sim().state
    copy_id = str(uuid.uuid4())
    with state.lock:
        state.copies[copy_id] = {**record, "finished": state.now().isoformat()}
    return copy_id


@bp.post("/api/v2/projects/copy-path-status")
def rest_copy_path_status():
    def run(caller):
        record = sim().state.copies.get(str(_body().get("copy_id", "")))
        if record is None:
            raise SimError("copy_id not found")
        return {"started": record["started"], "finished": record["finished"], "copy_error": None}

    return _serve("v2/projects/copy-path-status", run)


@bp.post("/api/v2/projects/write-text-file")
def rest_write_text_file():
    def run(caller):
        b = _body()
        project = sim().state.project_for(caller, b.get("project_id", ""))
        with sim().state.lock:
            project.files[str(b.get("path", "")).strip("/")] = str(b.get("content", ""))
        return {"status": "ok"}

    return _serve("v2/projects/write-text-file", run)


# -- accounts and settings (REST) -----------------------------------------------------------
@bp.post("/api/v2/accounts/set-name")
def rest_set_name():
    def run(caller):
        b = _body()
        if b.get("account_id") and not caller.admin:
            raise SimError(
                "The `account_id` field may only be specified by account administrators."
            )
        state = sim().state
        with state.lock:
            account = state.accounts.get(b.get("account_id") or caller.account_id)
            if account is not None:
                account.first_name = b.get("first_name") or account.first_name
                account.last_name = b.get("last_name") or account.last_name
        return {"status": "ok"}

    return _serve("v2/accounts/set-name", run)


@bp.post("/api/v2/user-query")
def rest_user_query():
    def run(caller):
        setting = (_body().get("query") or {}).get("site_settings") or {}
        if not caller.admin:
            raise SimError("only admins may change site settings")
        if setting.get("name") == "iframe_comm_hosts":
            sim().config.iframe_comm_hosts = str(setting.get("value", "")).split()
        return {"query": {}}

    return _serve("v2/user-query", run)


# -- RPC hub ---------------------------------------------------------------------------------
def add_collaborator(caller, project_id, account_id):
    state = sim().state
    with state.lock:
        project = state.projects.get(project_id)
        if project is None or not project.has_access(caller.account_id):
            raise SimError("OwnershipError: Project not found")
        # The real server does not check that the account exists.
        project.collaborators.add(account_id)


def _options(opts, name: str) -> dict:
    if not isinstance(opts, dict):
        raise SimError(f"TypeError: Cannot create property 'account_id' on string '{opts}'")
    return opts


def hub_create_project(caller, opts):
    opts = _options(opts, "createProject")
    if opts.get("project_id") and not caller.admin:
        raise SimError("only admins can specify the project_id")
    return (
        sim()
        .state.add_project(
            caller.account_id,
            title=str(opts.get("title", "")),
            description=str(opts.get("description", "")),
            start=bool(opts.get("start")),
            project_id=opts.get("project_id"),
        )
        .project_id
    )


def hub_add_collaborator(caller, opts):
    opts = _options(opts, "addCollaborator").get("opts", opts)
    add_collaborator(caller, str(opts.get("project_id", "")), str(opts.get("account_id", "")))
    return {"project_id": [str(opts.get("project_id"))]}


def hub_remove_collaborator(caller, opts):
    opts = _options(opts, "removeCollaborator").get("opts", opts)
    state = sim().state
    with state.lock:
        project = state.projects.get(str(opts.get("project_id", "")))
        if project is None or not project.has_access(caller.account_id):
            raise SimError("OwnershipError: Project not found")
        project.collaborators.discard(str(opts.get("account_id", "")))
    return None


def hub_start(caller, opts):
    state = sim().state
    state.start_project(state.project_for(caller, _options(opts, "start").get("project_id", "")))
    return None


def hub_generate_token(caller, opts):
    opts = _options(opts, "generateUserAuthToken")
    account_id = str(opts.get("user_account_id", ""))
    state = sim().state
    key = (caller.account_id, account_id)
    with state.lock:
        if state.blocked.get(key, 0) > state.now().timestamp():
            raise SimError(BANNED)
        if not caller.admin:  # only non-admins are checked: an admin's password is ignored
            account = state.accounts.get(account_id)
            if account is None or account.password != str(opts.get("password") or ""):
                state.blocked[key] = state.now().timestamp() + BAN_S
                raise SimError("incorrect password")
    return state.issue_token(account_id)  # an admin's call does not check the account


def hub_revoke_token(caller, token):
    sim().state.revoke_token(str(token))
    return None


def hub_user_search(caller, opts):
    opts = _options(opts, "userSearch")
    state = sim().state
    rows = []
    for r in search_users(str(opts.get("query", "")), opts.get("limit")):
        account = state.accounts[r["account_id"]]
        rows.append(
            {
                **r,
                "name": None,
                "last_active": None,
                "created": account.created,
                "email_address_verified": None,
            }
        )
    return rows


def hub_org_create_user(caller, opts):
    opts = _options(opts, "createUser")
    if not caller.admin:
        raise SimError("must be an admin of the organization")
    email = str(opts.get("email", "")).lower().strip()
    password = str(opts.get("password", ""))
    problems = obvious_issues(email, password, True)
    if sim().state.by_email(email):
        problems["email"] = f'Email address "{email}" already in use.'
    if problems:
        raise SimError("; ".join(problems.values()))
    return create_account(email, password, opts.get("firstName", ""), opts.get("lastName", ""))


def hub_org_create_token(caller, opts):
    if not caller.admin:
        raise SimError("must be an admin of the organization")
    token = sim().state.issue_token(str(_options(opts, "createToken").get("user", "")))
    return {"token": token, "url": f"{request.host_url}auth/impersonate?auth_token={token}"}


def hub_org_expire_token(caller, opts):
    sim().state.revoke_token(str(_options(opts, "expireToken").get("token", "")))
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
            raise SimError(f"unknown function '{name}'")
        if not isinstance(args, list) or (not args and name != "system.ping"):
            raise SimError(f"TypeError: {name} needs its arguments")
        return function(caller, *args)

    # The hub takes the API key only: cookies are not allowed there.
    return _serve(
        name if name in HUB else "hub:unknown", run, caller_from=_key_caller, error=_hub_error
    )
