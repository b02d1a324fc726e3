"""Autograding of LTI hand-ins: which grader a course's link uses, and one run per hand-in
(``ways_in/lti/autograding``), each in a project of its own."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime, utcnow


class LtiAutograder(Base):
    """The grader of one resource link of a course: its files in a project of the
    teacher's (read when a run starts, so a changed grader grades the next hand-in)."""

    __tablename__ = "lti_autograders"
    platform_id: Mapped[str] = mapped_column(
        ForeignKey("lti_platforms.id", ondelete="CASCADE"), primary_key=True
    )
    #: The gateway's context of the course (``lti.identity.context_of``) and the LMS's id.
    context: Mapped[str] = mapped_column(String(255), primary_key=True)
    course_id: Mapped[str] = mapped_column(String(255))
    resource_link_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    #: Which grader: "otter" (otter-grader's autograder archive) or "nbgrader" (the
    #: assignment's source notebook, with its hidden tests).
    kind: Mapped[str] = mapped_column(String(16))
    source_project_id: Mapped[str] = mapped_column(String(36))
    source_path: Mapped[str] = mapped_column(Text)
    time_limit_s: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LtiAutogradeRun(Base):
    """The autograder's run of one hand-in: pending, running, graded or failed (and why)."""

    __tablename__ = "lti_autograde_runs"
    hand_in_id: Mapped[int] = mapped_column(
        ForeignKey("lti_hand_ins.id", ondelete="CASCADE"), primary_key=True
    )
    #: The link whose grader grades it (``LtiAutograder``).
    resource_link_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    maximum: Mapped[float | None] = mapped_column(Float)
    #: The project made for this run (deleted after it): recorded before anything runs in
    #: it, so that a run cut off is known to have left one.
    project_id: Mapped[str | None] = mapped_column(String(36))
    #: When CoCalc deleted it; empty while it may still exist (housekeeping deletes a
    #: project whose deletion failed, or whose run died with its worker).
    project_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Points the grader left to a person (nbgrader's manually graded cells): the score
    #: went to the LMS as PendingManual.
    manual: Mapped[float | None] = mapped_column(Float)
    #: The language of the page the work was handed in from: the feedback file's.
    language: Mapped[str | None] = mapped_column(String(35))
    #: Why a run failed (for the teacher's review page and the CLI); never the output.
    detail: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When its latest run began (a rerun begins again): one "running" long past any time
    #: limit died with its worker.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LtiAutogradeOffer(Base):
    """A grader a teacher chose in the Deep Linking picker, for the one link the picker's
    response makes. The link's custom ``autograde`` parameter names this row (a random id:
    the platform signs it into every launch of the link, and a value anyone makes up names
    nothing); the first launch of that link in that course attaches the grader, once."""

    __tablename__ = "lti_autograde_offers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    #: The course the picker was opened in (the gateway's context, and the LMS's id).
    context: Mapped[str] = mapped_column(String(255))
    course_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    source_project_id: Mapped[str] = mapped_column(String(36))
    source_path: Mapped[str] = mapped_column(Text)
    time_limit_s: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The link it was attached to, and when (never again after: a teacher who removes
    #: the grader with the CLI keeps it removed).
    resource_link_id: Mapped[str | None] = mapped_column(String(255))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
