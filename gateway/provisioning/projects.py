"""The user's project for a context: created once, its template copied, started when stale.

The gateway's own account creates and owns every project, so it can copy templates into
them and manage them the same way in both dialects; the user is added as a collaborator.
Creation records its intent first: a ``creation_key`` is written to the row before CoCalc
hears of the project, and a retry after a lost reply finds the project made for that key
instead of making a second one (``CoCalcClient.create_project_once``).
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from sqlalchemy import or_, select, update

from ..cocalc import CoCalcAPIError, CoCalcError
from ..context import Gateway
from ..store.locks import db_lock
from ..store.models import Host, UserProject, utcnow
from .steps import counted

COPY_POLL_S = 0.2
COPY_WAIT_S = 120


def title(host: Host, context: str) -> str:
    return host.name + (f": {context}" if context else "")


@counted("project")
def ensure_project(gw: Gateway, user_project_id: int, host: Host, *, made=None) -> str:
    """Return the project id of a user's context, creating it (exactly once) if needed.

    ``made`` gets "project" appended when this call created it.
    """
    where = UserProject.id == user_project_id
    with db_lock(gw.db, f"project:{user_project_id}") as db:
        row = db.fetch(select(UserProject).where(where))
        project_id = row.project_id
        if not project_id:
            key, retry = row.creation_key, row.creation_key is not None
            if key is None:
                key = str(uuid.uuid4())
                db.write((update(UserProject).where(where), {"creation_key": key}))
            project_id = gw.cocalc.create_project_once(
                key=key, title=title(host, row.context), retry=retry
            ).project_id
            values = {"project_id": project_id, "started_at": utcnow()}
            db.write((update(UserProject).where(where), values))
            if made is not None:
                made.append("project")
        if host.template_project_id and not row.template_copied:
            copy_template(gw, host, project_id)
            db.write((update(UserProject).where(where), {"template_copied": True}))
            if made is not None:
                made.append("template")
        return project_id


def copy_template(gw: Gateway, host: Host, project_id: str) -> None:
    """Copy the host's template paths (all of the template project when none) into a new
    project, each waited for until done."""
    for path in host.template_paths or [""]:
        copy_and_wait(gw, host.template_project_id, path, project_id)


def copied_to_every_project(host: Host, path: str) -> bool:
    """Whether ``copy_template`` copies the template project's ``path`` into every user's
    project (all of the template when no paths are named; a named folder, all in it)."""
    if not host.template_paths:
        return True
    return any(
        path == named or path.startswith(named.rstrip("/") + "/") or not named.strip("/")
        for named in host.template_paths
    )


def copy_and_wait(
    gw: Gateway, src_project_id: str, src_path: str, target_project_id: str, target_path=None
) -> None:
    """Copy a path between (or within) projects and return once CoCalc says it is done."""
    started = gw.cocalc.copy_path_between_projects(
        src_project_id=src_project_id,
        src_path=src_path,
        target_project_id=target_project_id,
        target_path=target_path,
        wait_until_done=True,
    )
    if started.copy_path_id is None:
        return  # done already (an empty or missing copy id means nothing to poll)
    deadline = time.monotonic() + COPY_WAIT_S
    while time.monotonic() < deadline:
        status = gw.cocalc.copy_path_status(started.copy_path_id)
        if status.error:
            raise CoCalcAPIError(f"copying failed: {status.error}", endpoint="copy_path_status")
        if status.finished:
            return
        time.sleep(COPY_POLL_S)
    raise CoCalcError("copying did not finish in time", endpoint="copy_path_status")


def claim_start(gw: Gateway, user_project_id: int, interval: timedelta) -> bool:
    """Record a start of the project unless one was asked for within ``interval``.

    One statement decides, so of many launches at once exactly one starts the project.
    """
    now = utcnow()
    with gw.db.engine.begin() as connection:
        claimed = connection.execute(
            update(UserProject)
            .where(
                UserProject.id == user_project_id,
                or_(UserProject.started_at.is_(None), UserProject.started_at <= now - interval),
            )
            .values(started_at=now)
        ).rowcount
    return claimed == 1


def start_interval(gw: Gateway) -> timedelta:
    return timedelta(seconds=int(gw.settings["GATEWAY_PROJECT_START_INTERVAL"]))


def maybe_start_project(gw: Gateway, user_project_id: int, project_id: str, started_at) -> None:
    """Ask CoCalc, in the background, to start a project not started for a while.

    CoCalc stops idle projects, and its kiosk page does not start a stopped one; the launch
    itself must not wait for CoCalc, so the start runs beside it.
    """
    interval = start_interval(gw)
    if started_at and utcnow() - started_at < interval:
        return  # the common case, decided without a statement
    if claim_start(gw, user_project_id, interval):
        gw.background.submit("start project", lambda: gw.cocalc.start_project(project_id))
