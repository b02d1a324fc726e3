"""The one definition of "this user is set up for a warm launch", as SQL both paths share.

A user is ready when their account exists (and they were not deprovisioned since), the
context's project exists with them as a collaborator and its template copied (if the host
has one), the profile the host sends now is the one stored, and, where a launch needs it,
a token has more than the margin of life left (the shared cached token, or with revocation
one of the user's spares). ``ready_rows`` is that rule as a SELECT; the general path
(``find_ready``) and the one-statement warm launch (``gateway.launches.warm``) both use it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, bindparam, not_, or_, select
from sqlalchemy.orm import aliased

from ..store.models import CachedToken, HostUser, SpareToken, UserProject, utcnow

#: The user's row, by identity: (host, user id).
IDENTITY = and_(
    HostUser.host_id == bindparam("host_id"),
    HostUser.external_id == bindparam("external_id"),
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

#: A cached token a new page may take: more than the margin of life left.
TOKEN_USABLE = CachedToken.expires_at > bindparam("usable_after")

#: The ready user's own row, looked up first, by its unique (host, user id), behind a
#: MATERIALIZED fence. PostgreSQL prepares these hot statements once with a generic plan,
#: and without the fence that plan follows the tables' statistics at the time: made while
#: the tables were small or not analysed yet (a new deployment, a bulk import), it read
#: every project of every user on each launch (measured: 800 buffers and 3 ms at 200 users).
READY_USER = (
    select(HostUser.id, HostUser.account_id)
    .where(IDENTITY, USER_READY)
    .cte("ready_user")
    .prefix_with("MATERIALIZED", dialect="postgresql")
)


#: A spare a new page may take: more than the margin of life left.
SPARE_USABLE = SpareToken.expires_at > bindparam("usable_after")


def first_spare(user_id):
    """The id of the user's usable spare that expires first (a subquery of its own table,
    never correlated with the statement around it)."""
    spare = aliased(SpareToken)
    return (
        select(spare.id)
        .where(spare.user_id == user_id, spare.expires_at > bindparam("usable_after"))
        .order_by(spare.expires_at)
        .limit(1)
        .scalar_subquery()
    )


def ready_rows(*, token_required: bool, spare: bool = False):
    """The ready user's rows and usable token, as a SELECT; ``token_required``: only a user
    who has such a token (else the token columns may be NULL); ``spare``: the token is one
    of the user's spares (with revocation), the one that expires first, else the shared
    cached token."""
    user = READY_USER
    if spare:
        first = first_spare(user.c.id)
        model, token = SpareToken, SpareToken.id == first
        token_id = SpareToken.id.label("token_id")
    else:
        model, token = CachedToken, and_(CachedToken.user_id == user.c.id, TOKEN_USABLE)
        token_id = CachedToken.user_id.label("token_id")
    query = (
        select(
            user.c.id.label("user_id"),
            user.c.account_id,
            UserProject.id.label("user_project_id"),
            UserProject.project_id,
            UserProject.started_at,
            token_id,
            model.token_encrypted,
            model.expires_at.label("token_expires_at"),
        )
        .select_from(user)
        .join(
            UserProject,
            and_(UserProject.user_id == user.c.id, UserProject.context == bindparam("context")),
        )
    )
    joined = query.join if token_required else query.outerjoin
    return joined(model, token).where(PROJECT_READY)


#: The general path's look-up: a ready user's rows, and their usable token if there is one
#: (by ``spare``: with revocation, one of their spares; else the shared cached token).
FIND_READY = {spare: ready_rows(token_required=False, spare=spare) for spare in (False, True)}


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
