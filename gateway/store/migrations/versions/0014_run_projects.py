"""autograding runs in a project of their own: each run records the project made for it
(deleted after the run; a learner's code can leave nothing there for the next run), when
it began and when its project was deleted, how many points its grader left to a person,
and the language of the page it was handed in from (its feedback file and comment are in
it); a score keeps its grading progress (an autograder that leaves parts to a teacher posts
PendingManual) and whether the autograder posted it (its comment, now in the learner's
language, no longer tells). The per-course grading projects of 0013 are no longer used:
their table goes (the projects stay in CoCalc, empty, until deleted there); a grader chosen
in the Deep Linking picker waits, as an offer, for its link's first launch

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lti_autograde_runs") as table:
        table.add_column(sa.Column("project_id", sa.String(36), nullable=True))
        table.add_column(sa.Column("project_deleted_at", sa.DateTime(), nullable=True))
        table.add_column(sa.Column("started_at", sa.DateTime(), nullable=True))
        table.add_column(sa.Column("manual", sa.Float(), nullable=True))
        table.add_column(sa.Column("language", sa.String(35), nullable=True))
    with op.batch_alter_table("lti_scores") as table:
        table.add_column(sa.Column("grading_progress", sa.String(16), nullable=True))
        table.add_column(sa.Column("autograded", sa.Boolean(), nullable=True))
    # Before this revision the autograder's scores were told apart by their comment.
    scores = sa.table("lti_scores", sa.column("comment", sa.Text), sa.column("autograded"))
    op.execute(
        scores.update().where(scores.c.comment.like("Autograded (%")).values(autograded=True)
    )
    op.drop_table("lti_grading_projects")
    op.create_table(
        "lti_autograde_offers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "platform_id",
            sa.String(40),
            sa.ForeignKey("lti_platforms.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("context", sa.String(255), nullable=False),
        sa.Column("course_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source_project_id", sa.String(36), nullable=False),
        sa.Column("source_path", sa.Text(), nullable=False),
        sa.Column("time_limit_s", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resource_link_id", sa.String(255), nullable=True),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
    )


def downgrade():
    op.drop_table("lti_autograde_offers")
    op.create_table(
        "lti_grading_projects",
        sa.Column(
            "platform_id",
            sa.String(40),
            sa.ForeignKey("lti_platforms.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("context", sa.String(255), primary_key=True),
        sa.Column("project_id", sa.String(36), nullable=False),
    )
    with op.batch_alter_table("lti_scores") as table:
        table.drop_column("autograded")
        table.drop_column("grading_progress")
    with op.batch_alter_table("lti_autograde_runs") as table:
        table.drop_column("language")
        table.drop_column("manual")
        table.drop_column("started_at")
        table.drop_column("project_deleted_at")
        table.drop_column("project_id")
