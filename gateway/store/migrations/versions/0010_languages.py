"""languages: a host's default language for its pages, and the language a launch (or an
SSO sign-in) asked for

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("hosts", sa.Column("language", sa.String(35), nullable=True))
    op.add_column("launches", sa.Column("locale", sa.String(35), nullable=True))
    op.add_column("sso_sessions", sa.Column("locale", sa.String(35), nullable=True))


def downgrade():
    raise NotImplementedError("the gateway's migrations go forward only")
