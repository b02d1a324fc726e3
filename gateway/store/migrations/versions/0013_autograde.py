"""Autograding of LTI hand-ins: a grader per course link, a grading project per course, a
run per hand-in

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "lti_autograders",
        sa.Column(
            "platform_id",
            sa.String(40),
            sa.ForeignKey("lti_platforms.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("context", sa.String(255), primary_key=True),
        sa.Column("course_id", sa.String(255), nullable=False),
        sa.Column("resource_link_id", sa.String(255), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source_project_id", sa.String(36), nullable=False),
        sa.Column("source_path", sa.Text(), nullable=False),
        sa.Column("time_limit_s", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
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
    op.create_table(
        "lti_autograde_runs",
        sa.Column(
            "hand_in_id",
            sa.Integer(),
            sa.ForeignKey("lti_hand_ins.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("resource_link_id", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("maximum", sa.Float(), nullable=True),
        sa.Column("detail", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
    )


def downgrade():
    op.drop_table("lti_autograde_runs")
    op.drop_table("lti_grading_projects")
    op.drop_table("lti_autograders")
