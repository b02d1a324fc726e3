"""API v1's events, as the real server answered them (registered with ``api_v1.handles``)."""

from __future__ import annotations

import threading
import uuid

from .api_v1 import handles, truthy
from .plumbing import creating_project, sim
from .shared import (
    authorize_user,
    copy_files,
    exec_reply,
    search_users,
    site_settings_query,
    write_file,
)
from .state import EMAIL_RE, UUID_RE, SimError


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
    creating_project()
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
        write_file(project, body["path"], body["content"])
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
    return "project_exec_output", exec_reply(project, body)


@handles("query")
def query(caller, body):
    """The documented user query on ``projects``: the caller's projects, filtered by the
    values given (``{"project_id": null, "description": "..."}``)."""
    asked = body["query"] if isinstance(body["query"], dict) else {}
    if set(asked) == {"site_settings"}:
        found = site_settings_query(caller, asked["site_settings"])
        return "query", {"query": {"site_settings": found} if found != {} else {}}
    if set(asked) != {"projects"}:
        raise SimError("only the projects and site_settings tables are simulated")
    pattern = asked["projects"]
    many = isinstance(pattern, list)
    pattern = (pattern[0] if pattern else {}) if many else pattern
    if not isinstance(pattern, dict):
        raise SimError("FATAL: query must be an object")
    wanted = {k: v for k, v in pattern.items() if v is not None}
    state = sim().state
    if not many and None not in pattern.values():  # a set query: no field asks for a value
        return _set_project(caller, pattern)
    with state.lock:
        rows = [
            {field: getattr(p, field, None) for field in pattern}
            for p in state.projects.values()
            if p.has_access(caller.account_id)
            and all(getattr(p, k, None) == v for k, v in wanted.items())
        ]
    found = rows if many else (rows[0] if rows else {})
    return "query", {"query": {"projects": found}, "multi_response": False}


def _set_project(caller, values: dict):
    """A set query on one of the caller's projects (title, description, deleted)."""
    state = sim().state
    project = state.project_for(caller, values.get("project_id", ""))
    with state.lock:
        for name in ("title", "description", "deleted"):
            if name in values:
                setattr(project, name, values[name])
        # ``action_request`` asks the hub to act on the project (its before_change hook).
        action = (values.get("action_request") or {}).get("action")
        if action == "stop":
            project.state = "stopped"
        elif action == "start":
            project.state = "running"
    return "query", {"query": {"projects": values}, "multi_response": False}
