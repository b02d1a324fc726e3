"""SAML 2.0: the identity providers of each host (their metadata as verified, where it comes
from, when to fetch it again), the service provider's keys, and sessions signed in by an
IdP (which IdP, and the subject a single logout names)

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saml_idps",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "host_id",
            sa.String(40),
            sa.ForeignKey("hosts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("entity_id", sa.String(1024), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("location", sa.Text()),
        sa.Column("signer_certificate", sa.Text()),
        sa.Column("metadata_xml", sa.Text(), nullable=False),
        sa.Column("valid_until", sa.DateTime()),
        sa.Column("refresh_after", sa.DateTime()),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("refresh_error", sa.String(255)),
        sa.Column("clock_offset_s", sa.Float()),
        sa.Column("allow_unsolicited", sa.Boolean(), nullable=False),
        sa.Column("allow_unencrypted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("host_id", "entity_id"),
    )
    op.create_index("ix_saml_idps_host_id", "saml_idps", ["host_id"])
    op.create_index("ix_saml_idps_refresh_after", "saml_idps", ["refresh_after"])
    op.create_table(
        "saml_sp_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("private_key_encrypted", sa.Text(), nullable=False),
        sa.Column("certificate", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("signs_from", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_saml_sp_keys_created_at", "saml_sp_keys", ["created_at"])
    with op.batch_alter_table("sso_sessions") as batch:
        batch.alter_column("provider_id", existing_type=sa.String(40), nullable=True)
        batch.add_column(
            sa.Column(
                "saml_idp_id",
                sa.String(40),
                sa.ForeignKey(
                    "saml_idps.id", ondelete="CASCADE", name="fk_sso_sessions_saml_idp_id"
                ),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("saml_subject_encrypted", sa.Text(), nullable=True))
        batch.add_column(sa.Column("saml_subject_digest", sa.String(64), nullable=True))
    op.create_index("ix_sso_sessions_saml_subject_digest", "sso_sessions", ["saml_subject_digest"])


def downgrade():
    raise NotImplementedError("the gateway's migrations go forward only")
