"""Inbound mail: every message received, once, with what became of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from spoc.core.storage.db import JSONType, Model, SealedText, UTCDateTime


class InboundMail(Model):
    """One received mail. ``dedupe_key`` (its Message-ID, or the digest of its bytes when it
    has none) is unique: a mail delivered twice, by a retry or by two workers, is stored and
    acted on once, because the row and its effect (the request, the message, the
    acknowledgement in the outbox) commit together.

    The original is kept sealed (``raw``): the timeline shows the reply without its quoted
    history; staff who may read the request may open the original."""

    __tablename__ = "inbound_mails"
    __table_args__ = (
        # The per-sender hourly limit counts a sender's recent mail.
        Index("ix_inbound_sender", "sender", "received_at"),
        # A request's held mails, and the mails a request's messages came from.
        Index("ix_inbound_request", "request_id", "id"),
        # The console's mail log: one outcome, newest first.
        Index("ix_inbound_outcome", "outcome", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(320), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(300))
    digest: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(100))
    envelope_to: Mapped[str] = mapped_column(String(320), default="")
    sender: Mapped[str] = mapped_column(String(320))
    sender_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(SealedText("inbound_mails.subject"))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500), default="")
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id", ondelete="SET NULL"))
    message_row_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    auth: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    size: Mapped[int] = mapped_column(default=0)
    raw: Mapped[str | None] = mapped_column(SealedText("inbound_mails.raw"))
    text: Mapped[str | None] = mapped_column(SealedText("inbound_mails.text"))
    html: Mapped[str | None] = mapped_column(SealedText("inbound_mails.html"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_by_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
