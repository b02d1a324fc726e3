"""API v1 as the real server answered it: ``POST /api/v1/<event>``, strict about fields."""

from __future__ import annotations

import threading
import uuid

from flask import Blueprint, jsonify, request

from .plumbing import current_has_no_v1, faulted, request_api_key, sim
from .state import EMAIL_RE, UUID_RE, SimError

bp = Blueprint("sim_api_v1", __name__)

#: event -> (required fields, optional fields). ``id`` is allowed everywhere but copy_path_status.
FIELDS: dict[str, tuple[set[str], set[str]]] = {
    "ping": (set(), set()),
    "create_account": (
        set(),
        {
            "first_name",
            "last_name",
            "email_address",
            "password",
            "agreed_to_terms",
            "token",
            "utm",
            "referrer",
            "get_api_key",
            "usage_intent",
        },
    ),
    "create_project": (set(), {"title", "description", "image", "license", "start", "noPool"}),
    "user_auth": ({"account_id", "password"}, set()),
    "invite_collaborator": (
        {"project_id", "account_id"},
        {"title", "link2proj", "replyto", "replyto_name", "email", "subject"},
    ),
    "remove_collaborator": ({"project_id", "account_id"}, set()),
    "user_search": ({"query"}, {"limit", "admin", "active", "only_email"}),
    "copy_path_between_projects": (
        {"src_project_id", "src_path", "target_project_id"},
        {
            "target_path",
            "overwrite_newer",
            "delete_missing",
            "backup",
            "timeout",
            "wait_until_done",
            "scheduled",
            "exclude",
        },
    ),
    "copy_path_status": (set(), {"copy_path_id"}),
    "write_text_file_to_project": ({"project_id", "path", "content"}, set()),
    "read_text_file_from_project": ({"project_id", "path"}, set()),
    "project_exec": (
        {"project_id", "command"},
        {"path", "args", "timeout", "max_output", "bash", "err_on_exit", "aggregate"},
    ),
    "query": ({"query"}, {"changes", "multi_response", "options"}),
    "delete_account": ({"account_id"}, set()),
}

HANDLERS = {}


def handles(event):
    def register(fn):
        HANDLERS[event] = fn
        return fn

    return register


def truthy(value) -> bool:
    # The real server treated any non-empty form string as true, "false" included.
    return bool(value)


def bad_request(text: str):
    return jsonify(error=text), 400


@bp.post("/api/v1/<event>")
def call(event):
    if sim().config.dialect != "v1":
        return current_has_no_v1()
    if event not in FIELDS:
        return bad_request(f"unknown endpoint '{event}'")
    caller = sim().state.caller(request_api_key())
    if caller is None:
        return bad_request("No API key or invalid API key")
    body = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    if not isinstance(body, dict):
        return bad_request("request body must be a JSON object or form fields")
    required, optional = FIELDS[event]
    allowed = required | optional | ({"id"} if event != "copy_path_status" else set())
    unexpected = sorted(set(body) - allowed)
    if unexpected:
        return bad_request(f"unexpected field '{unexpected[0]}' for '{event}'")
    # "Required" means present: an empty string is a value (an admin's empty password).
    missing = sorted(f for f in required if body.get(f) is None)
    if missing:
        return bad_request(f"missing required field '{missing[0]}' for '{event}'")
    mesg_id = body.pop("id", None) or str(uuid.uuid4())

    def error(text):
        return jsonify(event="error", id=mesg_id, error=text)

    def handle():
        try:
            reply_event, fields = HANDLERS[event](caller, body)
        except SimError as exc:
            return error(str(exc))
        return jsonify(event=reply_event, id=mesg_id, **fields)

    return faulted(event, handle, error)


@handles("ping")
def ping(caller, body):
    return "pong", {"now": sim().state.now().isoformat()}


@handles("create_account")
def create_account(caller, body):
    config, state = sim().config, sim().state
    email = str(body.get("email_address") or "").strip()
    password = str(body.get("password") or "")
    reason = {}
    if not truthy(body.get("agreed_to_terms")):
        reason["agreed_to_terms"] = "Agree to the Terms of Service."
    if not body.get("first_name"):
        reason["first_name"] = "Enter your first name."
    if not body.get("last_name"):
        reason["last_name"] = "Enter your last name."
    if not EMAIL_RE.match(email):
        reason["email_address"] = "Email address is invalid."
    elif state.by_email(email):
        reason["email_address"] = "This e-mail address is already taken."
    if not 6 <= len(password) <= 64:
        reason["password"] = "Password must be between 6 and 64 characters in length."
    if config.registration_token and body.get("token") != config.registration_token:
        reason["token"] = "Incorrect registration token."
    if not reason and not state.check_creation_rate(config.account_rate_limit):
        reason["other"] = "Too many accounts are being created from this address; try later."
    if reason:
        return "account_creation_failed", {"reason": reason}
    account_id = state.add_account(
        email, password=password, first=body["first_name"], last=body["last_name"]
    )
    return "account_created", {"account_id": account_id}


