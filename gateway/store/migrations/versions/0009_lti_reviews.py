"""LTI beyond the launch: hand-ins a review opens, the scores posted, what an LTI page shows
(the way back to the course, the hand-in under review), and blank files created once

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _platform(primary_key=False):
    return sa.Column(
        "platform_id",
        sa.String(40),
        sa.ForeignKey("lti_platforms.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def _user_project(primary_key=False):
    return sa.Column(
        "user_project_id",
        sa.Integer(),
        sa.ForeignKey("user_projects.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def upgrade():
    op.create_table(
        "lti_hand_ins",
        sa.Column("id", sa.Integer(), primary_key=True),
        _platform(),
        sa.Column("subject", sa.String(255), nullable=False),
        _user_project(),
        sa.Column("lineitem_url", sa.Text()),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("handed_in_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_lti_hand_ins_learner", "lti_hand_ins", ["platform_id", "subject"])
    op.create_table(
        "lti_scores",
        _platform(primary_key=True),
        sa.Column("lineitem_digest", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(255), primary_key=True),
        sa.Column("lineitem_url", sa.Text(), nullable=False),
        sa.Column("score_given", sa.Float(), nullable=False),
        sa.Column("score_maximum", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("posted_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "lti_pages",
        sa.Column(
            "launch_digest",
            sa.String(64),
            sa.ForeignKey("launches.digest", ondelete="CASCADE"),
            primary_key=True,
        ),
        _platform(),
        sa.Column("return_url", sa.Text()),
        sa.Column("document_target", sa.String(16)),
        sa.Column("platform_family", sa.String(64)),
        sa.Column("learner_subject", sa.String(255)),
        sa.Column("learner_name", sa.String(255)),
        sa.Column("lineitem_url", sa.Text()),
        sa.Column("handed_in_at", sa.DateTime()),
        sa.Column("may_grade", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "created_files",
        _user_project(primary_key=True),
        sa.Column("path", sa.String(1024), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade():
    raise NotImplementedError("the gateway's migrations go forward only")
