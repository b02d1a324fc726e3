"""The single sign-on tables: the OpenID Providers of each host, and signed-in sessions (of
an OpenID Provider or a SAML IdP: ``saml_tables``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime, utcnow


class SsoProvider(Base):
    """An OpenID Provider the host's users sign in with (its client secret encrypted)."""

    __tablename__ = "sso_providers"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    host_id: Mapped[str] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(1024))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret_encrypted: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(1024))
    #: The endpoints from the provider's discovery document, read when it was added.
    endpoints: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SsoSession(Base):
    """A browser signed in with a provider: found by the digest of its cookie's key."""

    __tablename__ = "sso_sessions"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    host_id: Mapped[str] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"))
    #: The OpenID Provider that signed it in, or (``saml_idp_id``) the SAML IdP.
    provider_id: Mapped[str | None] = mapped_column(
        ForeignKey("sso_providers.id", ondelete="CASCADE")
    )
    saml_idp_id: Mapped[str | None] = mapped_column(
        ForeignKey("saml_idps.id", ondelete="CASCADE", name="fk_sso_sessions_saml_idp_id")
    )
    #: The SAML subject (NameID and SessionIndex, encrypted) a single logout names, and its
    #: digest, by which an IdP's logout request finds the session.
    saml_subject_encrypted: Mapped[str | None] = mapped_column(Text)
    saml_subject_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("host_users.id", ondelete="CASCADE"))
    #: Kept (encrypted) for RP-initiated logout's ``id_token_hint``.
    id_token_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The language the sign-in asked for (the ``locale`` claim, or ``ui_locales``).
    locale: Mapped[str | None] = mapped_column(String(35))
