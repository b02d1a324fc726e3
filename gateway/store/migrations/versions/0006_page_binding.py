"""pages typed by where they may be shown, and bound to one browser at top level

Revision ID: 0006
Revises: 0005

``launches.top_level`` becomes the page's kind: "embed" (framed), "top" (bound to the
browser by a cookie whose digest is ``binding_digest``) or "sso" (bound to the sign-in
session that opened it). Top-level pages made before this revision were bound to nothing:
they become "top" pages without a binding, which no browser can open any more. A session's
pages move out of its JSON list into their own rows (``binding_digest`` is the session's).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("launches", sa.Column("binding_digest", sa.String(64), nullable=True))
    op.create_index("ix_launches_binding_digest", "launches", ["binding_digest"])
    bind = op.get_bind()
    launches = sa.table(
        "launches",
        sa.column("digest", sa.String),
        sa.column("kind", sa.String),
        sa.column("top_level", sa.Boolean),
        sa.column("binding_digest", sa.String),
    )
    sessions = sa.table("sso_sessions", sa.column("digest", sa.String), sa.column("pages", sa.JSON))
    for session_digest, pages in bind.execute(sa.select(sessions.c.digest, sessions.c.pages)):
        if pages:
            bind.execute(
                launches.update()
                .where(launches.c.digest.in_(list(pages)))
                .values(kind="sso", binding_digest=session_digest)
            )
    bind.execute(
        launches.update()
        .where(launches.c.kind == "embed", launches.c.top_level == sa.true())
        .values(kind="top")
    )
    with op.batch_alter_table("launches") as batch:
        batch.drop_column("top_level")
    with op.batch_alter_table("sso_sessions") as batch:
        batch.drop_column("pages")


def downgrade():
    raise NotImplementedError("the gateway's migrations go forward only")
