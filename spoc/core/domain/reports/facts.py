"""Report facts: folded from a request's timeline and its clocks' event log.

One function, :func:`fold`, turns what happened to a request into its fact rows. The write
path calls it for the request it just changed (:class:`FactKeeper`, a late write observer,
so the facts commit or roll back with their cause); :func:`rebuild` calls it for every
request, page by page. Both read the same append-only records, so they agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from spoc.core.domain.models import (
    EscalationFact,
    Request,
    RequestFact,
    SlaClock,
    SlaClockEvent,
    TimelineEvent,
)
from spoc.core.domain.reports.dirty import mark_dirty
from spoc.core.domain.writes import WriteContext
from spoc.core.kernel.clocks import ClockEventKind, ClockKind, ClockState
from spoc.core.kernel.types import ActorKind, RequestType, Status
from spoc.core.platform.registry import Registry
from spoc.core.storage.bulk import among
from spoc.core.storage.db import Database

OPEN = frozenset({Status.NEW.value, Status.OPEN.value, Status.WAITING.value})
CHANNELS = ("portal", "email", "api", "proactive", "phone", "walk-in", "console")
"""Where requests come from: ``proactive`` is the system opening one itself; ``console`` an
agent filing one some other way (a plugin acting as a person)."""


MEASURED = (ClockKind.FIRST_RESPONSE, ClockKind.RESOLUTION, ClockKind.ESCALATION)


class Calendar(Protocol):
    def elapsed(self, start: datetime, end: datetime) -> timedelta: ...


@dataclass
class ClockFigures:
    """A clock's business seconds run (pauses and the time between a resolution and its
    reopening excluded), its target, and how it stands."""

    seconds: int
    target: int
    met: bool
    breached: bool


def clock_figures(
    clock: SlaClock, events: Iterable[SlaClockEvent], calendar: Calendar
) -> ClockFigures:
    """Replay a clock's log: business time counts only while it runs."""
    total = timedelta(0)
    running: datetime | None = None
    breached = clock.breached_at is not None
    for event in sorted(events, key=lambda e: (e.at, e.id or 0)):
        kind = event.kind
        if kind in (ClockEventKind.STARTED, ClockEventKind.RESUMED):
            running = running or event.at
        elif kind in (ClockEventKind.PAUSED, ClockEventKind.MET, ClockEventKind.STOPPED):
            if running is not None:
                total += calendar.elapsed(running, event.at)
            running = None
        elif kind is ClockEventKind.BREACHED:
            breached = True
    return ClockFigures(
        int(total.total_seconds()), clock.target_seconds, clock.state is ClockState.MET, breached
    )


@dataclass
class Sources:
    """What one request's facts are folded from."""

    type_key: str = ""
    # The request row's status and priority: the fallback for a timeline whose data was
    # erased (anonymise-and-retain keeps the events, not what they said).
    status: str = Status.NEW.value
    priority: str = "P3"
    events: list[TimelineEvent] = field(default_factory=list)
    clocks: list[SlaClock] = field(default_factory=list)
    clock_events: dict[int, list[SlaClockEvent]] = field(default_factory=dict)


def channel_of(created: TimelineEvent) -> str:
    data = created.data
    if data.get("channel") in CHANNELS:
        return str(data["channel"])
    if data.get("via") in CHANNELS:
        return str(data["via"])
    if created.actor_kind is ActorKind.SYSTEM:
        return "proactive"
    if created.actor_kind is ActorKind.REQUESTER:
        return "portal"
    return "console"


