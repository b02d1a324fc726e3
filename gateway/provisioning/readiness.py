"""The one definition of "this user is set up for a warm launch", as SQL both paths share.

A user is ready when their account exists (and they were not deprovisioned since), the
context's project exists with them as a
collaborator and its template copied (if the host has one), the profile the host sends now
is the one stored, and, where a launch needs it, a cached token has more than the margin
of life left. ``READY`` is that rule as a SQLAlchemy clause; the general path
(``find_ready``) and the one-statement warm launch (``gateway.launches.warm``) both use it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, bindparam, not_, or_, select

from ..store.models import CachedToken, HostUser, UserProject, utcnow

#: The user's rows, by identity: (host, user id) and the context of the project.
IDENTITY = and_(
    HostUser.host_id == bindparam("host_id"),
    HostUser.external_id == bindparam("external_id"),
)
PROJECT_OF_USER = and_(
    UserProject.user_id == HostUser.id, UserProject.context == bindparam("context")
)

#: A profile field the host did not send (NULL) never counts as a change.
PROFILE_UNCHANGED = and_(
    *(
        or_(bindparam(name, type_=column.type).is_(None), column == bindparam(name))
        for name, column in (
            ("first_name", HostUser.first_name),
            ("last_name", HostUser.last_name),
            ("email", HostUser.email),
        )
    )
)

#: The user's half of the rule (their own row), and the project's half.
USER_READY = and_(
    HostUser.account_id.is_not(None),
    HostUser.deprovisioned_at.is_(None),
    PROFILE_UNCHANGED,
)
PROJECT_READY = and_(
    UserProject.project_id.is_not(None),
    UserProject.collaborator_added,
    or_(UserProject.template_copied, not_(bindparam("needs_template"))),
)
READY = and_(USER_READY, PROJECT_READY)

#: A cached token a new page may take: more than the margin of life left.
TOKEN_USABLE = CachedToken.expires_at > bindparam("usable_after")

#: The general path's look-up: a ready user's rows, and their usable token if there is one.
FIND_READY = (
    select(
        HostUser.id.label("user_id"),
        HostUser.account_id,
        UserProject.id.label("user_project_id"),
        UserProject.project_id,
        UserProject.started_at,
        CachedToken.token_encrypted,
        CachedToken.expires_at.label("token_expires_at"),
    )
    .join(UserProject, PROJECT_OF_USER)
    .outerjoin(CachedToken, and_(CachedToken.user_id == HostUser.id, TOKEN_USABLE))
    .where(IDENTITY, READY)
)


def parameters(host, profile, context: str, token_margin: timedelta) -> dict:
    """The values every readiness statement binds."""
    return {
        "host_id": host.id,
        "external_id": profile.external_id,
        "context": context,
        "needs_template": bool(host.template_project_id),
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "email": profile.email,
        "usable_after": utcnow() + token_margin,
    }
