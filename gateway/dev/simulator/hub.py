"""The current API's RPC hub (``POST /api/conat/hub``): one function per name."""

from __future__ import annotations

import time

from flask import request

from .current import body, bp, hub_error, key_caller, serve
from .plumbing import creating_project, sim
from .shared import search_users
from .signup import create_account, obvious_issues
from .state import UUID_RE, SimError

#: The real server's ban after a non-admin's wrong password (server/auth/auth-token.ts).
BAN_S = 30
#: Its message, with the unevaluated template the real code has.
BANNED = "banned -- please wait at least #{BAN_TIME_MS/1000}s before trying again"


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
    creating_project()
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


def delete_project(caller, project_id: str) -> None:
    """Stop the project, then mark it deleted; a collaborator or a site admin may."""
    state = sim().state
    with state.lock:
        project = state.projects.get(str(project_id))
        if project is None or not UUID_RE.match(str(project_id)):
            raise SimError("project_id must be a valid UUID")
        if not (caller.admin or project.has_access(caller.account_id)):
            raise SimError("must be an owner to delete a project")
        project.state = "stopped"
        project.deleted = True


def hub_delete_project(caller, opts):
    delete_project(caller, _options(opts, "deleteProject").get("project_id", ""))
    return None


def hub_stop(caller, opts):
    state = sim().state
    project_id = _options(opts, "stop").get("project_id", "")
    with state.lock:
        project = state.projects.get(str(project_id))
        if project is None or not project.has_access(caller.account_id):
            raise SimError("must be collaborator on project to stop it")
        project.state = "stopped"
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
    "projects.stop": hub_stop,
    "projects.deleteProject": hub_delete_project,
    "system.generateUserAuthToken": hub_generate_token,
    "system.revokeUserAuthToken": hub_revoke_token,
    "system.userSearch": hub_user_search,
    "org.createUser": hub_org_create_user,
    "org.createToken": hub_org_create_token,
    "org.expireToken": hub_org_expire_token,
}


@bp.post("/api/conat/hub")
def hub():
    call = body()
    name = str(call.get("name", ""))
    args = call.get("args") or []

    def run(caller):
        function = HUB.get(name)
        if function is None:
            raise SimError(f"unknown function '{name}'")
        if not isinstance(args, list) or (not args and name != "system.ping"):
            raise SimError(f"TypeError: {name} needs its arguments")
        return function(caller, *args)

    # The hub takes the API key only: cookies are not allowed there.
    return serve(
        name if name in HUB else "hub:unknown", run, caller_from=key_caller, error=hub_error
    )
