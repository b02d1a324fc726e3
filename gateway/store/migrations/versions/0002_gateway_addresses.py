"""accounts at gateway-assigned addresses, projects created once, remembered facts

Revision ID: 0002
Revises: 0001

Existing users keep their accounts: ``cocalc_email`` starts as the address their account was
created with. A user whose account was never confirmed (``account_id`` empty) gets a
gateway-assigned address on their next launch (``provisioning.accounts``), so no account
that someone else registered under the host's address can ever be adopted.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# 0001 created the e-mail constraint without a name: this names it the way each database did.
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade():
    op.add_column("host_users", sa.Column("cocalc_email", sa.String(length=320), nullable=True))
    op.execute("UPDATE host_users SET cocalc_email = email")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("host_users_email_key", "host_users", type_="unique")
        unique_email = None
    else:
        unique_email = "uq_host_users_email"
    with op.batch_alter_table("host_users", naming_convention=SQLITE_NAMES) as batch:
        if unique_email:
            batch.drop_constraint(unique_email, type_="unique")
        batch.alter_column("email", existing_type=sa.String(length=320), nullable=True)
        batch.alter_column("cocalc_email", existing_type=sa.String(length=320), nullable=False)
        batch.create_unique_constraint("uq_host_users_cocalc_email", ["cocalc_email"])
    op.add_column("user_projects", sa.Column("creation_key", sa.String(length=36), nullable=True))
    op.create_table(
        "gateway_state",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade():
    raise NotImplementedError("the gateway's migrations go forward only")
