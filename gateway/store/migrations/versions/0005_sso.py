"""OpenID Connect: identity providers and signed-in sessions

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sso_providers",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "host_id",
            sa.String(40),
            sa.ForeignKey("hosts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("issuer", sa.String(1024), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("client_secret_encrypted", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(1024), nullable=False),
        sa.Column("endpoints", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_sso_providers_host_id", "sso_providers", ["host_id"])
    op.create_table(
        "sso_sessions",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column(
            "host_id",
            sa.String(40),
            sa.ForeignKey("hosts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "provider_id",
            sa.String(40),
            sa.ForeignKey("sso_providers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("host_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("id_token_encrypted", sa.Text()),
        sa.Column("pages", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime()),
    )
    op.create_index("ix_sso_sessions_expires_at", "sso_sessions", ["expires_at"])


def downgrade():
    op.drop_table("sso_sessions")
    op.drop_table("sso_providers")
