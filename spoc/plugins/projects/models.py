"""The projects plugin's own tables. Core tables are referenced, never altered.

Subjects (portfolio, project, workstream) live in the core's ``subjects``; the rows here index
their structure (which project a workstream belongs to) so every list is an indexed query.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from spoc import JSONType, Model, UTCDateTime


class Portfolio(Model):
    __tablename__ = "projects_portfolios"

    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    )
    rag: Mapped[str | None] = mapped_column(String(8))
    rag_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Project(Model):
    __tablename__ = "projects_projects"
    __table_args__ = (
        Index("ix_projects_projects_portfolio", "portfolio_id", "subject_id"),
        Index("ix_projects_projects_next_period", "next_period_on"),
    )

    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    )
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    cadence: Mapped[str] = mapped_column(String(12))
    deadline_days: Mapped[int] = mapped_column(Integer)
    sponsor_team: Mapped[str] = mapped_column(String(64))
    # The start of the next reporting period to open; the sweep opens it when it comes.
    next_period_on: Mapped[date] = mapped_column(Date)


class Workstream(Model):
    __tablename__ = "projects_workstreams"
    __table_args__ = (
        Index("ix_projects_workstreams_project", "project_id", "subject_id"),
        # The projects a signed-in requester belongs to (spoc_contact_subjects).
        Index("ix_projects_workstreams_lead_email", "lead_email"),
    )

    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    lead_name: Mapped[str] = mapped_column(String(200))
    lead_email: Mapped[str] = mapped_column(String(320))
    owner_team: Mapped[str] = mapped_column(String(64))


class Person(Model):
    """A sponsor, steering-committee member or other stakeholder of a project: a contact
    with a role."""

    __tablename__ = "projects_people"
    __table_args__ = (
        Index("ix_projects_people_project", "project_id", "role", "id"),
        Index("ix_projects_people_email", "email"),  # see spoc_contact_subjects
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))


class Period(Model):
    """One reporting period of a project: its deadline, its report request (the audit trail of
    the period's RAG), the computed rollup and the manager's override, both kept."""

    __tablename__ = "projects_periods"
    __table_args__ = (
        UniqueConstraint("project_id", "label"),
        Index("ix_projects_periods_project", "project_id", "starts_on"),
        Index("ix_projects_periods_stale", "rollup_stale"),
        Index("ix_projects_periods_chase", "chased_at", "closes_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(10))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    escalate_at: Mapped[datetime] = mapped_column(UTCDateTime)
    report_request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"))
    computed_rag: Mapped[str | None] = mapped_column(String(8))
    override_rag: Mapped[str | None] = mapped_column(String(8))
    override_justification: Mapped[str | None] = mapped_column(Text)
    override_by: Mapped[str | None] = mapped_column(String(200))
    override_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rollup_stale: Mapped[bool] = mapped_column(Boolean, default=True)
    chased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def effective_rag(self) -> str | None:
        return self.override_rag or self.computed_rag


class WorkstreamStatus(Model):
    """A workstream's RAG for a period as the rollup last recorded it (``missing``: no update,
    counted as Amber)."""

    __tablename__ = "projects_workstream_status"
    __table_args__ = (Index("ix_projects_workstream_status_period", "period_id"),)

    workstream_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    )
    period_id: Mapped[int] = mapped_column(
        ForeignKey("projects_periods.id", ondelete="CASCADE"), primary_key=True
    )
    rag: Mapped[str] = mapped_column(String(8))
    missing: Mapped[bool] = mapped_column(Boolean)
    update_id: Mapped[int | None] = mapped_column(Integer)


class StatusUpdate(Model):
    __tablename__ = "projects_updates"
    __table_args__ = (Index("ix_projects_updates_workstream", "workstream_id", "period_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), unique=True
    )
    workstream_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    period_id: Mapped[int] = mapped_column(ForeignKey("projects_periods.id", ondelete="CASCADE"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    overall: Mapped[str] = mapped_column(String(8))
    dimensions: Mapped[dict[str, Any]] = mapped_column(JSONType)
    percent_complete: Mapped[int] = mapped_column(Integer)
    milestones: Mapped[list[Any]] = mapped_column(JSONType)
    done: Mapped[str] = mapped_column(Text)
    next: Mapped[str] = mapped_column(Text)
    blockers: Mapped[str] = mapped_column(Text)


class Milestone(Model):
    """A workstream's milestone: the baseline is the date first reported and is kept; the
    forecast and actual follow the latest update."""

    __tablename__ = "projects_milestones"
    __table_args__ = (UniqueConstraint("workstream_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workstream_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    baseline: Mapped[date] = mapped_column(Date)
    forecast: Mapped[date | None] = mapped_column(Date)
    actual: Mapped[date | None] = mapped_column(Date)
    slip_days: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Chase(Model):
    """A missing update being chased: requested (the chase request, whose mail carries an
    intake link to the workstream), reminded at the deadline, escalated one business day later
    (a core watch), received; then the workstream's intake links are revoked."""

    __tablename__ = "projects_chases"
    __table_args__ = (
        UniqueConstraint("workstream_id", "period_id"),
        Index("ix_projects_chases_remind", "reminded_at", "received_at", "remind_at"),
        Index("ix_projects_chases_open", "received_at", "remind_at"),
        Index("ix_projects_chases_links", "links_done_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workstream_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    period_id: Mapped[int] = mapped_column(ForeignKey("projects_periods.id", ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), unique=True
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    remind_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The chase ended (answered or closed) and the workstream's intake links were revoked —
    # or left to the workstream's last open chase.
    links_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Risk(Model):
    __tablename__ = "projects_risks"
    __table_args__ = (Index("ix_projects_risks_project", "project_id", "score", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), unique=True
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    summary: Mapped[str] = mapped_column(String(200))
    probability: Mapped[int] = mapped_column(Integer)
    impact: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer)
    proximity: Mapped[date] = mapped_column(Date)
    owner: Mapped[str] = mapped_column(String(200))
    response: Mapped[str] = mapped_column(String(20))


class Decision(Model):
    """An issue or decision request and, once taken, its outcome: the decision log."""

    __tablename__ = "projects_decisions"
    __table_args__ = (Index("ix_projects_decisions_project", "project_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), unique=True
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    summary: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(10))
    needed_by: Mapped[date] = mapped_column(Date)
    decider: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))


class AgendaItem(Model):
    """A risk on the steering committee's agenda."""

    __tablename__ = "projects_agenda"
    __table_args__ = (Index("ix_projects_agenda_project", "project_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), unique=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(300))


class Report(Model):
    """A published status report: an immutable snapshot. A change makes a new version."""

    __tablename__ = "projects_reports"
    __table_args__ = (
        UniqueConstraint("period_id", "version"),
        Index("ix_projects_reports_project", "project_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    period_id: Mapped[int] = mapped_column(ForeignKey("projects_periods.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))


@event.listens_for(Report, "before_update")
def _reports_are_immutable(*_: object) -> None:
    raise ValueError("a published status report never changes; publish a new version")


class ShareLink(Model):
    """A sponsor's link to one published report: only the token's SHA-256 is stored."""

    __tablename__ = "projects_share_links"
    __table_args__ = (Index("ix_projects_share_links_report", "report_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("projects_reports.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
