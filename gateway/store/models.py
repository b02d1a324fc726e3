"""The gateway's tables: hosts, their users, the users' projects, cached tokens, launches."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Store UTC without a zone (SQLite has none) and always hand back aware datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    pass


class Host(Base):
    """A tenant: a site that hands its users to the gateway."""

    __tablename__ = "hosts"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    # The secret signs launch tokens (HS256 needs it in clear) and authenticates API calls:
    # stored encrypted for signing, and as a SHA-256 digest to find the host by bearer secret.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    secret_digest: Mapped[str] = mapped_column(String(64), unique=True)
    origins: Mapped[list] = mapped_column(JSON, default=list)
    template_project_id: Mapped[str | None] = mapped_column(String(36))
    #: The template project's files copied into every new project (all of it when empty);
    #: also the catalogue an LMS's Deep Linking picker offers.
    template_paths: Mapped[list] = mapped_column(JSON, default=list)
    #: The pages' language when a launch names none (a BCP 47 tag; None: the browser's).
    language: Mapped[str | None] = mapped_column(String(35))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set by ``hosts remove``: the host's tokens and secret stop working, its users stay
    #: (so ``hosts restore`` brings them back to their accounts and projects).
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HostUser(Base):
    """A host's user and the CoCalc account made for them (account_id set once it exists).

    The account is created under ``cocalc_email``, an unguessable address the gateway makes
    up and stores before asking CoCalc: finding an account by that address proves it is the
    gateway's own. ``email`` is what the host says (profile data, never a key).
    """

    __tablename__ = "host_users"
    __table_args__ = (UniqueConstraint("host_id", "external_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host_id: Mapped[str] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    cocalc_email: Mapped[str] = mapped_column(String(320), unique=True)
    first_name: Mapped[str] = mapped_column(String(255))
    last_name: Mapped[str] = mapped_column(String(255))
    password_encrypted: Mapped[str] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set by ``users deprovision``: the user left their projects and their pages stopped;
    #: the row stays as a tombstone, so a later launch brings them back to their account.
    deprovisioned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserProject(Base):
    """One CoCalc project per (user, context), and how far its set-up got."""

    __tablename__ = "user_projects"
    __table_args__ = (UniqueConstraint("user_id", "context"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("host_users.id", ondelete="CASCADE"))
    context: Mapped[str] = mapped_column(String(255), default="")
    project_id: Mapped[str | None] = mapped_column(String(36))
    #: Written before CoCalc is asked to create the project, so that a retry after a lost
    #: reply finds that project instead of making a second one (see provisioning.projects).
    creation_key: Mapped[str | None] = mapped_column(String(36))
    template_copied: Mapped[bool] = mapped_column(Boolean, default=False)
    collaborator_added: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CreatedFile(Base):
    """A blank file the gateway created in a project (a Deep Linking "new notebook"): made
    once, never again, so a warm launch asks CoCalc nothing and a learner's work is never
    overwritten."""

    __tablename__ = "created_files"
    user_project_id: Mapped[int] = mapped_column(
        ForeignKey("user_projects.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FirstProject(Base):
    """A project that CoCalc's sign-up made for a gateway account ("My First Project"), and
    how stopping it ended: ``doctor`` reports the ones still running, housekeeping tries
    them again."""

    __tablename__ = "first_projects"
    project_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("host_users.id", ondelete="CASCADE"), index=True
    )
    #: "stopped", "still running" or "unverified" (``provisioning.first_projects``).
    outcome: Mapped[str] = mapped_column(String(16))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CachedToken(Base):
    """The user's current CoCalc auth token, encrypted, shared by their pages until close to
    expiry (API v1, or revocation off; with revocation each page takes a ``SpareToken``)."""

    __tablename__ = "auth_tokens"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("host_users.id", ondelete="CASCADE"), primary_key=True
    )
    token_encrypted: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SpareToken(Base):
    """A token waiting for one embed page of its user (with revocation: each page takes one
    and the token is revoked after its sign-in); a user who launches often has a few."""

    __tablename__ = "spare_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("host_users.id", ondelete="CASCADE"), index=True
    )
    token_encrypted: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Launch(Base):
    """A one-time launch URL ("handoff") or an embed page, found by the digest of its URL key.

    A page's ``kind`` says where it may be shown (``launches.guard.Place``): "embed" (framed),
    "top" (top level, bound to one browser) or "sso" (under the sign-in session that opened
    it)."""

    __tablename__ = "launches"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    host_id: Mapped[str] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("host_users.id", ondelete="CASCADE"))
    user_project_id: Mapped[int] = mapped_column(ForeignKey("user_projects.id", ondelete="CASCADE"))
    #: The CoCalc project the page shows (its user project's, or for a review the learner's):
    #: kept here so that a page view reads this row alone.
    project_id: Mapped[str | None] = mapped_column(String(36))
    path: Mapped[str] = mapped_column(String(4096), default="")
    # The CoCalc token this embed page signs in with (encrypted); cleared once revoked.
    token_encrypted: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: When the page was issued: a frame that no cookie reaches may open it once, and only
    #: in the moments after (``launches.guard``).
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A one-time link: when it was redeemed; a page: when it was first shown (a framed page
    #: that no cookie reaches opens once, without a sign-in: ``launches.guard``).
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What binds a page to one browser: the digest of its ``__Host-`` cookie (framed and
    #: top-level pages), or of the sign-in session that opened it ("sso").
    binding_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    #: The language the launch asked for (a BCP 47 tag), which the page speaks.
    locale: Mapped[str | None] = mapped_column(String(35))
    #: What the page shows beyond the notebook (``launches.embed.Shown``: an LTI page's way
    #: back and platform, a review's learner, the hand-in bar), written with the page.
    shown: Mapped[dict | None] = mapped_column(JSON)


class Revocation(Base):
    """A CoCalc token to revoke, kept until CoCalc confirms (a restart loses none)."""

    __tablename__ = "revocations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_encrypted: Mapped[str] = mapped_column(Text)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UsedTokenId(Base):
    """A launch token's ``jti`` that was accepted once; kept until the token expires."""

    __tablename__ = "used_token_ids"
    host_id: Mapped[str] = mapped_column(
        ForeignKey("hosts.id", ondelete="CASCADE"), primary_key=True
    )
    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class GatewayState(Base):
    """Facts the gateway learned and every process shares (e.g. the CoCalc dialect)."""

    __tablename__ = "gateway_state"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Exchange(Base):
    """A browser's sign-in step in progress, found by the digest of its random key: an LTI
    login waiting for its launch (``login``), a validated launch waiting for the platform
    storage check (``bound``), a Deep Linking picker (``picker``), a Dynamic Registration
    code (``register``), or an OpenID Connect sign-in waiting for its callback (``sso``).
    Each is used once (``used_at``) and lives minutes."""

    __tablename__ = "exchanges"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    #: The LMS platform or identity provider the exchange is with.
    owner_id: Mapped[str | None] = mapped_column(String(40))
    host_id: Mapped[str | None] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"))
    nonce: Mapped[str | None] = mapped_column(String(64))
    #: The digest of what binds the exchange to one browser (a cookie, platform storage).
    binding_digest: Mapped[str | None] = mapped_column(String(64))
    #: What the next step needs: validated claims, a picker's settings, a PKCE verifier.
    data: Mapped[dict | None] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: How often the exchange was tried (a registration code allows a few attempts).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RateCount(Base):
    """Requests of one client (or one host) in the current window: a limit that every
    gateway process sharing the database sees."""

    __tablename__ = "rate_counts"
    bucket: Mapped[str] = mapped_column(String(255), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    count: Mapped[int] = mapped_column(Integer)


class Lock(Base):
    """A named lease shared by every gateway process on the database."""

    __tablename__ = "locks"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
