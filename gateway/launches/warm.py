"""Warm launches on PostgreSQL: a launch token in, an embed page out, in one statement.

A warm launch is the gateway's hottest path: a user whose account, project and CoCalc token
are all in place. It has to record the launch token's ``jti`` (a token works once, across
every process) and the new embed page, and it needs the user's rows to do so. On PostgreSQL
all of that is one data-modifying statement, prepared on the server: one round trip, atomic
on its own, and no SQLAlchemy work per launch (which costs more than the query).

The statement claims the ``jti`` only together with a page. When the user is not fully set
up it changes nothing and returns no row, and the launch goes the general way
(``provisioning.provision`` then ``launches.create_embed``), which is also the only way on
SQLite. The ``WHERE`` clause of ``warm`` is ``provisioning._ready`` plus ``tokens.usable``
in SQL; ``tests/test_warm_launch.py`` checks that the two agree, state by state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..store.database import Database
from ..store.models import Host, utcnow

# With token revocation on, each page takes the cached token for itself (``taken``); of two
# launches that read the same token only one deletes it, and the other claims nothing.
WARM_LAUNCH_SQL = """
WITH warm AS (
    SELECT u.id AS user_id, p.id AS user_project_id, p.project_id, p.started_at,
           t.token_encrypted, t.expires_at AS token_expires_at
    FROM host_users u
    JOIN user_projects p ON p.user_id = u.id AND p.context = %(context)s
    JOIN auth_tokens t ON t.user_id = u.id
    WHERE u.host_id = %(host_id)s AND u.external_id = %(external_id)s
      AND u.account_id IS NOT NULL
      AND p.project_id IS NOT NULL
      AND p.collaborator_added
      AND (p.template_copied OR NOT %(needs_template)s)
      AND t.expires_at > %(usable_after)s
),
taken AS (
    DELETE FROM auth_tokens t USING warm
    WHERE %(take_token)s
      AND t.user_id = warm.user_id AND t.token_encrypted = warm.token_encrypted
    RETURNING t.user_id
),
go AS (
    SELECT warm.* FROM warm
    WHERE NOT %(take_token)s OR EXISTS (SELECT 1 FROM taken)
),
claimed AS (
    INSERT INTO used_token_ids (host_id, jti, expires_at)
    SELECT %(host_id)s, %(jti)s, %(jti_expires_at)s FROM go
    RETURNING jti
),
page AS (
    INSERT INTO launches (digest, kind, host_id, user_id, user_project_id, path,
                          expires_at, token_encrypted)
    SELECT %(digest)s, 'embed', %(host_id)s, go.user_id, go.user_project_id, %(path)s,
           LEAST(go.token_expires_at, %(expires_cap)s), go.token_encrypted
    FROM go, claimed
    RETURNING digest
)
SELECT go.user_project_id, go.project_id, go.started_at FROM go, page
"""


@dataclass(frozen=True)
class WarmLaunch:
    user_project_id: int
    project_id: str
    started_at: datetime | None


def _naive(moment: datetime | None) -> datetime | None:
    # The columns hold UTC without a zone (see models.UTCDateTime).
    return moment.astimezone(UTC).replace(tzinfo=None) if moment is not None else None


def launch(
    db: Database,
    *,
    host: Host,
    external_id: str,
    context: str,
    path: str,
    jti: str,
    jti_expires_at: datetime,
    digest: str,
    token_margin: timedelta,
    embed_lifetime: timedelta | None,
    take_token: bool,
) -> WarmLaunch | None:
    """Record the page ``digest`` for a warm user in one statement; None if not warm.

    Raises SQLAlchemy's IntegrityError when the ``jti`` was used before.
    """
    now = utcnow()
    row = db.run(
        WARM_LAUNCH_SQL,
        {
            "host_id": host.id,
            "external_id": external_id,
            "context": context,
            "needs_template": bool(host.template_project_id),
            "usable_after": _naive(now + token_margin),
            "take_token": take_token,
            "jti": jti,
            "jti_expires_at": _naive(jti_expires_at),
            "digest": digest,
            "path": path,
            # LEAST ignores NULL: no cap when there is no lifetime setting.
            "expires_cap": _naive(now + embed_lifetime) if embed_lifetime else None,
        },
    )
    if row is None:
        return None
    user_project_id, project_id, started_at = row
    return WarmLaunch(
        user_project_id, project_id, started_at.replace(tzinfo=UTC) if started_at else None
    )
