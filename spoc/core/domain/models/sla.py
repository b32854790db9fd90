"""SLA clocks, their event log, and the escalation triggers the sweep acts on."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spoc.core.domain.models.columns import EnumText
from spoc.core.kernel.clocks import ClockEventKind, ClockKind, ClockState
from spoc.core.storage.db import Model, UTCDateTime

if TYPE_CHECKING:
    from spoc.core.domain.models.requests import Request


class SlaClock(Model):
    """One clock of a request: first response, resolution, an escalation's OLA, housekeeping."""

    __tablename__ = "sla_clocks"
    __table_args__ = (Index("ix_sla_clocks_request", "request_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    kind: Mapped[ClockKind] = mapped_column(EnumText(ClockKind, 32))
    escalation_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalations.id", ondelete="CASCADE")
    )
    calendar: Mapped[str] = mapped_column(String(64))
    target_seconds: Mapped[int] = mapped_column(Integer)
    warn_seconds: Mapped[int | None] = mapped_column(Integer)
    # Business time spent paused so far: due = calendar.add(started, target + paused).
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[ClockState] = mapped_column(EnumText(ClockState, 16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[Request] = relationship()


_ONCE = f"kind IN ('{ClockEventKind.WARNED.value}', '{ClockEventKind.BREACHED.value}')"


class SlaClockEvent(Model):
    """Append-only log of what happened to a clock, so it can explain itself."""

    __tablename__ = "sla_clock_events"
    __table_args__ = (
        Index("ix_sla_clock_events_clock", "clock_id", "id"),
        # A clock warns once and breaches once, however many sweeps run at the same time.
        Index(
            "uq_sla_clock_events_once",
            "clock_id",
            "kind",
            unique=True,
            postgresql_where=text(_ONCE),
            sqlite_where=text(_ONCE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("sla_clocks.id", ondelete="CASCADE"))
    kind: Mapped[ClockEventKind] = mapped_column(EnumText(ClockEventKind, 16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    clock: Mapped[SlaClock] = relationship()


class EscalationTrigger(Model):
    """An automatic trigger that has fired for a request: each fires at most once."""

    __tablename__ = "escalation_triggers"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True
    )
    trigger: Mapped[str] = mapped_column(String(100), primary_key=True)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)
