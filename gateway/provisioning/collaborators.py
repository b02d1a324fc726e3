"""The user as a collaborator of their project (the gateway's account owns it)."""

from __future__ import annotations

from sqlalchemy import select, update

from ..context import Gateway
from ..store.locks import db_lock
from ..store.models import UserProject
from .steps import counted


@counted("collaborator")
def ensure_collaborator(
    gw: Gateway, user_project_id: int, project_id: str, account_id: str, *, made=None
) -> None:
    """Add the user to the project once (adding an existing collaborator again is harmless).

    ``made`` gets "collaborator" appended when this call added the user.
    """
    where = UserProject.id == user_project_id
    with db_lock(gw.db, f"collaborator:{user_project_id}") as db:
        if db.fetch(select(UserProject.collaborator_added).where(where))[0]:
            return
        gw.cocalc.invite_collaborator(project_id, account_id)
        db.write((update(UserProject).where(where), {"collaborator_added": True}))
        if made is not None:
            made.append("collaborator")