class FactFolder:
    """Folds sources into fact rows; knows the organisation's zone, the calendars and which
    request types are private."""

    def __init__(
        self,
        zone: ZoneInfo,
        calendar: Callable[[str], Calendar],
        types: Registry[RequestType],
    ) -> None:
        self.zone = zone
        self.calendar = calendar
        self.types = types

    def day(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def private(self, type_key: str) -> bool:
        request_type = self.types.get(type_key)
        # A type whose plugin is disabled is treated as private: nothing known says otherwise.
        return request_type is None or request_type.private

    def fold(
        self, request_id: int, sources: Sources
    ) -> tuple[RequestFact, list[EscalationFact]] | None:
        """The facts of one request, or ``None`` for a timeline without its ``created``."""
        events = sorted(sources.events, key=lambda e: e.seq)
        if not events or events[0].kind != "created":
            return None
        created = events[0]
        data = created.data
        fact: dict[str, Any] = {
            "request_id": request_id,
            "channel": channel_of(created),
            "status": data.get("status", sources.status),
            "priority": data.get("priority", sources.priority),
            "owner_agent_id": data.get("owner_agent_id"),
            "owner_team_id": data.get("owner_team_id"),
            "subject_id": data.get("subject_id"),
            "created_at": created.at,
        }
        resolved_at: datetime | None = None
        ever_resolved = False
        counts = {"escalations": 0, "max_level": 0, "reopens": 0, "staff_replies": 0}
        rating: tuple[int, datetime] | None = None
        opened: dict[int, dict[str, Any]] = {}
        erased = "status" not in data
        for event in events[1:]:
            kind, data = event.kind, event.data
            if kind == "status_changed" and "to" in data:
                old, new = data.get("from"), data["to"]
                fact["status"] = new
                if old == Status.RESOLVED.value and new == Status.OPEN.value:
                    counts["reopens"] += 1
                if new == Status.RESOLVED.value:
                    resolved_at, ever_resolved = event.at, True
                elif new == Status.CLOSED.value:
                    # Closed after its resolution keeps that instant; closed without one
                    # (no reply from the requester) is done all the same, now.
                    resolved_at = resolved_at if old == Status.RESOLVED.value else event.at
            elif kind == "assigned" and not data.get("cover"):
                # Cover by a deputy leaves the accountable owner where it was.
                fact["owner_agent_id"] = data.get("to_agent_id")
                fact["owner_team_id"] = data.get("to_team_id")
            elif kind == "priority_changed" and "to" in data:
                fact["priority"] = data["to"]
            elif kind == "subject_linked" and "subject_id" in data:
                fact["subject_id"] = data["subject_id"]
            elif kind == "escalated" and "escalation_id" in data:
                counts["escalations"] += 1
                counts["max_level"] = max(counts["max_level"], int(data["level"]))
                opened[int(data["escalation_id"])] = {
                    "level": int(data["level"]),
                    "team_id": data.get("to_team_id"),
                    "trigger": str(data.get("trigger", ""))[:100],
                    "opened_at": event.at,
                }
            elif kind == "handed_back" and data.get("escalation_id") in opened:
                opened[int(data["escalation_id"])]["handed_back_at"] = event.at
            elif kind == "message" and data.get("visibility") == "public":
                if event.actor_kind in (ActorKind.AGENT, ActorKind.SYSTEM):
                    counts["staff_replies"] += 1
            elif kind == "feedback" and "rating" in data:
                rating = (int(data["rating"]), event.at)
        type_key = sources.type_key
        if erased:
            fact["status"], fact["priority"] = sources.status, sources.priority
        figures = self._clocks(sources)
        first = figures.get((ClockKind.FIRST_RESPONSE, None))
        resolution = figures.get((ClockKind.RESOLUTION, None))
        escalation_facts = []
        specialist: int | None = None
        for escalation_id, row in sorted(opened.items()):
            ola = figures.get((ClockKind.ESCALATION, escalation_id))
            handed_back = row.get("handed_back_at")
            seconds = ola.seconds if ola is not None and handed_back is not None else None
            if seconds is not None:
                specialist = (specialist or 0) + seconds
            escalation_facts.append(
                EscalationFact(
                    escalation_id=escalation_id,
                    request_id=request_id,
                    level=row["level"],
                    team_id=row["team_id"],
                    trigger=row["trigger"],
                    opened_at=row["opened_at"],
                    opened_day=self.day(row["opened_at"]),
                    handed_back_at=handed_back,
                    open_seconds=seconds,
                    ola_target=ola.target if ola is not None else None,
                    ola_breached=bool(ola and ola.breached),
                )
            )
        done = fact["status"] in (Status.RESOLVED.value, Status.CLOSED.value)
        resolved_at = resolved_at if done else None
        request_fact = RequestFact(
            **fact,
            type_key=type_key,
            plugin=type_key.partition(".")[0],
            private=self.private(type_key),
            is_open=fact["status"] in OPEN,
            created_day=self.day(created.at),
            resolved_at=resolved_at,
            resolved_day=self.day(resolved_at) if resolved_at else None,
            ever_resolved=ever_resolved,
            first_response_seconds=first.seconds if first and first.met else None,
            first_response_target=first.target if first else None,
            first_response_breached=bool(first and first.breached),
            resolution_seconds=resolution.seconds if resolution and resolution.met else None,
            resolution_target=resolution.target if resolution else None,
            resolution_breached=bool(resolution and resolution.breached),
            specialist_seconds=specialist,
            first_contact=ever_resolved
            and counts["reopens"] == 0
            and counts["escalations"] == 0
            and counts["staff_replies"] <= 1,
            rating=rating[0] if rating else None,
            rated_day=self.day(rating[1]) if rating else None,
            **counts,
        )
        return request_fact, escalation_facts

    def _clocks(self, sources: Sources) -> dict[tuple[ClockKind, int | None], ClockFigures]:
        found: dict[tuple[ClockKind, int | None], ClockFigures] = {}
        for clock in sorted(sources.clocks, key=lambda c: c.id or 0):
            if clock.kind not in (
                ClockKind.FIRST_RESPONSE,
                ClockKind.RESOLUTION,
                ClockKind.ESCALATION,
            ):
                continue
            key = (clock.kind, clock.escalation_id if clock.kind is ClockKind.ESCALATION else None)
            found[key] = clock_figures(
                clock, sources.clock_events.get(clock.id, []), self.calendar(clock.calendar)
            )
        return found


def load_sources(session: Session, request_ids: Sequence[int]) -> dict[int, Sources]:
    """The type (which never changes), timeline events, clocks and clock events of
    ``request_ids``, in four queries."""
    found: dict[int, Sources] = defaultdict(Sources)
    if not request_ids:
        return found
    for request_id, type_key, status, priority in session.execute(
        select(Request.id, Request.type_key, Request.status, Request.priority).where(
            among(session, Request.id, request_ids)
        )
    ):
        found[request_id].type_key = type_key
        found[request_id].status, found[request_id].priority = status.value, priority.value
    for event in session.scalars(
        select(TimelineEvent)
        .where(among(session, TimelineEvent.request_id, request_ids))
        .order_by(TimelineEvent.request_id, TimelineEvent.seq)
    ):
        found[event.request_id].events.append(event)
    clocks = list(
        session.scalars(select(SlaClock).where(among(session, SlaClock.request_id, request_ids)))
    )
    by_id = {clock.id: clock for clock in clocks}
    for clock in clocks:
        found[clock.request_id].clocks.append(clock)
    if by_id:
        for clock_event in session.scalars(
            select(SlaClockEvent)
            .where(among(session, SlaClockEvent.clock_id, list(by_id)))
            .order_by(SlaClockEvent.id)
        ):
            owner = found[by_id[clock_event.clock_id].request_id]
            owner.clock_events.setdefault(clock_event.clock_id, []).append(clock_event)
    return found


def fact_days(request_fact: RequestFact | None, escalations: Iterable[EscalationFact]) -> set[date]:
    """The days a request's facts count in: filed, resolved, rated, each escalation opened."""
    days: set[date | None] = {e.opened_day for e in escalations}
    if request_fact is not None:
        days |= {request_fact.created_day, request_fact.resolved_day, request_fact.rated_day}
    return {d for d in days if d is not None}


def stored_days(session: Session, request_ids: Sequence[int]) -> set[date]:
    """The days the stored facts of these requests count in (before they are replaced)."""
    days: set[date] = set()
    for row in session.execute(
        select(RequestFact.created_day, RequestFact.resolved_day, RequestFact.rated_day).where(
            among(session, RequestFact.request_id, request_ids)
        )
    ):
        days.update(d for d in row if d is not None)
    days.update(
        session.scalars(
            select(EscalationFact.opened_day).where(
                among(session, EscalationFact.request_id, request_ids)
            )
        )
    )
    return days


def store(session: Session, folder: FactFolder, sources: Mapping[int, Sources]) -> int:
    """Replace the facts of these requests with freshly folded ones; how many were written.
    The days of the facts replaced and written are logged for the roll-ups."""
    ids = list(sources)
    if not ids:
        return 0
    days = stored_days(session, ids)
    session.execute(delete(EscalationFact).where(EscalationFact.request_id.in_(ids)))
    session.execute(delete(RequestFact).where(RequestFact.request_id.in_(ids)))
    written = 0
    for request_id in ids:
        folded = folder.fold(request_id, sources[request_id])
        if folded is None:
            continue
        request_fact, escalation_facts = folded
        session.add(request_fact)
        session.add_all(escalation_facts)
        days |= fact_days(request_fact, escalation_facts)
        written += 1
    mark_dirty(session, days)
    return written


class FactKeeper:
    """The late write observer: the request just written gets its facts re-folded, in the
    same transaction (after the flush, so its new events and clock rows are readable)."""

    def __init__(self, folder: FactFolder) -> None:
        self.folder = folder

    def fold_with(
        self, write: WriteContext, before: Sources, clock_events: Sequence[SlaClockEvent]
    ) -> tuple[RequestFact, list[EscalationFact]] | None:
        """The facts after ``write`` without reading them back: ``before`` is what the
        request's sources were when the write began (its clocks being ``write.clocks``, with
        the write's own), ``clock_events`` what the write added to them — as the sweep's batch
        writes its rows only after folding."""
        events = dict(before.clock_events)
        for clock_event in clock_events:
            clock_id = clock_event.clock_id or clock_event.clock.id
            events[clock_id] = [*events.get(clock_id, []), clock_event]
        sources = Sources(
            before.type_key,
            before.status,
            before.priority,
            [*before.events, *write.events],
            list(write.clocks if write.clocks is not None else before.clocks),
            events,
        )
        return self.folder.fold(write.request.id, sources)

    def __call__(self, write: WriteContext) -> None:
        session, request_id = write.session, write.request.id
        existing = session.get(RequestFact, request_id)
        folded = self.folder.fold(request_id, load_sources(session, [request_id])[request_id])
        if folded is None:
            return
        request_fact, escalation_facts = folded
        stored = {
            e.escalation_id: e
            for e in session.scalars(
                select(EscalationFact).where(EscalationFact.request_id == request_id)
            )
        }
        # The days counted before and after, logged for the roll-ups (the worker rebuilds them).
        mark_dirty(
            session,
            fact_days(existing, stored.values()) | fact_days(request_fact, escalation_facts),
        )
        if existing is None:
            session.add(request_fact)
        else:
            for column in RequestFact.__table__.columns.keys():  # noqa: SIM118 - column names, not columns
                setattr(existing, column, getattr(request_fact, column))
        for fresh in escalation_facts:
            if (old := stored.get(fresh.escalation_id)) is None:
                session.add(fresh)
            else:
                for column in EscalationFact.__table__.columns.keys():  # noqa: SIM118 - column names, not columns
                    setattr(old, column, getattr(fresh, column))


def rebuild(db: Database, folder: FactFolder, *, batch: int = 500) -> int:
    """Recompute every request's facts from its timeline and clock log, ``batch`` requests a
    transaction (keyset by id, so memory stays flat at any size); how many were written."""
    last, written = 0, 0
    while True:
        with db.transaction() as session:
            ids = list(
                session.scalars(
                    select(Request.id).where(Request.id > last).order_by(Request.id).limit(batch)
                )
            )
            if not ids:
                return written
            written += store(session, folder, load_sources(session, ids))
            last = ids[-1]
