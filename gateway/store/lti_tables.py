"""The LTI 1.3 tables: platforms, the tool's keys, logins in progress, course contexts,
and what a launch needs to hand work in. Course staff (who may read learners' projects)
are kept apart from LTI, in ``context_staff`` and ``staff_grants``, because the rule is
the gateway's: staff of a context are collaborators on its learners' projects."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
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
