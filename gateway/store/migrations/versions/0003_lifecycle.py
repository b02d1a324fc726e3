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


def downgrade():
    raise NotImplementedError("the gateway's migrations go forward only")
