"""top-level launches, tombstones for removed hosts and users, durable revocations

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "launches",
        sa.Column("top_level", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("host_users", sa.Column("deprovisioned_at", sa.DateTime(), nullable=True))
    op.add_column("hosts", sa.Column("removed_at", sa.DateTime(), nullable=True))
    op.create_table(
        "revocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_encrypted", sa.Text(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_revocations_next_try_at", "revocations", ["next_try_at"])
    _normalize_origins()


def _normalize_origins():
    """Store every host origin as browsers send it (``hosts.normalize_origin``); drop any
    that is not an origin at all (such as ``https://*.x``, which CSP would have widened)."""
    from gateway.errors import BadRequest
    from gateway.hosts import normalize_origin

    hosts = sa.table("hosts", sa.column("id", sa.String), sa.column("origins", sa.JSON))
    bind = op.get_bind()
    for host_id, origins in bind.execute(sa.select(hosts.c.id, hosts.c.origins)).all():
        kept = []
        for origin in origins or []:
            try:
                kept.append(normalize_origin(origin))
            except BadRequest:
                continue
        if kept != origins:
            bind.execute(hosts.update().where(hosts.c.id == host_id).values(origins=kept))


def downgrade():
    raise NotImplementedError("the gateway's migrations go forward only")
