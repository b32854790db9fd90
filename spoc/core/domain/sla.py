"""SLA clocks: started at intake, paused while waiting on the requester, met, warned, breached.

Every change to a clock is appended to ``sla_clock_events`` with its reason, so a clock can
explain itself ("Resolution: started Mon 09:12 · paused Tue 10:00, waiting for requester ·
resumed Wed 14:00 · due Thu 16:12"). Deadlines are absolute UTC instants computed on the
policy's business calendar; pausing pushes them back by the business time spent waiting
(kept as ``paused_seconds``: due = calendar.add(started, target + paused)).

The engine is a write observer: it reacts to the timeline events of every service call inside
the same transaction, and keeps ``requests.next_due_at`` (when the sweep must look next) and
``requests.deadline_at`` (the earliest pending deadline, for queues) in step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc.core.domain.models import NO_DEADLINE, Request, SlaClock, SlaClockEvent, TimelineEvent
from spoc.core.domain.writes import WriteContext
from spoc.core.kernel.clocks import ClockEventKind, ClockKind, ClockState
from spoc.core.kernel.durations import BusinessDays, BusinessDuration, BusinessHours
from spoc.core.kernel.errors import StartupError
from spoc.core.kernel.types import ActorKind, Priority, RequestType, SlaPolicy, Status
from spoc.core.platform import hookspecs
from spoc.core.platform.dispatch import Hooks
from spoc.core.platform.registry import Registry
from spoc.core.platform.settings import Settings

SERVICE_LEVELS = (ClockKind.FIRST_RESPONSE, ClockKind.RESOLUTION)
"""The clocks a requester is promised an answer by; an escalation's OLA is the desk's own."""

H = BusinessHours
DEFAULT_POLICY = SlaPolicy(
    first_response={
        Priority.P1: H(minutes=30),
        Priority.P2: H(2),
        Priority.P3: H(4),
        Priority.P4: H(8),
    },
    resolution={Priority.P1: H(4), Priority.P2: H(8), Priority.P3: H(24), Priority.P4: H(40)},
)


class Calendar(Protocol):
    @property
    def day_length(self) -> timedelta: ...
    def add(self, start: datetime, duration: timedelta) -> datetime: ...
    def elapsed(self, start: datetime, end: datetime) -> timedelta: ...


class AlwaysOpen:
    """Open round the clock: business time is real time."""

    day_length = timedelta(days=1)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return start + duration

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, timedelta(0))


def _override_target(value: object) -> BusinessDuration:
    """A target in JSON: ``"PT4H30M"`` (business hours and minutes), ``{"business_hours": 4}``
    or ``{"business_days": 2}``. ``"P2D"`` is refused: is that 2 working days or 48 hours?"""
    if isinstance(value, dict) and len(value) == 1:
        ((unit, amount),) = value.items()
        if unit == "business_days":
            return BusinessDays(amount)
        if unit == "business_hours":
            return BusinessHours(amount)
    if isinstance(value, str) and value.upper().startswith("PT"):
        seconds = TypeAdapter(timedelta).validate_python(value).total_seconds()
        return BusinessHours(minutes=seconds / 60)
    raise ValueError(
        f'{value!r} is not a business duration: write {{"business_days": n}} for n working '
        'days of the calendar, or {"business_hours": n} (or "PT8H") for hours of open time'
    )


OverrideTarget = Annotated[BusinessDuration, PlainValidator(_override_target)]


class PolicyOverride(BaseModel):
    """An admin's override of a request type's SLA (``SPOC_SLA_OVERRIDES``), as JSON."""

    model_config = ConfigDict(extra="forbid")

    first_response: dict[Priority, OverrideTarget] | None = None
    resolution: dict[Priority, OverrideTarget] | None = None
    warn_ratio: float | None = Field(default=None, gt=0, lt=1)
    calendar: str | None = None


def build_calendars(settings: Settings) -> dict[str, Calendar]:
    """The named calendars from settings; ``always_open`` is always there."""
    calendars: dict[str, Calendar] = {"always_open": AlwaysOpen()}
    specs = dict(settings.calendars) or {"default": default_calendar_spec(settings)}
    for name, raw in list(specs.items()):
        if raw.get("always_open") is True and len(raw) == 1:
            calendars[name] = AlwaysOpen()  # a round-the-clock desk needs no calendar rules
            del specs[name]
    if specs:
        # Imported here to keep start-up light: holiday rules load only when a business
        # calendar is configured.
        from spoc.core.kernel.calendar import BusinessCalendar, CalendarSpec

        for name, raw in specs.items():
            try:
                calendars[name] = BusinessCalendar.from_spec(CalendarSpec.model_validate(raw))
            except (ValidationError, ValueError) as exc:
                raise StartupError(f"invalid calendar {name!r} in SPOC_CALENDARS: {exc}") from None
    return calendars


def default_calendar_spec(settings: Settings) -> dict[str, Any]:
    weekday = ["09:00-17:00"]
    return {
        "timezone": settings.timezone,
        "hours": {day: weekday for day in ("mon", "tue", "wed", "thu", "fri")},
    }


class SlaEngine:
    def __init__(
        self,
        settings: Settings,
        calendars: Mapping[str, Calendar],
        types: Registry[RequestType],
        hooks: Hooks,
    ) -> None:
        self.settings = settings
        self.calendars = calendars
        self.types = types
        self.hooks = hooks  # ``spoc_sla_policy`` may choose a request's policy
        self.overrides: dict[str, PolicyOverride] = {}
        for key, raw in settings.sla_overrides.items():
            try:
                self.overrides[key] = PolicyOverride.model_validate(raw)
            except ValidationError as exc:
                raise StartupError(f"invalid SPOC_SLA_OVERRIDES for {key!r}: {exc}") from None
        for name in {self.policy_for(t.key).calendar for t in types}:
            if name not in calendars:
                raise StartupError(f"an SLA policy uses calendar {name!r}, which is not defined")

    # --- policy ------------------------------------------------------------------------

    def policy_for(self, type_key: str) -> SlaPolicy:
        """The SLA policy of a request type: the type's own (or the default), with the deployment's
        overrides applied."""
        request_type = self.types.get(type_key)
        base = request_type.sla if request_type is not None and request_type.sla else DEFAULT_POLICY
        override = self.overrides.get(type_key)
        if override is None:
            return base
        return SlaPolicy(
            first_response={**base.first_response, **(override.first_response or {})},
            resolution={**base.resolution, **(override.resolution or {})},
            warn_ratio=override.warn_ratio or base.warn_ratio,
            calendar=override.calendar or base.calendar,
        )

    def policy_for_request(self, session: Session, request: Request, at: datetime) -> SlaPolicy:
        """The policy for ``request``'s clocks starting at ``at``: the request type's, unless a
        plugin chooses another for this request (``spoc_sla_policy``, e.g. event-day minutes)."""
        policy = self.policy_for(request.type_key)
        answer = self.hooks.first(
            hookspecs.spoc_sla_policy,
            request=request,
            policy=policy,
            at=at,
            session=session,
            spoc=self.hooks.spoc,
        )
        if answer is None:
            return policy
        chosen = answer.value
        if chosen.calendar not in self.calendars:
            raise StartupError(
                f"an SLA policy uses calendar {chosen.calendar!r}, which is not defined"
            )
        return chosen

    def calendar(self, name: str) -> Calendar:
        """The named business calendar (``SPOC_CALENDARS``; ``always_open`` always exists);
        ``KeyError`` for an unknown name."""
        return self.calendars[name]

    def business_time(self, target: BusinessDuration, calendar: str) -> timedelta:
        """``target`` as business time on ``calendar`` (a business day is its day length)."""
        return target.on(self.calendar(calendar).day_length)

    # --- the write observer ------------------------------------------------------------

    def __call__(self, write: WriteContext) -> None:
        session, request, now = write.session, write.request, write.now
        with session.no_autoflush:
            clocks = self._clocks(session, request) if write.clocks is None else write.clocks
            for event in write.events:
                self._apply(write, clocks, event, now)
            self.refresh(request, clocks)

    def _clocks(self, session: Session, request: Request) -> list[SlaClock]:
        # Clocks added earlier in this same write are not in the database yet.
        pending = [o for o in session.new if isinstance(o, SlaClock) and o.request is request]
        if request.id is None:
            return pending
        stored = session.scalars(select(SlaClock).where(SlaClock.request_id == request.id))
        return [*stored, *(c for c in pending if c.id is None)]

    def _apply(
        self, write: WriteContext, clocks: list[SlaClock], event: TimelineEvent, now: datetime
    ) -> None:
        request, data = write.request, event.data
        if event.kind == "created":
            since = write.clocks_from
            start = since or now
            policy = self.policy_for_request(write.session, request, start)
            for kind, targets in (
                (ClockKind.FIRST_RESPONSE, policy.first_response),
                (ClockKind.RESOLUTION, policy.resolution),
            ):
                if request.priority in targets:
                    clocks.append(
                        self._start(
                            write,
                            kind,
                            self.business_time(targets[request.priority], policy.calendar),
                            policy.calendar,
                            policy.warn_ratio,
                            "request filed" if since is None else "running since it arose",
                            start,
                        )
                    )
        elif event.kind == "message":
            answered = event.actor_kind in (ActorKind.AGENT, ActorKind.SYSTEM)
            if answered and data.get("visibility") == "public":
                self._meet(write, clocks, ClockKind.FIRST_RESPONSE, "first public reply", now)
        elif event.kind == "status_changed":
            self._on_status(write, clocks, Status(data["from"]), Status(data["to"]), now)
        elif event.kind == "priority_changed":
            self._retarget(write, clocks, Priority(data["to"]), now)
        elif event.kind == "escalated" and (
            answer_within := write.answer_within.get(int(data["escalation_id"]))
        ):
            policy = self.policy_for(request.type_key)
            clock = self._start(
                write,
                ClockKind.ESCALATION,
                self.business_time(answer_within, policy.calendar),
                policy.calendar,
                policy.warn_ratio,
                f"escalated to level {data['level']}",
            )
            clock.escalation_id = int(data["escalation_id"])
            clocks.append(clock)
        elif event.kind == "handed_back":
            for clock in clocks:
                answered = clock.escalation_id == data.get("escalation_id")
                if clock.kind is ClockKind.ESCALATION and answered:
                    self._end(write, clock, ClockState.MET, "handed back", now)

    def _on_status(
        self, write: WriteContext, clocks: list[SlaClock], old: Status, new: Status, now: datetime
    ) -> None:
        days = timedelta(days=1)
        if new is Status.WAITING:
            for clock in clocks:
                if clock.kind in SERVICE_LEVELS and clock.state is ClockState.RUNNING:
                    self._pause(write, clock, "waiting for the requester", now)
            clocks.append(
                self._start(
                    write,
                    ClockKind.WAITING_REMINDER,
                    self.settings.waiting_reminder_days * days,
                    "always_open",
                    None,
                    "waiting for the requester",
                )
            )
        if old is Status.WAITING:
            for clock in clocks:
                if clock.state == ClockState.PAUSED:
                    self._resume(
                        write,
                        clock,
                        "the requester answered" if new is Status.OPEN else new.value,
                        now,
                    )
                waiting = (ClockKind.WAITING_REMINDER, ClockKind.WAITING_CLOSE)
                if clock.kind in waiting and clock.state is ClockState.RUNNING:
                    self._end(
                        write, clock, ClockState.STOPPED, f"no longer waiting ({new.value})", now
                    )
        if new is Status.RESOLVED:
            self._meet(write, clocks, ClockKind.FIRST_RESPONSE, "resolved", now)
            self._meet(write, clocks, ClockKind.RESOLUTION, "resolved", now)
            clocks.append(
                self._start(
                    write,
                    ClockKind.AUTO_CLOSE,
                    self.settings.auto_close_days * days,
                    "always_open",
                    None,
                    "resolved, waiting for confirmation",
                )
            )
        if old is Status.RESOLVED and new is Status.OPEN:
            for clock in clocks:
                if clock.kind == ClockKind.RESOLUTION and clock.state == ClockState.MET:
                    self._resume(write, clock, "reopened", now, from_met=True)
                if clock.kind == ClockKind.AUTO_CLOSE and clock.state == ClockState.RUNNING:
                    self._end(write, clock, ClockState.STOPPED, "reopened", now)
        if new.is_final:
            for clock in clocks:
                if clock.state.is_pending:
                    self._end(write, clock, ClockState.STOPPED, f"request {new.value}", now)

    # --- clock operations ---------------------------------------------------------------

    def _log(
        self, write: WriteContext, clock: SlaClock, kind: ClockEventKind, reason: str, at: datetime
    ) -> None:
        write.new(
            SlaClockEvent, clock=clock, kind=kind, at=at, reason=reason[:200], due_at=clock.due_at
        )

    def _start(
        self,
        write: WriteContext,
        kind: ClockKind,
        target: timedelta,
        calendar: str,
        warn_ratio: float | None,
        reason: str,
        start: datetime | None = None,
    ) -> SlaClock:
        cal = self.calendar(calendar)
        start = start or write.now
        warn = timedelta(seconds=int(target.total_seconds() * warn_ratio)) if warn_ratio else None
        clock = write.new(
            SlaClock,
            request=write.request,
            kind=kind,
            calendar=calendar,
            target_seconds=int(target.total_seconds()),
            warn_seconds=int(warn.total_seconds()) if warn else None,
            paused_seconds=0,
            state=ClockState.RUNNING,
            started_at=start,
            due_at=cal.add(start, target),
            warn_at=cal.add(start, warn) if warn else None,
        )
        self._log(write, clock, ClockEventKind.STARTED, reason, start)
        return clock

    def _recompute(self, clock: SlaClock) -> None:
        cal = self.calendar(clock.calendar)
        paused = timedelta(seconds=clock.paused_seconds)
        clock.due_at = cal.add(clock.started_at, timedelta(seconds=clock.target_seconds) + paused)
        if clock.warn_seconds is not None:
            clock.warn_at = cal.add(
                clock.started_at, timedelta(seconds=clock.warn_seconds) + paused
            )

    def _pause(self, write: WriteContext, clock: SlaClock, reason: str, now: datetime) -> None:
        clock.state, clock.paused_at = ClockState.PAUSED, now
        self._log(write, clock, ClockEventKind.PAUSED, reason, now)

    def _resume(
        self,
        write: WriteContext,
        clock: SlaClock,
        reason: str,
        now: datetime,
        from_met: bool = False,
    ) -> None:
        since = clock.ended_at if from_met else clock.paused_at
        if since is not None:
            spent = self.calendar(clock.calendar).elapsed(since, now)
            clock.paused_seconds += int(spent.total_seconds())
        clock.state, clock.paused_at, clock.ended_at = ClockState.RUNNING, None, None
        self._recompute(clock)
        self._log(write, clock, ClockEventKind.RESUMED, reason, now)

    def _meet(
        self,
        write: WriteContext,
        clocks: list[SlaClock],
        kind: ClockKind,
        reason: str,
        now: datetime,
    ) -> None:
        for clock in clocks:
            if clock.kind == kind and clock.state.is_pending:
                self._end(write, clock, ClockState.MET, reason, now)

    def _end(
        self,
        write: WriteContext,
        clock: SlaClock,
        state: Literal[ClockState.MET, ClockState.STOPPED],
        reason: str,
        now: datetime,
    ) -> None:
        clock.state, clock.ended_at, clock.paused_at = state, now, None
        self._log(write, clock, ClockEventKind(state.value), reason, now)

    def _retarget(
        self, write: WriteContext, clocks: list[SlaClock], priority: Priority, now: datetime
    ) -> None:
        for clock in clocks:
            if clock.kind not in SERVICE_LEVELS or not clock.state.is_pending:
                continue
            # The policy the clock started under (event-day minutes stay minutes).
            policy = self.policy_for_request(write.session, write.request, clock.started_at)
            targets = {
                ClockKind.FIRST_RESPONSE: policy.first_response,
                ClockKind.RESOLUTION: policy.resolution,
            }.get(clock.kind)
            if targets is None or priority not in targets:
                continue
            target = self.business_time(targets[priority], clock.calendar)
            clock.target_seconds = int(target.total_seconds())
            clock.warn_seconds = int(target.total_seconds() * policy.warn_ratio)
            self._recompute(clock)
            why = f"priority now {priority.value}"
            self._log(write, clock, ClockEventKind.RETARGETED, why, now)

    def start_waiting_close(self, write: WriteContext) -> SlaClock:
        days = timedelta(days=self.settings.waiting_close_days)
        return self._start(
            write, ClockKind.WAITING_CLOSE, days, "always_open", None, "reminder sent"
        )

    # --- what the sweep and the queues look at ------------------------------------------

    @staticmethod
    def refresh(request: Request, clocks: Iterable[SlaClock]) -> None:
        """Set next_due_at (the next warning or deadline still to act on) and deadline_at."""
        wakeups: list[datetime] = []
        deadlines: list[datetime] = []
        for clock in clocks:
            if clock.state != ClockState.RUNNING:
                continue
            if clock.warn_at is not None and clock.warned_at is None:
                wakeups.append(clock.warn_at)
            if clock.breached_at is None:
                wakeups.append(clock.due_at)
            if not clock.kind.is_housekeeping:
                deadlines.append(clock.due_at)
        request.next_due_at = min(wakeups, default=None)
        request.deadline_at = min(deadlines, default=NO_DEADLINE)


EXPLAINED = (
    ClockEventKind.PAUSED,
    ClockEventKind.RESUMED,
    ClockEventKind.STOPPED,
    ClockEventKind.RETARGETED,
)
"""Clock events whose line gives the reason ("paused Tue 10:00, waiting for the requester")."""


def describe(clock: SlaClock, events: Iterable[SlaClockEvent], zone: ZoneInfo) -> str:
    """One readable line: "Resolution: started Mon 09:12 · paused Tue 10:00, waiting … · due …"."""

    def when(instant: datetime) -> str:
        return instant.astimezone(zone).strftime("%a %d %b %H:%M")

    parts = []
    for event in sorted(events, key=lambda e: (e.at, e.id or 0)):
        text = f"{event.kind.value} {when(event.at)}"
        if event.kind in EXPLAINED and event.reason:
            text += f", {event.reason}"
        parts.append(text)
    if clock.state.is_pending:
        status = "on hold" if clock.state is ClockState.PAUSED else f"due {when(clock.due_at)}"
        if clock.breached_at is not None:
            status = f"overdue since {when(clock.due_at)}"
        parts.append(status)
    return f"{clock.kind.label}: " + " · ".join(parts)
