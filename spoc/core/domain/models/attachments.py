"""Files that came with a request or one of its messages. The content is in the file store
(:mod:`spoc.core.storage.files`), named by its hash; the row says whose it is and what it is."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spoc.core.domain.models.columns import enum_column
from spoc.core.kernel.types import ActorKind
from spoc.core.storage.db import Model, UTCDateTime

if TYPE_CHECKING:
    from spoc.core.domain.models.requests import Message


class Attachment(Model):
    __tablename__ = "attachments"
    __table_args__ = (
        # A request's files in order: the detail read model, downloads, erasure.
        Index("ix_attachments_request", "request_id", "id"),
        # Is any row still using this object? Asked before deleting it from the store.
        Index("ix_attachments_storage_key", "storage_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    # The message it came with; NULL for files filed with the request itself.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(200))  # sanitised: no folders, no controls
    content_type: Mapped[str] = mapped_column(String(100))  # detected from the content
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    scan_verdict: Mapped[str] = mapped_column(String(100))  # "clean", "not scanned"
    uploaded_by_kind: Mapped[ActorKind] = mapped_column(enum_column(ActorKind, "uploaded_by_kind"))
    uploaded_by_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    message: Mapped[Message | None] = relationship()
