"""Requests and what happens on them: messages, the timeline, escalations, feedback."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spoc.core.domain.models.columns import NO_DEADLINE, Visibility, enum_column
from spoc.core.kernel.types import ActorKind, Priority, Status
from spoc.core.storage.db import JSONType, Model, UTCDateTime

if TYPE_CHECKING:
    from spoc.core.domain.models.people import Agent, Contact, Subject, Team


class Request(Model):
    """Current state of a request: a projection of its timeline, kept in the same transaction."""

    __tablename__ = "requests"
    __table_args__ = (
        CheckConstraint("escalation_level >= 0 AND escalation_level <= 2", name="level_range"),
        Index("ix_requests_owner_status", "owner_agent_id", "status"),
        Index("ix_requests_team_status", "owner_team_id", "status"),
        Index("ix_requests_status_created", "status", "created_at"),
        Index("ix_requests_subject", "subject_id", "created_at"),
        # A contact's requests by id: the portal's "my requests", the privacy export.
        Index("ix_requests_contact", "contact_id", "id"),
        # Console queues walk these in (deadline_at, id) order, page by page.
        Index("ix_requests_deadline_owner", "owner_agent_id", "deadline_at", "id"),
        Index("ix_requests_deadline_team", "owner_team_id", "deadline_at", "id"),
        Index("ix_requests_deadline_all", "deadline_at", "id"),
        # Cover: the requests an absent agent's covers hold for them, by id (returned in pages).
        Index("ix_requests_covering", "covering_for_agent_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type_key: Mapped[str] = mapped_column(String(100), index=True)
    summary: Mapped[str] = mapped_column(String(200))
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType)
    priority: Mapped[Priority] = mapped_column(enum_column(Priority, "priority"))
    status: Mapped[Status] = mapped_column(enum_column(Status, "status"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    owner_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    owner_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    # Cover: the owner is acting for this absent agent until this date (organisation date).
    covering_for_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    cover_until: Mapped[date | None] = mapped_column(Date)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(200))
    close_reason: Mapped[str | None] = mapped_column(String(500))
    # When the sweep must next look at this request (earliest pending warning or deadline of
    # its clocks); NULL when nothing is pending. Kept in step by spoc.core.domain.sla.
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The earliest pending deadline, for sorting queues; NO_DEADLINE when there is none.
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: NO_DEADLINE)

    contact: Mapped[Contact] = relationship()
    subject: Mapped[Subject | None] = relationship()
    owner_agent: Mapped[Agent | None] = relationship(foreign_keys=[owner_agent_id])
    owner_team: Mapped[Team | None] = relationship(foreign_keys=[owner_team_id])

    # Optimistic locking: every UPDATE says "WHERE version = <what I read>".
    __mapper_args__ = {"version_id_col": version}


class Message(Model):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_request", "request_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility, "visibility"))
    author_kind: Mapped[ActorKind] = mapped_column(enum_column(ActorKind, "author_kind"))
    author_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    author_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TimelineEvent(Model):
    """Append-only: rows are inserted, never updated or deleted by the application."""

    __tablename__ = "timeline_events"
    __table_args__ = (UniqueConstraint("request_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility, "visibility"))
    actor_kind: Mapped[ActorKind] = mapped_column(enum_column(ActorKind, "actor_kind"))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    message: Mapped[Message | None] = relationship()
    request: Mapped[Request] = relationship()


class Escalation(Model):
    """Escalation is a record with its own life, not a priority bump."""

    __tablename__ = "escalations"
    __table_args__ = (
        Index("ix_escalations_request", "request_id", "opened_at"),
        Index("ix_escalations_team_open", "to_team_id", "handed_back_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    from_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    to_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    to_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    reason: Mapped[str] = mapped_column(Text)
    trigger: Mapped[str] = mapped_column(String(100))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_back_by_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))

    to_team: Mapped[Team | None] = relationship(foreign_keys=[to_team_id])


class Feedback(Model):
    __tablename__ = "feedback"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), unique=True
    )
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
