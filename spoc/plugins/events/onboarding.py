"""Events, their sessions and vendors created from the console's forms, a CSV or the API.

An event is a core subject (its code is the subject's external reference; venue and time zone
its attributes) completed by the plugin's row with its dates, capacity and load-in; sessions
and vendors are items under an event (``spoc structures import events.session FILE``). Times
are wall-clock times at the venue, as staff type them elsewhere in the plugin.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc import Saved, Structure, StructureItem, ValidationFailed
from spoc.plugins.events.models import Event, EventSession, Vendor
from spoc.plugins.events.program import EVENT, instant, local, sessions_of, zone
from spoc.plugins.events.settings import EventsSettings
from spoc.plugins.events.vendors import (
    CERTIFICATE_MISSING,
    VendorPlan,
    _clear,
    _covers,
    insert_vendor,
    valid_email,
)


class _Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class EventAttributes(_Form):
    """An event subject's attributes: where it is, and the zone its times are in."""

    # Defaults, so a subject made in Python without them stays valid; the dates' structure
    # reads the zone, and an event imported without one is in UTC.
    venue: str = Field(default="", max_length=300)
    timezone: str = Field(
        default="UTC", max_length=64, description="An IANA zone, e.g. America/New_York"
    )

    @field_validator("timezone")
    @classmethod
    def _known(cls, value: str) -> str:
        try:
            zone(value)
        except ValidationFailed:
            raise ValueError(f"not an IANA time zone: {value}") from None
        return value


class EventSchedule(_Form):
    """When the event runs (times at the venue), for how many, and who leads on safety."""

    starts: datetime = Field(description="Doors open, at the venue")
    ends: datetime = Field(description="Doors close, at the venue")
    capacity: int = Field(ge=1, le=1_000_000)
    load_in_starts: datetime | None = None
    load_in_ends: datetime | None = None
    safety_lead: EmailStr | None = Field(
        default=None, description="An agent's email; blank keeps the one on record"
    )


class SessionFields(_Form):
    title: str = Field(min_length=1, max_length=200)
    starts: datetime = Field(description="At the venue")
    ends: datetime = Field(description="At the venue")
    room: str = Field(default="", max_length=120)
    speaker: str = Field(default="", max_length=200)


class VendorFields(_Form):
    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=200)
    onsite_email: EmailStr
    onsite_name: str = Field(default="", max_length=200)
    onsite_phone: str = Field(default="", max_length=40)
    contract_ref: str = Field(default="", max_length=60)
    contract_value: float | None = Field(default=None, ge=0)
    budget_tolerance: float | None = Field(default=None, ge=0)
    insurance_expires_on: date | None = None


def _settings(item: StructureItem) -> EventsSettings:
    return item.spoc.plugin_settings("events", EventsSettings)  # type: ignore[no-any-return]


def _event(item: StructureItem) -> Saved:
    session: Session = item.session
    fields = item.fields
    assert isinstance(fields, EventSchedule)
    code = item.external_ref
    if not code:
        raise ValidationFailed("invalid event", {"external_ref": "an event needs its code"})
    tz = ZoneInfo(str(item.attributes["timezone"]))
    starts, ends = instant(fields.starts, tz), instant(fields.ends, tz)
    load_in = instant(fields.load_in_starts, tz) if fields.load_in_starts else None
    load_out = instant(fields.load_in_ends, tz) if fields.load_in_ends else None
    problems = {}
    if ends <= starts:
        problems["ends"] = "must be after the start"
    if load_in and load_out and load_out <= load_in:
        problems["load_in_ends"] = "must be after the load-in starts"
    row = (
        session.scalar(select(Event).where(Event.subject_id == item.subject_id))
        if item.subject_id
        else None
    )
    safety_id = row.safety_lead_id if row is not None else None  # blank: kept
    if fields.safety_lead:
        lead = item.spoc.directory.agent_by_email(str(fields.safety_lead))
        safety_id = lead.id if lead is not None and lead.active else None
        if safety_id is None:
            problems["safety_lead"] = f"{fields.safety_lead} is not an active agent"
    other = session.scalar(select(Event).where(Event.code == code))
    if other is not None and other is not row:
        problems["external_ref"] = f"{code} is another event's code"
    if problems:
        raise ValidationFailed("the event is invalid", problems)
    if item.check_only:
        return Saved.UPDATED if row is not None else Saved.CREATED
    now = item.spoc.clock.now()
    erase_after = ends + timedelta(days=_settings(item).retention_days)
    values: dict[str, Any] = {
        "code": code,
        "name": item.name,
        "venue": item.attributes["venue"],
        "timezone": item.attributes["timezone"],
        "starts_at": starts,
        "ends_at": ends,
        "capacity": fields.capacity,
        "load_in_starts_at": load_in,
        "load_in_ends_at": load_out,
        "safety_lead_id": safety_id,
        "erase_after": erase_after,
    }
    if row is None:
        session.add(Event(subject_id=item.subject_id, sequence=0, updated_at=now, **values))
        return Saved.CREATED
    if any(getattr(row, k) != v for k, v in values.items()):
        for key, value in values.items():
            setattr(row, key, value)
        row.sequence += 1  # calendars see the change
        row.updated_at = now
    return Saved.UPDATED


