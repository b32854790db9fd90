"""Watches: a deadline the sweep acts on once, then settles (a referral not accepted in time,
a status update that never came)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spoc.core.storage.db import Model, UTCDateTime


class Watch(Model):
    """One armed deadline of a plugin, on a request or a subject.

    ``cause`` is namespaced by the plugin that armed it (``healthcare:referral_not_accepted``)
    and unique per request (or subject). Settled when the sweep has dealt with it or the awaited
    thing happened; a settled watch never fires again. ``escalate_to``, when set, is the team
    the sweep escalates the request to when it falls due."""

    __tablename__ = "watches"
    __table_args__ = (
        UniqueConstraint("request_id", "cause"),
        UniqueConstraint("subject_id", "cause"),
        # The sweep: unsettled watches whose deadline has come, oldest first.
        Index("ix_watches_due", "settled_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cause: Mapped[str] = mapped_column(String(100))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    escalate_to: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(300), default="")
    armed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def plugin(self) -> str:
        """The plugin that armed it: the cause's namespace."""
        return self.cause.partition(":")[0]
