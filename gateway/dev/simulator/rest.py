"""The current API's REST endpoints for projects, files, names and site settings."""

from __future__ import annotations

import uuid

from .current import body, bp, serve
from .hub import add_collaborator, delete_project
from .plumbing import creating_project, sim
from .shared import copy_files, exec_reply, site_settings_query, write_file
from .state import UUID_RE, SimError


# -- projects (REST) -------------------------------------------------------------------------
@bp.post("/api/v2/projects/create")
def rest_create_project():
    def run(caller):
        creating_project()
        b = body()
        project = sim().state.add_project(
            caller.account_id,
            title=str(b.get("title", "")),
            description=str(b.get("description", "")),
            start=bool(b.get("start")),
        )
        return {"project_id": project.project_id}

    return serve("v2/projects/create", run)


@bp.post("/api/v2/projects/get")
def rest_get_projects():
    def run(caller):
        b = body()
        account_id = b.get("account_id")
        if account_id and not caller.admin:
            raise SimError(
                "The `account_id` field may only be specified by account administrators."
            )
        account_id = account_id or caller.account_id
        state = sim().state
        with state.lock:
            mine = [
                p for p in state.projects.values() if p.has_access(account_id) and not p.deleted
            ]
        mine.reverse()  # most recently made first, like "ORDER BY last_edited DESC"
        limit = int(b.get("limit") or 50)
        return [
            {"project_id": p.project_id, "title": p.title, "description": p.description}
            for p in mine[:limit]
        ]

    return serve("v2/projects/get", run)


@bp.post("/api/v2/exec")
def rest_exec():
    """Run a command in a project the caller collaborates on (``exec.ts``); errors come
    back as ``{"error": ...}`` with status 200, like every v2 endpoint."""

    def run(caller):
        b = body()
        if not b.get("command"):
            raise SimError("command must be specified")
        state = sim().state
        project = state.project_for(caller, str(b.get("project_id", "")))
        state.start_project(project)
        return exec_reply(project, b)

    return serve("v2/exec", run)


@bp.post("/api/v2/projects/collaborators/add")
def rest_add_collaborator():
    def run(caller):
        b = body()
        add_collaborator(caller, str(b.get("project_id", "")), str(b.get("account_id", "")))
        return {"status": "ok"}

    return serve("v2/projects/collaborators/add", run)


@bp.post("/api/v2/projects/copy-path")
def rest_copy_path():
    def run(caller):
        b = body()
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

    return serve("v2/projects/copy-path", run)


def record_async_copy(record: dict) -> str:
    state = sim().state
    copy_id = str(uuid.uuid4())
    with state.lock:
        state.copies[copy_id] = {**record, "finished": state.now().isoformat()}
    return copy_id


@bp.post("/api/v2/projects/copy-path-status")
def rest_copy_path_status():
    def run(caller):
        record = sim().state.copies.get(str(body().get("copy_id", "")))
        if record is None:
            raise SimError("copy_id not found")
        return {"started": record["started"], "finished": record["finished"], "copy_error": None}

    return serve("v2/projects/copy-path-status", run)


@bp.post("/api/v2/projects/write-text-file")
def rest_write_text_file():
    def run(caller):
        b = body()
        project = sim().state.project_for(caller, b.get("project_id", ""))
        with sim().state.lock:
            write_file(project, b.get("path", ""), b.get("content", ""))
        return {"status": "ok"}

    return serve("v2/projects/write-text-file", run)


# -- accounts and settings (REST) -----------------------------------------------------------
@bp.post("/api/v2/accounts/set-name")
def rest_set_name():
    def run(caller):
        b = body()
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

    return serve("v2/accounts/set-name", run)


@bp.post("/api/v2/user-query")
def rest_user_query():
    def run(caller):
        asked = body().get("query") or {}
        if isinstance(asked, dict) and "projects_admin" in asked:
            return {"query": {"projects_admin": projects_admin_query(caller, asked)}}
        if not isinstance(asked, dict) or "site_settings" not in asked:
            raise SimError("only site_settings and projects_admin are simulated on user-query")
        found = site_settings_query(caller, asked["site_settings"])
        return {"query": {"site_settings": found} if found != {} else {}}

    return serve("v2/user-query", run)


#: CoCalc's compute states for the simulator's three (``util/compute-states``): a project
#: that is not running is "opened" in single-user mode.
COMPUTE_STATE = {"stopped": "opened", "starting": "starting", "running": "running"}


def projects_admin_query(caller, asked) -> dict:
    """``projects_admin`` (admins only, by ``project_id``): the project's ``state``."""
    if not caller.admin:
        raise SimError("FATAL: you must be an admin to query projects_admin")
    pattern = asked["projects_admin"]
    project_id = str(pattern.get("project_id", "")) if isinstance(pattern, dict) else ""
    project = sim().state.projects.get(project_id)
    if project is None:
        return {}  # no row
    return {"project_id": project_id, "state": {"state": COMPUTE_STATE[project.state]}}


@bp.post("/api/v2/accounts/delete")
def rest_delete_account():
    """Delete the signed-in account (the key's account, or the cookie's)."""

    def run(caller):
        state = sim().state
        with state.lock:
            # Marked deleted, its e-mail cleared; its projects stay as they are, running ones
            # included (CoCalc neither stops nor deletes them).
            caller.deleted, caller.email_address = True, ""
            state.keys = {k: a for k, a in state.keys.items() if a != caller.account_id}
        return {"status": "success"}  # SuccessStatus (next/lib/api/status.ts)

    return serve("v2/accounts/delete", run)


@bp.post("/api/v2/projects/stop")
def rest_stop_project():
    """Stop a project the caller collaborates on (``projects/stop.ts``: admins too must be
    collaborators)."""

    def run(caller):
        project_id = str(body().get("project_id", ""))
        if not UUID_RE.match(project_id):
            raise SimError("project_id must be a valid uuid")
        state = sim().state
        with state.lock:
            project = state.projects.get(project_id)
            if project is None or not project.has_access(caller.account_id):
                raise SimError("must be a collaborator to stop project")
            project.state = "stopped"
        return {"status": "ok"}

    return serve("v2/projects/stop", run)


@bp.post("/api/v2/projects/delete")
def rest_delete_project():
    """Stop and delete a project (``server/projects/delete.ts``: a collaborator or an admin)."""

    def run(caller):
        delete_project(caller, str(body().get("project_id", "")))
        return {"status": "ok"}

    return serve("v2/projects/delete", run)
