"""Facts for reports: one row per request and one per escalation, kept in the write that
changes them and rebuildable from the timeline and the clock log (``spoc reports rebuild``).

Reports read only these rows (and a few indexed counts of open requests), never the
requests table as a whole. Each index says which report reads it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from spoc.core.storage.db import Model, UTCDateTime

NARROWING = ("type_key", "plugin", "channel", "priority", "owner_team_id", "subject_id")
"""The columns reports narrow by, besides the period and the owner."""


class RequestFact(Model):
    """What reports need to know about one request; figures are business seconds."""

    __tablename__ = "report_request_facts"
    __table_args__ = (
        # Volume, first response, escalation rate, reopens, channel mix: requests filed in a
        # period (organisation days).
        Index("ix_report_request_facts_created", "created_day", "request_id"),
        # Resolved volume and resolution times: requests resolved in a period.
        Index("ix_report_request_facts_resolved", "resolved_day", "request_id"),
        # Backlog by age (the last 31 days) and SPOC load: the open requests by filing
        # instant and by accountable owner, read from the index alone however a report is
        # narrowed (the narrowing columns ride along).
        Index("ix_report_request_facts_open", "is_open", "created_at", *NARROWING),
        Index("ix_report_request_facts_open_owner", "is_open", "owner_agent_id", *NARROWING),
        # First-response and resolution times: the cohort's clock figures read from the index
        # alone (one read per cohort serves medians, percentiles, targets and breaches).
        Index(
            "ix_report_request_facts_first_response",
            "created_day",
            "priority",
            "first_response_seconds",
            "first_response_target",
            "first_response_breached",
        ),
        Index(
            "ix_report_request_facts_resolution",
            "resolved_day",
            "priority",
            "resolution_seconds",
            "resolution_target",
            "resolution_breached",
        ),
        # CSAT: ratings given in a period.
        Index("ix_report_request_facts_rated", "rated_day", "request_id"),
        # Reports narrowed to one SPOC or one subject read the facts themselves, by these.
        Index("ix_report_request_facts_owner_day", "owner_agent_id", "created_day"),
        Index("ix_report_request_facts_subject_day", "subject_id", "created_day"),
    )

    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True
    )
    type_key: Mapped[str] = mapped_column(String(100))
    plugin: Mapped[str] = mapped_column(String(64))
    private: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(16))
    is_open: Mapped[bool] = mapped_column(Boolean)
    # The accountable owner: cover by a deputy does not move it (see docs/reports.md).
    owner_agent_id: Mapped[int | None] = mapped_column(Integer)
    owner_team_id: Mapped[int | None] = mapped_column(Integer)
    subject_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_day: Mapped[date] = mapped_column(Date)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_day: Mapped[date | None] = mapped_column(Date)
    ever_resolved: Mapped[bool] = mapped_column(Boolean)
    first_response_seconds: Mapped[int | None] = mapped_column(Integer)
    first_response_target: Mapped[int | None] = mapped_column(Integer)
    first_response_breached: Mapped[bool] = mapped_column(Boolean)
    resolution_seconds: Mapped[int | None] = mapped_column(Integer)
    resolution_target: Mapped[int | None] = mapped_column(Integer)
    resolution_breached: Mapped[bool] = mapped_column(Boolean)
    escalations: Mapped[int] = mapped_column(Integer)
    max_level: Mapped[int] = mapped_column(Integer)
    specialist_seconds: Mapped[int | None] = mapped_column(Integer)
    reopens: Mapped[int] = mapped_column(Integer)
    staff_replies: Mapped[int] = mapped_column(Integer)
    first_contact: Mapped[bool] = mapped_column(Boolean)
    rating: Mapped[int | None] = mapped_column(Integer)
    rated_day: Mapped[date | None] = mapped_column(Date)


class EscalationFact(Model):
    """One escalation: level, team, its answer clock (OLA) and the time until hand-back."""

    __tablename__ = "report_escalation_facts"
    __table_args__ = (
        # Escalations by level and team, OLA met %, time with specialists: opened in a period.
        Index("ix_report_escalation_facts_opened", "opened_day", "escalation_id"),
        # Kept in step with its request's write; found by request.
        Index("ix_report_escalation_facts_request", "request_id"),
    )

    escalation_id: Mapped[int] = mapped_column(
        ForeignKey("escalations.id", ondelete="CASCADE"), primary_key=True
    )
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    team_id: Mapped[int | None] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(100))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_day: Mapped[date] = mapped_column(Date)
    handed_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Business seconds from opening to hand-back (its answer clock); NULL while open.
    open_seconds: Mapped[int | None] = mapped_column(Integer)
    ola_target: Mapped[int | None] = mapped_column(Integer)
    ola_breached: Mapped[bool] = mapped_column(Boolean)


class DigestSubscription(Model):
    """An agent who gets the weekly report digest, and the last week it was sent for."""

    __tablename__ = "report_digest_subscriptions"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    subscribed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # ISO week ("2026-W49") of the last digest sent: claimed with the mail, so once per week.
    last_week: Mapped[str | None] = mapped_column(String(8))


class ReportDay(Model):
    """One day's roll-up of the facts of one cohort (requests filed, resolved or rated that
    day, escalations opened that day) for one combination of the dimensions reports narrow
    by. ``seconds`` holds the cohort's clock figures, sorted (packed integers, see
    ``spoc.core.domain.reports.cube``), so percentiles stay exact; ``extra`` the time with
    specialists of the filed cohort. Rebuilt for a day by the worker when its facts change."""

    __tablename__ = "report_days"
    # A report reads one cohort's days at one grain (summary rows have the type "*").
    __table_args__ = (Index("ix_report_days_cohort_day", "cohort", "day", "type_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    cohort: Mapped[str] = mapped_column(String(10))
    type_key: Mapped[str] = mapped_column(String(100))
    plugin: Mapped[str] = mapped_column(String(64))
    private: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(4))
    # The owner team (0: none); for escalations the team escalated to.
    team_id: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)  # escalations only
    trigger: Mapped[str] = mapped_column(String(100))  # escalations only
    n: Mapped[int] = mapped_column(Integer)
    open_n: Mapped[int] = mapped_column(Integer)
    escalated_n: Mapped[int] = mapped_column(Integer)
    resolved_n: Mapped[int] = mapped_column(Integer)
    reopened_n: Mapped[int] = mapped_column(Integer)
    first_contact_n: Mapped[int] = mapped_column(Integer)
    met: Mapped[int] = mapped_column(Integer)
    targeted: Mapped[int] = mapped_column(Integer)
    breached: Mapped[int] = mapped_column(Integer)
    ended_n: Mapped[int] = mapped_column(Integer)
    on_time_n: Mapped[int] = mapped_column(Integer)
    rated_1: Mapped[int] = mapped_column(Integer)
    rated_2: Mapped[int] = mapped_column(Integer)
    rated_3: Mapped[int] = mapped_column(Integer)
    rated_4: Mapped[int] = mapped_column(Integer)
    rated_5: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[bytes] = mapped_column(LargeBinary)
    extra: Mapped[bytes] = mapped_column(LargeBinary)


class ReportDirtyDay(Model):
    """A day whose roll-up no longer matches its facts: appended by every write that changes
    a fact of that day (no row is ever updated, so writers never wait on each other), taken
    away by the worker once it has rebuilt the day. Reports read such days from the facts."""

    __tablename__ = "report_dirty_days"
    __table_args__ = (Index("ix_report_dirty_days_day", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
