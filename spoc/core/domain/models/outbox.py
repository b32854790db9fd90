"""The notification outbox."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spoc.core.storage.db import JSONType, Model, SealedText, UTCDateTime

if TYPE_CHECKING:
    from spoc.core.domain.models.requests import Request


class OutboxMessage(Model):
    """A notification written in the same transaction as its cause, delivered later.

    Delivery is at least once; ``idempotency_key`` travels with the message (Message-ID,
    Idempotency-Key header) so a receiver drops the duplicate a crash between sending and
    marking sent can cause. ``claimed_until`` is the lease of the worker sending it: a row
    left in ``sending`` by a dead worker becomes claimable again when the lease runs out.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        # Claiming: the next due row of a status, oldest first (see Deliverer.claim_one).
        Index("ix_outbox_due", "status", "next_attempt_at", "id"),
        Index("ix_outbox_request", "request_id"),
        # The console's outbox page: one status, newest first (keyset on id).
        Index("ix_outbox_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("requests.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(300), default="")
    # Sealed at rest: mails carry working tracking and sign-in links (see SealedText).
    body_text: Mapped[str] = mapped_column(SealedText("outbox_messages.body_text"))
    body_html: Mapped[str | None] = mapped_column(SealedText("outbox_messages.body_html"))
    headers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[Request | None] = relationship()
