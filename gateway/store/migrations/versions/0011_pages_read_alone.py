"""pages read by their key alone: a page row keeps its project and what it shows beyond the
notebook (an LTI page's way back, its platform, a review's learner, the hand-in bar), and
when it was issued (a frame no cookie reaches opens its page once, soon after); a score is
recorded before the LMS is called (posted_at stays empty until the LMS took it); the first
projects CoCalc's sign-up made, and how stopping them ended

Revision ID: 0011
Revises: 0010
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The tables as this revision reads them (a migration never imports the live models).
launches = sa.table(
    "launches",
    sa.column("digest", sa.String),
    sa.column("user_project_id", sa.Integer),
    sa.column("project_id", sa.String),
    sa.column("shown", sa.JSON),
    sa.column("expires_at", sa.DateTime),
)
user_projects = sa.table("user_projects", sa.column("id", sa.Integer), sa.column("project_id"))
lti_pages = sa.table(
    "lti_pages",
    sa.column("launch_digest", sa.String),
    sa.column("return_url", sa.Text),
    sa.column("document_target", sa.String),
    sa.column("platform_family", sa.String),
    sa.column("learner_name", sa.String),
    sa.column("handed_in_at", sa.DateTime),
    sa.column("may_grade", sa.Boolean),
)
grade_links = sa.table("lti_grade_links", sa.column("launch_digest", sa.String))


def upgrade():
    op.add_column("launches", sa.Column("project_id", sa.String(36), nullable=True))
    op.add_column("launches", sa.Column("shown", sa.JSON(), nullable=True))
    op.add_column("launches", sa.Column("issued_at", sa.DateTime(), nullable=True))
    bind = op.get_bind()
    project = (
        sa.select(user_projects.c.project_id)
        .where(user_projects.c.id == launches.c.user_project_id)
        .scalar_subquery()
    )
    bind.execute(launches.update().values(project_id=project))
    _pages_still_open(bind)
    # What a page shows now lives in its row; the LTI page row keeps what its actions need.
    with op.batch_alter_table("lti_pages") as batch:
        for column in (
            "return_url", "document_target", "platform_family", "learner_name", "handed_in_at"
        ):  # fmt: skip
            batch.drop_column(column)
    op.create_table(
        "first_projects",
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["host_users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("project_id"),
    )
    op.create_index("ix_first_projects_user_id", "first_projects", ["user_id"])
    with op.batch_alter_table("lti_scores") as batch:
        batch.alter_column("posted_at", existing_type=sa.DateTime(), nullable=True)


def _pages_still_open(bind):
    """What the open LTI pages show, copied into their rows (closed ones show nothing)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    graded = {
        digest
        for (digest,) in bind.execute(
            sa.select(grade_links.c.launch_digest)
            .join(launches, launches.c.digest == grade_links.c.launch_digest)
            .where(launches.c.expires_at > now)
        )
    }
    rows = bind.execute(
        sa.select(lti_pages)
        .join(launches, launches.c.digest == lti_pages.c.launch_digest)
        .where(launches.c.expires_at > now)
    ).all()
    for row in rows:
        shown = {
            "gradable": row.launch_digest in graded,
            "back_url": row.return_url,
            "lti": {"family": row.platform_family, "target": row.document_target},
        }
        if row.learner_name:
            shown["review"] = {
                "learner": row.learner_name,
                "handed_in_at": row.handed_in_at.isoformat() + "+00:00"
                if row.handed_in_at
                else None,
                "may_grade": bool(row.may_grade),
            }
        bind.execute(
            launches.update().where(launches.c.digest == row.launch_digest).values(shown=shown)
        )
    for digest in graded - {row.launch_digest for row in rows}:
        bind.execute(
            launches.update().where(launches.c.digest == digest).values(shown={"gradable": True})
        )


def downgrade():
    raise NotImplementedError("the gateway's migrations go forward only")
