"""The LTI 1.3 tables: platforms, the tool's keys, logins in progress, course contexts,
what a launch needs to hand work in, the hand-ins, the scores posted, and what an LTI page
shows beyond the notebook (the way back to the course, the hand-in under review). Course
staff (who may read learners' projects) are kept apart from LTI, in ``context_staff`` and
``staff_grants``, because the rule is the gateway's: staff of a context are collaborators
on its learners' projects."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime, utcnow


class LtiPlatform(Base):
    """A registration of the gateway as a tool on one LMS (issuer and client id)."""

    __tablename__ = "lti_platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    host_id: Mapped[str] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(1024))
    client_id: Mapped[str] = mapped_column(String(255))
    deployment_ids: Mapped[list] = mapped_column(JSON, default=list)
    login_url: Mapped[str] = mapped_column(Text)
    token_url: Mapped[str] = mapped_column(Text)
    jwks_url: Mapped[str] = mapped_column(Text)
    #: The signature algorithms the platform's id_tokens may use (RS256 unless registered).
    algorithms: Mapped[list] = mapped_column(JSON, default=lambda: ["RS256"])
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LtiToolKey(Base):
    """One of the tool's RSA keys (private key encrypted at rest); the newest signs."""

    __tablename__ = "lti_tool_keys"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class LtiContext(Base):
    """A course of a platform, and the service URLs its launches told the gateway."""

    __tablename__ = "lti_contexts"
    platform_id: Mapped[str] = mapped_column(
        ForeignKey("lti_platforms.id", ondelete="CASCADE"), primary_key=True
    )
    context_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    title: Mapped[str | None] = mapped_column(String(255))
    memberships_url: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LtiGradeLink(Base):
    """What an embed page of an LTI launch needs to hand work in and post a score."""

    __tablename__ = "lti_grade_links"
    launch_digest: Mapped[str] = mapped_column(
        ForeignKey("launches.digest", ondelete="CASCADE"), primary_key=True
    )
    platform_id: Mapped[str] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    lineitem_url: Mapped[str | None] = mapped_column(Text)
    lineitems_url: Mapped[str | None] = mapped_column(Text)
    resource_link_id: Mapped[str | None] = mapped_column(String(255))
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    handed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ContextStaff(Base):
    """A host user who teaches a context: a collaborator on every learner project of it."""

    __tablename__ = "context_staff"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("host_users.id", ondelete="CASCADE"), primary_key=True
    )
    context: Mapped[str] = mapped_column(String(255), primary_key=True)
    host_id: Mapped[str] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffGrant(Base):
    """A staff member to add to a learner's project; kept until CoCalc confirms."""

    __tablename__ = "staff_grants"
    user_project_id: Mapped[int] = mapped_column(
        ForeignKey("user_projects.id", ondelete="CASCADE"), primary_key=True
    )
    staff_user_id: Mapped[int] = mapped_column(
        ForeignKey("host_users.id", ondelete="CASCADE"), primary_key=True
    )
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class LtiHandIn(Base):
    """One hand-in: the copy in the learner's project that a teacher's review opens."""

    __tablename__ = "lti_hand_ins"
    __table_args__ = (Index("ix_lti_hand_ins_learner", "platform_id", "subject"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    #: The learner (the platform's ``sub``).
    subject: Mapped[str] = mapped_column(String(255))
    user_project_id: Mapped[int] = mapped_column(ForeignKey("user_projects.id", ondelete="CASCADE"))
    lineitem_url: Mapped[str | None] = mapped_column(Text)
    #: The copy: ``hand-in/<UTC time>/<path>``.
    path: Mapped[str] = mapped_column(Text)
    handed_in_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LtiScore(Base):
    """The last score the gateway posted for a learner on a line item: posting the same
    again changes nothing and makes no call."""

    __tablename__ = "lti_scores"
    platform_id: Mapped[str] = mapped_column(
        ForeignKey("lti_platforms.id", ondelete="CASCADE"), primary_key=True
    )
    #: The line item URL's digest (a URL can be longer than a key may be).
    lineitem_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    lineitem_url: Mapped[str] = mapped_column(Text)
    score_given: Mapped[float] = mapped_column(Float)
    score_maximum: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")
    #: AGS gradingProgress, where it is not FullyGraded (an autograder's PendingManual).
    grading_progress: Mapped[str | None] = mapped_column(String(16))
    #: Posted by the autograder (a teacher's grade wins over it, never the other way).
    autograded: Mapped[bool | None] = mapped_column(Boolean)
    #: When the LMS took this score; empty while the post is under way (the score is
    #: recorded before the LMS is called, so nothing after its answer can lose the record).
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LtiPage(Base):
    """What an LTI page's actions need: its platform (a full-window launch, a grade), and
    for a submission review whose work it is and where a grade goes. What the page *shows*
    lives in its own row (``Launch.shown``), read with the page in one look-up."""

    __tablename__ = "lti_pages"
    launch_digest: Mapped[str] = mapped_column(
        ForeignKey("launches.digest", ondelete="CASCADE"), primary_key=True
    )
    platform_id: Mapped[str] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    #: A review: the learner whose hand-in the page shows, and the line item it grades.
    learner_subject: Mapped[str | None] = mapped_column(String(255))
    lineitem_url: Mapped[str | None] = mapped_column(Text)
    #: The reviewer is staff and the launch may post scores (the grade bar's authority).
    may_grade: Mapped[bool] = mapped_column(Boolean, default=False)