@handles("create_project")
def create_project(caller, body):
    project = sim().state.add_project(
        caller.account_id,
        title=str(body.get("title") or ""),
        description=str(body.get("description") or ""),
        start=truthy(body.get("start")),
    )
    return "project_created", {"project_id": project.project_id}


@handles("user_auth")
def user_auth(caller, body):
    state = sim().state
    account_id, password = str(body["account_id"]), str(body.get("password") or "")
    token_for = authorize_user(caller, account_id, password)
    return "user_auth_token", {"auth_token": state.issue_token(token_for)}


def authorize_user(caller, account_id, password) -> str:
    """Apply CoCalc's user_auth rules; return the account to issue a token for."""
    state = sim().state
    key = (caller.account_id, account_id)
    with state.lock:
        until = state.blocked.get(key, 0)
        if until > state.now().timestamp():
            raise SimError("too many attempts: wait a minute before trying again")
        account = state.accounts.get(account_id)
        if not password:
            if not caller.admin:
                raise SimError("password must be given unless you are an admin")
            if account is None:
                raise SimError("no such account")
            return account_id
        if account is None or account.password != password:
            state.blocked[key] = state.now().timestamp() + 60
            raise SimError("incorrect password")
        return account_id


@handles("invite_collaborator")
def invite_collaborator(caller, body):
    state = sim().state
    project = state.project_for(caller, body["project_id"])
    if body["account_id"] not in state.accounts:
        raise SimError("no such account")
    with state.lock:
        project.collaborators.add(body["account_id"])
    return "success", {}


@handles("remove_collaborator")
def remove_collaborator(caller, body):
    state = sim().state
    project = state.project_for(caller, body["project_id"])
    if body["account_id"] == project.owner:
        raise SimError("cannot remove the owner of a project")
    with state.lock:
        project.collaborators.discard(body["account_id"])
    return "success", {}


@handles("user_search")
def user_search(caller, body):
    return "user_search_results", {"results": search_users(body["query"], body.get("limit"))}


def search_users(query: str, limit) -> list[dict]:
    """Exact e-mail items return that account with its address; names never reveal addresses."""
    state = sim().state
    limit = min(int(limit or 20), 50)
    results = []
    for item in (part.strip() for part in str(query).split(",")):
        if not item:
            continue
        if EMAIL_RE.match(item):
            account = state.by_email(item)
            if account:
                results.append(
                    {
                        "account_id": account.account_id,
                        "first_name": account.first_name,
                        "last_name": account.last_name,
                        "email_address": account.email_address,
                    }
                )
            continue
        words = item.lower().split()
        with state.lock:
            for account in state.accounts.values():
                names = (account.first_name.lower(), account.last_name.lower())
                if all(any(n.startswith(w) for n in names) for w in words):
                    results.append(
                        {
                            "account_id": account.account_id,
                            "first_name": account.first_name,
                            "last_name": account.last_name,
                        }
                    )
    return results[:limit]


def copy_files(caller, src_project_id, src_path, target_project_id, target_path) -> dict:
    """Copy a file or folder between projects the caller can reach; return the status record."""
    state = sim().state
    source = state.project_for(caller, src_project_id)
    target = state.project_for(caller, target_project_id)
    src_path = str(src_path).strip("/")
    target_path = str(target_path or src_path).strip("/")
    with state.lock:
        picked = {
            p: c
            for p, c in source.files.items()
            if p == src_path or not src_path or p.startswith(src_path + "/")
        }
        if not picked:
            raise SimError(f"No such file or directory: '{src_path}'")
        for path, content in picked.items():
            tail = path[len(src_path) :].lstrip("/") if src_path else path
            target.files["/".join(p for p in (target_path, tail) if p)] = content
    now = state.now().isoformat()
    return {
        "source_project_id": source.project_id,
        "source_path": src_path,
        "target_project_id": target.project_id,
        "target_path": target_path,
        "time": now,
        "started": now,
    }


