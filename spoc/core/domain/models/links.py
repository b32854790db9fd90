"""Portal links: tracking tokens, subject intake links, magic sign-in links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from spoc.core.storage.db import Model, UTCDateTime


class TrackingToken(Model):
    """The requester's private link to one request: no account, just a secret that expires."""

    __tablename__ = "tracking_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A CC's own link: who holds it (the requester's links have none).
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))


class SubjectIntakeLink(Model):
    """``/s/<token>``: an organisation shares it so requests land on one subject."""

    __tablename__ = "subject_intake_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MagicLink(Model):
    """ "Email me a link to all my requests": a short-lived, single-use sign-in for a contact.

    Issued by the outbox worker, never by the web request that asked for it, so asking costs
    the same whether or not the address is known (``spoc.core.domain.links.MAGIC_LINK_CHANNEL``)."""

    __tablename__ = "magic_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Single use: set by the first sign-in; a second use is refused and says so.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
