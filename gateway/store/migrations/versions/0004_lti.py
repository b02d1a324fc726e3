"""LTI 1.3: platforms, tool keys, sign-in exchanges, contexts, grade links, course staff; a host's
template paths (a list: several files can be copied, and offered to Deep Linking)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    _template_paths()
    op.create_table(
        "lti_platforms",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "host_id",
            sa.String(40),
            sa.ForeignKey("hosts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("issuer", sa.String(1024), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("deployment_ids", sa.JSON(), nullable=False),
        sa.Column("login_url", sa.Text(), nullable=False),
        sa.Column("token_url", sa.Text(), nullable=False),
        sa.Column("jwks_url", sa.Text(), nullable=False),
        sa.Column("algorithms", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("issuer", "client_id"),
    )
    op.create_index("ix_lti_platforms_host_id", "lti_platforms", ["host_id"])
    op.create_table(
        "lti_tool_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("private_key_encrypted", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_lti_tool_keys_created_at", "lti_tool_keys", ["created_at"])
    op.create_table(
        "exchanges",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.String(40)),
        sa.Column("host_id", sa.String(40), sa.ForeignKey("hosts.id", ondelete="CASCADE")),
        sa.Column("nonce", sa.String(64)),
        sa.Column("binding_digest", sa.String(64)),
        sa.Column("data", sa.JSON()),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime()),
    )
    op.create_index("ix_exchanges_expires_at", "exchanges", ["expires_at"])
    op.create_table(
        "lti_contexts",
        sa.Column(
            "platform_id",
            sa.String(40),
            sa.ForeignKey("lti_platforms.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("context_id", sa.String(255), primary_key=True),
        sa.Column("title", sa.String(255)),
        sa.Column("memberships_url", sa.Text()),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "lti_grade_links",
        sa.Column(
            "launch_digest",
            sa.String(64),
            sa.ForeignKey("launches.digest", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "platform_id",
            sa.String(40),
            sa.ForeignKey("lti_platforms.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("lineitem_url", sa.Text()),
        sa.Column("lineitems_url", sa.Text()),
        sa.Column("resource_link_id", sa.String(255)),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("handed_in_at", sa.DateTime()),
    )
    op.create_table(
        "context_staff",
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("host_users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("context", sa.String(255), primary_key=True),
        sa.Column(
            "host_id",
            sa.String(40),
            sa.ForeignKey("hosts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_context_staff_host_id", "context_staff", ["host_id"])
    op.create_table(
        "staff_grants",
        sa.Column(
            "user_project_id",
            sa.Integer(),
            sa.ForeignKey("user_projects.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "staff_user_id",
            sa.Integer(),
            sa.ForeignKey("host_users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_staff_grants_next_try_at", "staff_grants", ["next_try_at"])


def _template_paths():
    """``template_path`` (one path or none) becomes ``template_paths`` (a list)."""
    op.add_column("hosts", sa.Column("template_paths", sa.JSON(), nullable=True))
    hosts = sa.table(
        "hosts",
        sa.column("id", sa.String),
        sa.column("template_path", sa.String),
        sa.column("template_paths", sa.JSON),
    )
    bind = op.get_bind()
    for host_id, path in bind.execute(sa.select(hosts.c.id, hosts.c.template_path)).all():
        paths = [path] if path else []
        bind.execute(hosts.update().where(hosts.c.id == host_id).values(template_paths=paths))
    with op.batch_alter_table("hosts") as batch:
        batch.alter_column("template_paths", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("template_path")


def downgrade():
    for table in (
        "staff_grants",
        "context_staff",
        "lti_grade_links",
        "lti_contexts",
        "exchanges",
        "lti_tool_keys",
        "lti_platforms",
    ):
        op.drop_table(table)
    op.add_column("hosts", sa.Column("template_path", sa.String(1024), nullable=True))
    with op.batch_alter_table("hosts") as batch:
        batch.drop_column("template_paths")
