"""A user leaving: deprovisioned (a tombstone to come back from), or erased for good.

Deprovisioning keeps what a comeback needs (the account id, its password and address) and
marks the row, so the host's next launch of the user continues with the same account and
projects. Erasing deletes the CoCalc account and projects where the API allows it (API v1:
``delete_account``; the current API lets an account delete only itself, so the gateway
signs in as the user in a throw-away session to do it), then forgets the user here.
"""

from __future__ import annotations

from sqlalchemy import delete as delete_rows
from sqlalchemy import select, update

from ..cocalc import CoCalcUnsupported
from ..context import Gateway
from ..store.models import CachedToken, HostUser, Launch, SpareToken, UserProject, utcnow
from . import revocations
from .users import find


def take_tokens(gw: Gateway, user_id: int) -> None:
    """Forget every token the user has (cached, and those of their pages) and revoke them,
    in one transaction, so no page of theirs signs in again."""
    with gw.db.engine.begin() as connection:
        cached = [
            *connection.execute(
                delete_rows(CachedToken)
                .where(CachedToken.user_id == user_id)
                .returning(CachedToken.token_encrypted)
            ),
            *connection.execute(
                delete_rows(SpareToken)
                .where(SpareToken.user_id == user_id)
                .returning(SpareToken.token_encrypted)
            ),
        ]
        pages = connection.execute(
            select(Launch.token_encrypted).where(
                Launch.user_id == user_id, Launch.token_encrypted.is_not(None)
            )
        ).all()
        connection.execute(
            update(Launch).where(Launch.user_id == user_id).values(token_encrypted=None)
        )
        revocations.revoke_all(gw, [r.token_encrypted for r in [*cached, *pages]], connection)
    revocations.revoke_soon(gw)


def leave_projects(gw: Gateway, user: HostUser, projects: list[UserProject]) -> list[str]:
    """Remove the user from their projects in CoCalc; a re-run after a failure goes on."""
    removed = []
    for project in projects:
        if project.project_id and user.account_id and project.collaborator_added:
            gw.cocalc.remove_collaborator(project.project_id, user.account_id)
            with gw.db.begin() as session:
                session.get(UserProject, project.id).collaborator_added = False
            removed.append(project.project_id)
    return removed


def deprovision(gw: Gateway, host_id: str, external_id: str) -> dict:
    """Remove the user from their projects and stop their pages; keep a tombstone.

    The row stays (account id, password, the account's address), marked deprovisioned, so
    the host's next launch of this user brings them back to the same account and projects.
    If CoCalc fails half way, a re-run continues. ``erase`` forgets a user for good.
    """
    user, projects = find(gw, host_id, external_id)
    with gw.db.begin() as session:  # first: from now on no launch or page of theirs works
        session.get(HostUser, user.id).deprovisioned_at = utcnow()
    take_tokens(gw, user.id)
    removed = leave_projects(gw, user, projects)
    return {
        "external_id": external_id,
        "account_id": user.account_id,
        "removed_from_projects": removed,
        "comes_back": "on the host's next launch of this user",
    }


def erase(gw: Gateway, host_id: str, external_id: str) -> dict:
    """Erase a user: their CoCalc account and projects where the API allows, then the
    gateway's rows. What CoCalc could not delete is said in the result."""
    user, projects = find(gw, host_id, external_id)
    with gw.db.begin() as session:
        session.get(HostUser, user.id).deprovisioned_at = utcnow()
    take_tokens(gw, user.id)
    leave_projects(gw, user, projects)
    result = {"external_id": external_id, "account_id": user.account_id, "kept_in_cocalc": []}
    for project in projects:
        if project.project_id:
            _delete_or_say(
                result,
                f"project {project.project_id}",
                gw.cocalc.delete_project,
                project.project_id,
            )
    if user.account_id:
        _delete_or_say(
            result, f"account {user.account_id}", gw.cocalc.delete_account, user.account_id
        )
    with gw.db.begin() as session:
        session.execute(delete_rows(HostUser).where(HostUser.id == user.id))
    result["forgotten"] = True
    return result


def _delete_or_say(result: dict, what: str, deleting, *args) -> None:
    try:
        deleting(*args)
    except CoCalcUnsupported as exc:
        result["kept_in_cocalc"].append(f"{what}: {exc.message}")
