"""The gateway's rows for a user: written before CoCalc is asked for anything.

Two requests that both create are normal: a unique constraint decides, and the loser reads
the winner's row (as ``pypi/warehouse`` does).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ..context import Gateway
from ..store.models import Host, HostUser, UserProject, utcnow
from . import accounts
from .profile import UserProfile

DEFAULT_FIRST_NAME, DEFAULT_LAST_NAME = "CoCalc", "User"


def _new_user(gw: Gateway, host: Host, profile: UserProfile) -> dict:
    return {
        "host_id": host.id,
        "external_id": profile.external_id,
        "email": profile.email,
        "cocalc_email": accounts.new_address(gw),
        "first_name": profile.first_name or DEFAULT_FIRST_NAME,
        "last_name": profile.last_name or DEFAULT_LAST_NAME,
        "password_encrypted": gw.box.encrypt(accounts.new_password()),
        "created_at": utcnow(),
    }


def _new_project(user_id: int, context: str) -> dict:
    return {
        "user_id": user_id,
        "context": context,
        "template_copied": False,
        "collaborator_added": False,
    }


@dataclass(frozen=True)
class Rows:
    user_id: int
    user_project_id: int
    #: The account, if the user had one already (a returning user).
    account_id: str | None = None
    #: Profile fields the host now sends differently (stored here already).
    changes: dict = field(default_factory=dict)


def ensure_rows(gw: Gateway, host: Host, profile: UserProfile, context: str) -> Rows:
    """Return the ids of the user's row and their project row, creating what is missing.

    A returning user's profile is brought up to date, and a deprovisioned user (a
    tombstone) is brought back: the host launching them again says they are back.
    """
    try:
        with gw.db.engine.begin() as connection:  # a new user: both rows in one transaction
            user_id = connection.execute(
                insert(HostUser).returning(HostUser.id), _new_user(gw, host, profile)
            ).scalar_one()
            project_id = connection.execute(
                insert(UserProject).returning(UserProject.id), _new_project(user_id, context)
            ).scalar_one()
        return Rows(user_id, project_id)
    except IntegrityError:
        pass  # the user exists (perhaps made by a request beside this one)
    user = gw.db.fetch(
        select(
            HostUser.id,
            HostUser.first_name,
            HostUser.last_name,
            HostUser.email,
            HostUser.account_id,
            HostUser.deprovisioned_at,
        ).where(HostUser.host_id == host.id, HostUser.external_id == profile.external_id)
    )
    changes = update_profile(gw, user, profile)
    if user.deprovisioned_at is not None:
        gw.db.write((update(HostUser).where(HostUser.id == user.id), {"deprovisioned_at": None}))
    query = select(UserProject.id).where(
        UserProject.user_id == user.id, UserProject.context == context
    )
    found = gw.db.fetch(query)
    if found is None:
        with contextlib.suppress(IntegrityError):  # or created meanwhile by another request
            gw.db.write((insert(UserProject), _new_project(user.id, context)))
        found = gw.db.fetch(query)
    return Rows(user.id, found[0], user.account_id, changes)


def changed_profile(stored, profile: UserProfile) -> dict:
    """The profile fields the host sent that differ from the stored ones."""
    sent = {"first_name": profile.first_name, "last_name": profile.last_name}
    sent["email"] = profile.email
    return {
        name: value
        for name, value in sent.items()
        if value is not None and value != getattr(stored, name)
    }


def update_profile(gw: Gateway, stored, profile: UserProfile) -> dict:
    """Store what the host now says about its user; return the changed fields."""
    changes = changed_profile(stored, profile)
    if changes:
        gw.db.write((update(HostUser).where(HostUser.id == stored.id), changes))
    return changes