@handles("copy_path_between_projects")
def copy_path_between_projects(caller, body):
    state = sim().state
    record = copy_files(
        caller,
        body["src_project_id"],
        body["src_path"],
        body["target_project_id"],
        body.get("target_path"),
    )
    reply = sim().config.copy_reply
    note = (
        "Query copy_path_status with the copy_path_id to learn if the copy operation was "
        "successful."
    )
    if reply == "missing":
        return "success", {}
    if reply != "async":  # what a real server of 2024-09 answered, even with wait_until_done
        return "copy_path_between_projects_response", {"copy_path_id": "", "note": note}
    copy_path_id = str(uuid.uuid4())
    record["copy_path_id"] = copy_path_id
    with state.lock:
        state.copies[copy_path_id] = record

    def finish():
        with state.lock:
            record["finished"] = state.now().isoformat()

    # The copy "runs" in the background: the status shows it finished a moment later.
    threading.Timer(0.2, finish).start()
    return "copy_path_between_projects_response", {"copy_path_id": copy_path_id, "note": note}


@handles("copy_path_status")
def copy_path_status(caller, body):
    state = sim().state
    copy_path_id = str(body.get("copy_path_id") or "")
    if not UUID_RE.match(copy_path_id):
        raise SimError(f'postgresql error: invalid input syntax for type uuid: "{copy_path_id}"')
    with state.lock:
        record = state.copies.get(copy_path_id)
        if record is None:
            raise SimError("no such copy operation")
        return "copy_path_status_response", {"data": dict(record)}


@handles("write_text_file_to_project")
def write_text_file(caller, body):
    state = sim().state
    project = state.project_for(caller, body["project_id"])
    with state.lock:
        project.files[str(body["path"]).strip("/")] = str(body["content"])
    return "file_written_to_project", {}


@handles("read_text_file_from_project")
def read_text_file(caller, body):
    state = sim().state
    project = state.project_for(caller, body["project_id"])
    with state.lock:
        content = project.files.get(str(body["path"]).strip("/"))
    if content is None:
        raise SimError(f"no such file: '{body['path']}'")
    return "text_file_read_from_project", {"content": content}


@handles("project_exec")
def project_exec(caller, body):
    state = sim().state
    project = state.project_for(caller, body["project_id"])
    state.start_project(project)  # running a command starts a stopped project
    args = body.get("args") or []
    words = str(body["command"]).split() + [str(a) for a in args]
    name, rest = (words[0], words[1:]) if words else ("", [])
    home = f"/projects/{project.project_id}"
    if name == "true":
        out = ("", "", 0)
    elif name == "echo":
        out = (" ".join(rest) + "\n", "", 0)
    elif name == "pwd":
        out = (home + ("/" + body["path"] if body.get("path") else "") + "\n", "", 0)
    elif name == "ls":
        out = ("".join(p + "\n" for p in sorted(project.files)), "", 0)
    else:
        out = ("", f"bash: {name}: command not found\n", 127)
    return "project_exec_output", {"stdout": out[0], "stderr": out[1], "exit_code": out[2]}


@handles("query")
def query(caller, body):
    """The documented user query on ``projects``: the caller's projects, filtered by the
    values given (``{"project_id": null, "description": "..."}``)."""
    asked = body["query"] if isinstance(body["query"], dict) else {}
    if set(asked) != {"projects"}:
        raise SimError("only the projects table is simulated")
    pattern = asked["projects"]
    many = isinstance(pattern, list)
    pattern = (pattern[0] if pattern else {}) if many else pattern
    if not isinstance(pattern, dict):
        raise SimError("FATAL: query must be an object")
    wanted = {k: v for k, v in pattern.items() if v is not None}
    state = sim().state
    with state.lock:
        rows = [
            {field: getattr(p, field, None) for field in pattern}
            for p in state.projects.values()
            if p.has_access(caller.account_id)
            and all(getattr(p, k, None) == v for k, v in wanted.items())
        ]
    found = rows if many else (rows[0] if rows else {})
    return "query", {"query": {"projects": found}, "multi_response": False}


@handles("delete_account")
def delete_account(caller, body):
    """Admins delete any account; "also answered if the account never existed"."""
    state = sim().state
    if not caller.admin and caller.account_id != body["account_id"]:
        raise SimError("you must be an admin to delete another account")
    with state.lock:
        account = state.accounts.pop(str(body["account_id"]), None)
        if account is not None:
            state.keys = {k: a for k, a in state.keys.items() if a != account.account_id}
    return "account_deleted", {}
