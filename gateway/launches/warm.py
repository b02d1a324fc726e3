"""Warm launches on PostgreSQL: a launch token in, an embed page out, in one statement.

A warm launch is the gateway's hottest path: a user whose account, project and CoCalc token
are all in place. It has to record the launch token's ``jti`` (a token works once, across
every process) and the new embed page, and it needs the user's rows to do so. On PostgreSQL
all of that is one data-modifying statement, prepared on the server: one round trip, atomic
on its own, and no SQLAlchemy work per launch (which costs more than the query).

The statement is built from the models with SQLAlchemy Core around the same readiness
look-up as the general path (``provisioning.readiness.ready_rows``), and compiled once. It
claims the ``jti`` only together with a page. When the user is not ready it changes nothing
and returns no row, and the launch goes the general way (``provisioning.provision`` then
``launches.pipeline``), which is also the only way on SQLite.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    String,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    true,
)

from ..provisioning import readiness
from ..store.database import CompiledStatement, Database, naive_utc
from ..store.models import Launch, SpareToken, UsedTokenId, utcnow


def _ready_user(spare: bool):
    """The ready user's rows and usable token (the general path's rule, in one CTE)."""
    return readiness.ready_rows(token_required=True, spare=spare).cte("warm")


def _take_token(warm):
    """With revocation on, each page takes one of the user's spares for itself: of two
    launches that read the same spare only one deletes it, and the other claims nothing."""
    taken = (
        delete(SpareToken)
        .where(SpareToken.id == warm.c.token_id)
        .returning(SpareToken.user_id)
        .cte("taken")
    )
    return select(warm).where(exists(select(taken.c.user_id))).cte("go")


def _claim_jti(go):
    """The launch token's jti, recorded only if the launch goes ahead."""
    values = select(bindparam("host_id"), bindparam("jti"), bindparam("jti_expires_at"))
    return (
        insert(UsedTokenId)
        .from_select(["host_id", "jti", "expires_at"], values.select_from(go))
        .returning(UsedTokenId.jti)
        .cte("claimed")
    )


def _record_page(go, claimed):
    """The embed page, with the token and an expiry capped by the lifetime setting."""
    columns = [
        "digest", "kind", "host_id", "user_id", "user_project_id", "project_id", "path",
        "expires_at", "issued_at", "token_encrypted", "binding_digest", "locale",
    ]  # fmt: skip
    values = select(
        bindparam("digest"),
        bindparam("kind"),
        bindparam("host_id"),
        go.c.user_id,
        go.c.user_project_id,
        go.c.project_id,
        bindparam("path"),
        # LEAST ignores NULL: no cap when there is no lifetime setting.
        func.least(go.c.token_expires_at, bindparam("expires_cap")),
        bindparam("issued_at"),
        go.c.token_encrypted,
        bindparam("binding_digest"),
        bindparam("locale", type_=String),
    ).select_from(go.join(claimed, true()))
    return (
        insert(Launch)
        .from_select(columns, values)
        .returning(Launch.digest, Launch.expires_at)
        .cte("page")
    )


@functools.cache
def statement(take_token: bool) -> CompiledStatement:
    """The warm launch as SQL for psycopg, built from the models and compiled once for each
    mode: ``take_token`` (revocation) takes a spare, else the cached token is shared."""
    ready = _ready_user(spare=take_token)
    go = _take_token(ready) if take_token else ready
    page = _record_page(go, _claim_jti(go))
    final = select(
        go.c.user_id,
        go.c.account_id,
        go.c.user_project_id,
        go.c.project_id,
        go.c.started_at,
        page.c.expires_at,
    ).select_from(go.join(page, true()))
    return CompiledStatement.of(final)


@dataclass(frozen=True)
class WarmLaunch:
    user_id: int
    account_id: str
    user_project_id: int
    project_id: str
    started_at: datetime | None
    expires_at: datetime


def parameters(
    *,
    host,
    profile,
    context: str,
    path: str,
    jti: str,
    jti_expires_at: datetime,
    digest: str,
    token_margin: timedelta,
    embed_lifetime: timedelta | None,
    take_token: bool,
    kind: str = "embed",
    binding_digest: str | None = None,
    locale: str | None = None,
) -> dict:
    """The values ``statement()`` binds for one launch."""
    params = readiness.parameters(host, profile, context, token_margin)
    params["usable_after"] = naive_utc(params["usable_after"])
    params.update(
        jti=jti,
        jti_expires_at=naive_utc(jti_expires_at),
        digest=digest,
        path=path,
        kind=kind,
        binding_digest=binding_digest,
        locale=locale,
        expires_cap=naive_utc(utcnow() + embed_lifetime) if embed_lifetime else None,
        issued_at=naive_utc(utcnow()),
    )
    return params


def launch(db: Database, **launch) -> WarmLaunch | None:
    """Record the page ``digest`` for a ready user in one statement; None if not ready.

    ``launch``: what ``parameters`` takes. Raises SQLAlchemy's IntegrityError when the
    ``jti`` was used before.
    """
    row = db.run(statement(launch["take_token"]), parameters(**launch))
    if row is None:
        return None
    user_id, account_id, user_project_id, project_id, started_at, expires_at = row
    return WarmLaunch(
        user_id,
        account_id,
        user_project_id,
        project_id,
        started_at.replace(tzinfo=UTC) if started_at else None,
        expires_at.replace(tzinfo=UTC),
    )
