"""The events plugin's own tables. Core tables are referenced, never altered.

Times are absolute UTC instants; each event keeps its IANA time zone for display and for
deciding when "the event's day" starts and ends.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from spoc import JSONType, Model, UTCDateTime

SESSION_STATUSES = ("scheduled", "cancelled")
# A vendor alert's life: waiting for its instant → a request opened → escalated; or cleared
# because what it waited for happened first; or failed, when its request could not be opened
# (logged; parked so it never blocks the alerts behind it).
WAITING, OPENED, ESCALATED, CLEARED = "waiting", "opened", "escalated", "cleared"
FAILED = "failed"


class Event(Model):
    __tablename__ = "events_events"
    __table_args__ = (
        Index("ix_events_events_starts", "starts_at"),
        Index("ix_events_events_erasure", "erased_at", "erase_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), unique=True
    )
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    venue: Mapped[str] = mapped_column(String(300))
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    load_in_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    load_in_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    safety_lead_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    erase_after: Mapped[datetime] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EventSession(Model):
    __tablename__ = "events_sessions"
    __table_args__ = (Index("ix_events_sessions_event", "event_id", "starts_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events_events.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    room: Mapped[str] = mapped_column(String(120))
    speaker: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Vendor(Model):
    __tablename__ = "events_vendors"
    __table_args__ = (
        UniqueConstraint("event_id", "code"),
        Index("ix_events_vendors_event", "event_id", "name", "id"),
        Index("ix_events_vendors_onsite_email", "onsite_email"),  # see spoc_contact_subjects
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events_events.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    contract_ref: Mapped[str] = mapped_column(String(60), default="")
    contract_value: Mapped[float | None] = mapped_column(Float)
    budget_tolerance: Mapped[float | None] = mapped_column(Float)
    insurance_expires_on: Mapped[date | None] = mapped_column(Date)
    onsite_name: Mapped[str] = mapped_column(String(200), default="")
    onsite_phone: Mapped[str] = mapped_column(String(40), default="")
    onsite_email: Mapped[str] = mapped_column(String(254))
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who checked the vendor in (it clears the not-checked-in trigger): name and agent id.
    checked_in_by: Mapped[str | None] = mapped_column(String(200))
    checked_in_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL")
    )
    portal_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    portal_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Deliverable(Model):
    __tablename__ = "events_deliverables"
    __table_args__ = (Index("ix_events_deliverables_vendor", "vendor_id", "due_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("events_vendors.id", ondelete="CASCADE"))
    what: Mapped[str] = mapped_column(String(300))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acceptance: Mapped[str] = mapped_column(String(500), default="")
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by: Mapped[str | None] = mapped_column(String(200))


class VendorAlert(Model):
    """A vendor trigger: what it is about (one per vendor, cause and deliverable: the unique
    ``key``) and what became of it. When it falls due is the core's watch
    ``events:vendor:<key>`` on the event's subject, which the sweep reads (see ``vendors``)."""

    __tablename__ = "events_vendor_alerts"
    __table_args__ = (
        # The escalation of an opened alert finds it by its request.
        Index("ix_events_vendor_alerts_request", "request_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("events_vendors.id", ondelete="CASCADE"))
    deliverable_id: Mapped[int | None] = mapped_column(
        ForeignKey("events_deliverables.id", ondelete="CASCADE")
    )
    cause: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(12), default=WAITING)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id", ondelete="SET NULL"))


class Attendee(Model):
    __tablename__ = "events_attendees"
    __table_args__ = (
        UniqueConstraint("event_id", "email"),
        Index("ix_events_attendees_event", "event_id", "name", "id"),
        Index("ix_events_attendees_email", "email"),  # see spoc_contact_subjects
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events_events.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    order_code: Mapped[str] = mapped_column(String(40), default="")
    ticket_type: Mapped[str] = mapped_column(String(60), default="")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RequestLink(Model):
    """Which event (and vendor or attendee registration) a request is about."""

    __tablename__ = "events_request_links"
    __table_args__ = (Index("ix_events_request_links_event", "event_id", "request_id"),)

    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("events_events.id", ondelete="CASCADE"))
    vendor_id: Mapped[int | None] = mapped_column(
        ForeignKey("events_vendors.id", ondelete="SET NULL")
    )
    attendee_id: Mapped[int | None] = mapped_column(
        ForeignKey("events_attendees.id", ondelete="SET NULL")
    )


class Incident(Model):
    """An on-site incident's board entry."""

    __tablename__ = "events_incidents"
    __table_args__ = (Index("ix_events_incidents_board", "event_id", "location", "reported_at"),)

    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("events_events.id", ondelete="CASCADE"))
    location: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AccessNeed(Model):
    """An accessibility or dietary need (special-category data, stored only with consent)."""

    __tablename__ = "events_access_needs"
    __table_args__ = (
        Index("ix_events_access_needs_event", "event_id", "id"),
        # The erasure's range: needs not yet erased (erased_at IS NULL), by event.
        Index("ix_events_access_needs_unerased", "erased_at", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), unique=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("events_events.id", ondelete="CASCADE"))
    attendee_id: Mapped[int | None] = mapped_column(
        ForeignKey("events_attendees.id", ondelete="SET NULL")
    )
    need_types: Mapped[list[Any]] = mapped_column(JSONType)
    details: Mapped[str] = mapped_column(Text, default="")
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NeedPerSession(Model):
    """One need type in one session: what vendors count (never who)."""

    __tablename__ = "events_need_sessions"
    __table_args__ = (Index("ix_events_need_sessions_session", "session_id", "need_type"),)

    need_id: Mapped[int] = mapped_column(
        ForeignKey("events_access_needs.id", ondelete="CASCADE"), primary_key=True
    )
    session_id: Mapped[int] = mapped_column(
        ForeignKey("events_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    need_type: Mapped[str] = mapped_column(String(30), primary_key=True)