def _event_values(session: Session, subject_id: int) -> Mapping[str, Any] | None:
    row = session.scalar(select(Event).where(Event.subject_id == subject_id))
    if row is None:
        return None

    def at(value: datetime | None) -> str:
        return local(value, row).strftime("%Y-%m-%dT%H:%M") if value else ""

    return {
        "starts": at(row.starts_at),
        "ends": at(row.ends_at),
        "capacity": row.capacity,
        "load_in_starts": at(row.load_in_starts_at),
        "load_in_ends": at(row.load_in_ends_at),
    }


def _event_of(item: StructureItem) -> Event:
    row = item.session.scalar(select(Event).where(Event.subject_id == item.subject_id))
    if row is None:
        raise ValidationFailed("no schedule", {"parent": "this event has no dates yet"})
    return row  # type: ignore[no-any-return]


def _session(item: StructureItem) -> Saved:
    session: Session = item.session
    fields = item.fields
    assert isinstance(fields, SessionFields)
    event = _event_of(item)
    tz = ZoneInfo(event.timezone)
    starts, ends = instant(fields.starts, tz), instant(fields.ends, tz)
    if ends <= starts:
        raise ValidationFailed("the session is invalid", {"ends": "must be after the start"})
    row = session.scalar(
        select(EventSession).where(
            EventSession.event_id == event.id,
            EventSession.title == fields.title,
            EventSession.starts_at == starts,
        )
    )
    if item.check_only:
        return Saved.UPDATED if row is not None else Saved.CREATED
    now = item.spoc.clock.now()
    if row is None:
        session.add(
            EventSession(
                event_id=event.id,
                title=fields.title,
                room=fields.room,
                speaker=fields.speaker,
                starts_at=starts,
                ends_at=ends,
                status="scheduled",
                sequence=0,
                updated_at=now,
            )
        )
        return Saved.CREATED
    if (row.room, row.speaker, row.ends_at) != (fields.room, fields.speaker, ends):
        row.room, row.speaker, row.ends_at = fields.room, fields.speaker, ends
        row.sequence += 1
        row.updated_at = now
    return Saved.UPDATED


def _session_values(session: Session, session_id: int) -> Mapping[str, Any] | None:
    row = session.get(EventSession, session_id)
    event = session.get(Event, row.event_id) if row is not None else None
    if row is None or event is None:
        return None
    return {
        "title": row.title,
        "starts": local(row.starts_at, event).strftime("%Y-%m-%dT%H:%M"),
        "ends": local(row.ends_at, event).strftime("%Y-%m-%dT%H:%M"),
        "room": row.room,
        "speaker": row.speaker,
    }


def _sessions(session: Session, subject_id: int) -> list[tuple[int, str]]:
    event = session.scalar(select(Event).where(Event.subject_id == subject_id))
    if event is None:
        return []
    return [
        (s.id, f"{local(s.starts_at, event):%d %b %H:%M} {s.title}")
        for s in sessions_of(session, event.id, limit=100)
    ]


def _vendor(item: StructureItem) -> Saved:
    session: Session = item.session
    fields = item.fields
    assert isinstance(fields, VendorFields)
    event = _event_of(item)
    valid_email(str(fields.onsite_email))
    row = session.scalar(
        select(Vendor).where(Vendor.event_id == event.id, Vendor.code == fields.code)
    )
    if item.check_only:
        return Saved.UPDATED if row is not None else Saved.CREATED
    plan = VendorPlan(**fields.model_dump(mode="python"))
    plan = VendorPlan(**{**plan.__dict__, "onsite_email": str(fields.onsite_email)})
    if row is None:
        insert_vendor(item.spoc, _settings(item), session, event, plan)
        return Saved.CREATED
    row.name, row.onsite_name, row.onsite_phone = plan.name, plan.onsite_name, plan.onsite_phone
    row.onsite_email = valid_email(plan.onsite_email)
    row.contract_ref, row.contract_value = plan.contract_ref, plan.contract_value
    row.budget_tolerance = plan.budget_tolerance
    if plan.insurance_expires_on is not None:
        row.insurance_expires_on = plan.insurance_expires_on
        if _covers(row, event):
            _clear(item.spoc, session, row, CERTIFICATE_MISSING)
    return Saved.UPDATED


def _vendor_values(session: Session, vendor_id: int) -> Mapping[str, Any] | None:
    row = session.get(Vendor, vendor_id)
    if row is None:
        return None
    return {name: getattr(row, name) for name in VendorFields.model_fields}


def _vendors(session: Session, subject_id: int) -> list[tuple[int, str]]:
    event = session.scalar(select(Event).where(Event.subject_id == subject_id))
    if event is None:
        return []
    rows = session.scalars(
        select(Vendor)
        .where(Vendor.event_id == event.id)
        .order_by(Vendor.name, Vendor.id)
        .limit(100)
    )
    return [(v.id, f"{v.code} {v.name}") for v in rows]


def structures() -> list[Structure]:
    return [
        Structure(
            "events.schedule",
            "Event",
            EventSchedule,
            _event,
            subject_kind=EVENT,
            values=_event_values,
        ),
        Structure(
            "events.session",
            "Session",
            SessionFields,
            _session,
            parent_kind=EVENT,
            key_fields=("title", "starts"),
            values=_session_values,
            items=_sessions,
            description="A session of the programme; found again by its title and start.",
        ),
        Structure(
            "events.vendor",
            "Vendor",
            VendorFields,
            _vendor,
            parent_kind=EVENT,
            key_fields=("code",),
            values=_vendor_values,
            items=_vendors,
            description="A vendor at the event; found again by its code.",
        ),
    ]
