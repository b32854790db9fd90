"""Events and their sessions: created and changed by staff; read by every other module.

Staff give local wall-clock times; they are stored as UTC instants with the event's IANA
time zone, which decides when the event's day starts and how times are shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from spoc import (
    Actor,
    ActorKind,
    NotFoundError,
    Ordering,
    PermissionDenied,
    Role,
    Spoc,
    ValidationFailed,
)
from spoc.plugins.events.models import Event, EventSession
from spoc.plugins.events.settings import EventsSettings

EVENT = "events.event"
PAGE = 50
T = TypeVar("T")


def get_or_404(session: Session, model: type[T], row_id: int | None, what: str) -> T:
    """The row with ``row_id``, or :class:`NotFoundError` naming ``what`` was not found."""
    row = session.get(model, row_id) if row_id is not None else None
    if row is None:
        raise NotFoundError(f"no {what} {row_id}")
    return row


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            "unknown time zone", {"timezone": f"not an IANA zone: {name}"}
        ) from None


def instant(local: datetime, tz: ZoneInfo) -> datetime:
    """A wall-clock time at the venue (naive) or an aware time, as a UTC instant."""
    aware = local if local.tzinfo is not None else local.replace(tzinfo=tz)
    return aware.astimezone(UTC)


def local(value: datetime, event: Event) -> datetime:
    return value.astimezone(ZoneInfo(event.timezone))


def is_under_way(event: Event, at: datetime) -> bool:
    """Event-day mode: between the event's start and end (instants fixed in its own zone)."""
    return event.starts_at <= at < event.ends_at


@dataclass(frozen=True)
class EventPlan:
    code: str
    name: str
    venue: str
    timezone: str
    starts: datetime
    ends: datetime
    capacity: int
    load_in_starts: datetime | None = None
    load_in_ends: datetime | None = None
    manager_id: int | None = None
    deputies: tuple[int, ...] = ()
    safety_lead_id: int | None = None


def require_planner(actor: Actor) -> None:
    if actor.kind is ActorKind.AGENT and actor.role not in (Role.ADMIN, Role.AGENT):
        raise PermissionDenied("only agents and administrators plan events")
    if actor.kind is ActorKind.REQUESTER:
        raise PermissionDenied("only staff plan events")


def create_event(spoc: Spoc, settings: EventsSettings, actor: Actor, plan: EventPlan) -> Event:
    require_planner(actor)
    tz = zone(plan.timezone)
    starts, ends = instant(plan.starts, tz), instant(plan.ends, tz)
    problems = {}
    if ends <= starts:
        problems["ends"] = "must be after the start"
    if plan.capacity < 1:
        problems["capacity"] = "at least 1"
    load_in = instant(plan.load_in_starts, tz) if plan.load_in_starts else None
    load_out = instant(plan.load_in_ends, tz) if plan.load_in_ends else None
    if load_in and load_out and load_out <= load_in:
        problems["load_in_ends"] = "must be after the load-in starts"
    if problems:
        raise ValidationFailed("the event is invalid", problems)
    subject = spoc.directory.add_subject(
        kind=EVENT,
        name=plan.name,
        spoc_agent_id=plan.manager_id,
        deputies=list(plan.deputies),
        external_ref=plan.code,
        attributes={"venue": plan.venue, "timezone": plan.timezone},
    )
    now = spoc.clock.now()
    with spoc.db.transaction() as session:
        event = Event(
            subject_id=subject.id,
            code=plan.code,
            name=plan.name,
            venue=plan.venue,
            timezone=plan.timezone,
            starts_at=starts,
            ends_at=ends,
            capacity=plan.capacity,
            load_in_starts_at=load_in,
            load_in_ends_at=load_out,
            safety_lead_id=plan.safety_lead_id,
            sequence=0,
            updated_at=now,
            erase_after=ends + timedelta(days=settings.retention_days),
        )
        session.add(event)
    return event


def event_by_code(session: Session, code: str) -> Event:
    event = session.scalar(select(Event).where(Event.code == code))
    if event is None:
        raise NotFoundError(f"no event {code}")
    return event


def event_of_subject(session: Session, subject_id: int | None) -> Event | None:
    if subject_id is None:
        return None
    return session.scalar(select(Event).where(Event.subject_id == subject_id))


def add_session(
    spoc: Spoc,
    event_id: int,
    *,
    title: str,
    room: str,
    starts: datetime,
    ends: datetime,
    speaker: str = "",
) -> EventSession:
    with spoc.db.transaction() as session:
        event = get_or_404(session, Event, event_id, "event")
        tz = ZoneInfo(event.timezone)
        start, end = instant(starts, tz), instant(ends, tz)
        if end <= start:
            raise ValidationFailed("the session is invalid", {"ends": "must be after the start"})
        row = EventSession(
            event_id=event.id,
            title=title.strip()[:200],
            room=room.strip()[:120],
            speaker=speaker.strip()[:200],
            starts_at=start,
            ends_at=end,
            status="scheduled",
            sequence=0,
            updated_at=spoc.clock.now(),
        )
        session.add(row)
    return row


def move_session(spoc: Spoc, session_id: int, *, starts: datetime, ends: datetime) -> EventSession:
    """A moved session keeps its calendar UID; its SEQUENCE goes up."""
    with spoc.db.transaction() as session:
        row = get_or_404(session, EventSession, session_id, "session")
        if row.status == "cancelled":
            raise ValidationFailed("cancelled", {"session": "a cancelled session cannot move"})
        event = session.get(Event, row.event_id)
        assert event is not None
        tz = ZoneInfo(event.timezone)
        row.starts_at, row.ends_at = instant(starts, tz), instant(ends, tz)
        row.sequence += 1
        row.updated_at = spoc.clock.now()
    return row


def cancel_session(spoc: Spoc, session_id: int) -> EventSession:
    with spoc.db.transaction() as session:
        row = get_or_404(session, EventSession, session_id, "session")
        if row.status != "cancelled":
            row.status = "cancelled"
            row.sequence += 1
            row.updated_at = spoc.clock.now()
    return row


SESSIONS = Ordering("events:sessions", EventSession.starts_at, EventSession.id)
"""The programme in time order: ``ix_events_sessions_event`` (event_id, starts_at, id)."""
EVENTS = Ordering("events:events", Event.starts_at.desc(), Event.id)
"""Events, latest first: ``ix_events_events_listing`` (starts_at desc, id)."""


def programme(event_id: int) -> Select[EventSession]:
    """An event's sessions, to page in :data:`SESSIONS` (``spoc.pager``)."""
    return select(EventSession).where(EventSession.event_id == event_id)


def sessions_of(session: Session, event_id: int, *, limit: int = PAGE) -> list[EventSession]:
    """The first ``limit`` sessions of the programme, in time order (a calendar, a page's
    structured data)."""
    query = programme(event_id).order_by(EventSession.starts_at, EventSession.id)
    return list(session.scalars(query.limit(limit)))
