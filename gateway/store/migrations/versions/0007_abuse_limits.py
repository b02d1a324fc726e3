"""limits that hold under abuse: attempts of an exchange, request counts per client

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "exchanges", sa.Column("attempts", sa.Integer(), nullable=False, server_default="0")
    )
    op.create_table(
        "rate_counts",
        sa.Column("bucket", sa.String(255), primary_key=True),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_index("ix_rate_counts_window_start", "rate_counts", ["window_start"])


def downgrade():
    raise NotImplementedError("the gateway's migrations go forward only")
