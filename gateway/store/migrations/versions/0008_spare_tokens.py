"""spare tokens: with revocation each page takes one, and a busy user has a few waiting

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "spare_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("host_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("token_encrypted", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_spare_tokens_user_id", "spare_tokens", ["user_id"])
    op.create_index("ix_spare_tokens_expires_at", "spare_tokens", ["expires_at"])


def downgrade():
    raise NotImplementedError("the gateway's migrations go forward only")
