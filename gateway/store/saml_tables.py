"""The SAML tables: the identity providers of each host (with their metadata as verified),
and the service provider's own keys. Signed-in sessions are the single sign-on way in's
(``sso_sessions``), which name the IdP that signed them in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime, utcnow


class SamlIdp(Base):
    """An identity provider a host's users sign in at, and where its metadata comes from."""

    __tablename__ = "saml_idps"
    __table_args__ = (UniqueConstraint("host_id", "entity_id"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    host_id: Mapped[str] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    entity_id: Mapped[str] = mapped_column(String(1024))
    #: "url" (the IdP's own metadata URL), "file" (read once, never refreshed) or "mdq"
    #: (a federation's Metadata Query service).
    source: Mapped[str] = mapped_column(String(8))
    #: The metadata URL, or the MDQ service's base URL.
    location: Mapped[str | None] = mapped_column(Text)
    #: The certificate (PEM) that must have signed the metadata (a federation's, for MDQ).
    signer_certificate: Mapped[str | None] = mapped_column(Text)
    #: The IdP's EntityDescriptor as verified (the metadata document's own bytes).
    metadata_xml: Mapped[str] = mapped_column(Text)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When to fetch it again: its cacheDuration (or the MDQ freshness) after the last fetch.
    refresh_after: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Why the last refresh failed (the metadata in use stays the last good one).
    refresh_error: Mapped[str | None] = mapped_column(String(255))
    #: How far the metadata server's clock (its HTTP Date) was from ours, in seconds.
    clock_offset_s: Mapped[float | None] = mapped_column(Float)
    #: IdP-initiated (unsolicited) responses: refused unless an operator turns them on.
    allow_unsolicited: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Assertions that come unencrypted: refused unless an operator allows them.
    allow_unencrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SamlSpKey(Base):
    """One of the service provider's RSA keys, with its self-signed certificate (the private
    key encrypted at rest). The newest key whose ``signs_from`` has come signs; every kept
    key decrypts and is published."""

    __tablename__ = "saml_sp_keys"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    certificate: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: When it starts signing: a rotated key is published first and signs a day later, once
    #: the IdPs that verify signed requests have fetched the new metadata.
    signs_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
