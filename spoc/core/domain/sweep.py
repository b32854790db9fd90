"""The sweep: act on clocks that are due — warn, breach, escalate, close — exactly once.

One pass reads the ids of requests whose indexed ``next_due_at`` has come (oldest first, in
batches), then handles them ``WRITE_BATCH`` at a time in one transaction that claims their rows
in one statement: on PostgreSQL with ``FOR UPDATE SKIP LOCKED`` so several workers on several
machines share the work without waiting on each other, on SQLite under its single write lock.
Warnings, breaches and escalations are decided per request and written set-based
(:mod:`~spoc.core.domain.clock_batch`); a request whose handling fails is left out and retried
alone afterwards, and the rest of the batch commits. Inside the lock the request is
re-checked, so a request another worker already handled is left alone; warnings and breaches
are unique per clock, automatic triggers unique per request. The cost of a pass follows the
number of due requests, not the number of open ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from spoc.core.domain.clock_batch import ClockBatch
from spoc.core.domain.cover import CoverService
from spoc.core.domain.escalation import MAX_LEVEL, EscalationService
from spoc.core.domain.models import Request, SlaClock, SlaClockEvent, Visibility
from spoc.core.domain.requests import RequestService
from spoc.core.domain.sla import SlaEngine
from spoc.core.domain.watches import fire_due_watches
from spoc.core.domain.writes import SWEEPER, RowLocked, WriteContext
from spoc.core.kernel.clock import Clock
from spoc.core.kernel.clocks import ClockEventKind, ClockKind, ClockState
from spoc.core.kernel.types import EscalationCheck, RequestType, Status
from spoc.core.platform import hookspecs
from spoc.core.platform.dispatch import Hooks
from spoc.core.platform.registry import Registry
from spoc.core.platform.settings import Settings
from spoc.core.storage.db import Database

log = logging.getLogger(__name__)

WRITE_BATCH = 200
"""Due requests handled in one transaction: one claim, one commit (row locks held that long)."""


@dataclass
class SweepReport:
    due: int = 0
    warned: int = 0
    breached: int = 0
    escalated: int = 0
    closed: int = 0
    reminded: int = 0
    skipped: int = 0
    plugin_triggers: int = 0
    plugin_tasks: int = 0
    watches: int = 0
    covered: int = 0  # requests given a cover as their owner's absence began
    returned: int = 0  # requests given back as it ended
    errors: list[str] = field(default_factory=list)

    def add(self, other: SweepReport) -> None:
        """Count ``other``'s clock work (one request's) into this report."""
        for name in ("warned", "breached", "escalated", "closed", "reminded", "skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)

    def __str__(self) -> str:
        return (
            f"due {self.due}, warned {self.warned}, breached {self.breached}, "
            f"escalated {self.escalated}, closed {self.closed}, reminded {self.reminded}, "
            f"skipped (held by another worker) {self.skipped}, "
            f"plugin triggers {self.plugin_triggers}, plugin tasks {self.plugin_tasks}, "
            f"covered {self.covered}, returned {self.returned}"
        )


class Sweeper:
    """One pass over what is due: SLA clocks, plugins' periodic tasks and escalation checks."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        hooks: Hooks,
        requests: RequestService,
        escalations: EscalationService,
        sla: SlaEngine,
        request_types: Registry[RequestType],
        cover: CoverService,
        *,
        set_based: bool = True,
    ) -> None:
        self.cover = cover
        # False: every due request through the one-request write path (the bench's baseline).
        self.set_based = set_based
        self.batch = ClockBatch(db, requests)
        self.db = db
        self.settings = settings
        self.clock = clock
        self.hooks = hooks
        self.requests = requests
        self.escalations = escalations
        self.sla = sla
        self.request_types = request_types

    def run_once(self, limit: int | None = None) -> SweepReport:
        report = SweepReport()
        now = self.clock.now()
        batch = limit or self.settings.sweep_batch
        # Absences first: a request whose owner went away today is answered by their cover.
        covered = self.cover.run(limit=max(batch, 10_000))
        report.covered, report.returned = covered.covered, covered.returned
        self._plugin_tasks(now, batch, report)
        with self.db.reader() as session:
            due = list(
                session.scalars(
                    select(Request.id)
                    .where(Request.next_due_at <= now)
                    .order_by(Request.next_due_at)
                    .limit(batch)
                )
            )
        report.due = len(due)
        for start in range(0, len(due), WRITE_BATCH):
            self.handle_due(due[start : start + WRITE_BATCH], now, report)
        self._watches(now, batch, report)
        self._plugin_checks(now, batch, report)
        return report

    def _watches(self, now: datetime, batch: int, report: SweepReport) -> None:
        done = fire_due_watches(self.db, self.hooks, self.requests, self.escalations, now, batch)
        report.watches += done.fired
        report.plugin_triggers += done.escalated
        report.skipped += done.skipped
        report.errors.extend(done.errors)

    def _plugin_checks(self, now: datetime, batch: int, report: SweepReport) -> None:
        """Each plugin's checks, and each check, fail alone: one broken check (a plugin bug,
        a request deleted meanwhile) is logged and reported, and the rest still escalate."""
        answers, failures = self.hooks.each_isolated(
            hookspecs.spoc_escalation_checks, spoc=self.hooks.spoc, now=now, limit=batch
        )
        report.errors.extend(str(failure) for failure in failures)
        for plugin, checks in answers:
            for check in checks:
                try:
                    self._plugin_trigger(plugin, check, report)
                except Exception as exc:
                    log.exception("plugin %r: check for request %s failed", plugin, check)
                    report.errors.append(
                        f"{plugin}: request {check.request_id}: {type(exc).__name__}: {exc}"
                    )

    # --- clocks ------------------------------------------------------------------------

    def handle_due(self, ids: list[int], now: datetime, report: SweepReport) -> None:
        """Up to WRITE_BATCH due requests in one transaction, set-based (see
        :mod:`~spoc.core.domain.clock_batch`). Those with a housekeeping clock due go through
        the one-request path together (``change_each``); each request whose handling fails
        is retried alone, in its own transaction, and if it fails again it is reported and
        stays due for the next pass — the others are not held back."""
        if not self.set_based:
            self._one_by_one(ids, now, report)
            return
        try:
            outcome = self.batch.run(ids, now, lambda write: self._counted(write, now))
        except Exception as exc:  # a statement of the batch failed: each request on its own
            log.warning("sweep: the batch of %s failed (%r); one request at a time", ids[0], exc)
            self._one_by_one(ids, now, report)
            return
        for _, counted in outcome.done:
            report.add(counted)
        report.skipped += len(outcome.skipped)
        if outcome.alone:
            self._one_by_one(outcome.alone, now, report)
        for request_id, first in outcome.failed.items():
            self._alone(request_id, first, now, report)

    def _counted(self, write: WriteContext, now: datetime) -> SweepReport:
        mine = SweepReport()
        self._handle(write, now, mine)
        return mine

    def _one_by_one(self, ids: list[int], now: datetime, report: SweepReport) -> None:
        """The one-request path for a batch: each request through the ORM write path and its
        observers, in its own savepoint of one transaction."""
        counts: dict[int, SweepReport] = {}

        def handle(write: WriteContext) -> None:
            counts[write.request.id] = self._counted(write, now)

        outcome = self.requests.change_each(ids, SWEEPER, handle)
        for write in outcome.done:
            report.add(counts[write.request.id])
        report.skipped += len(outcome.skipped)
        for request_id, first in outcome.failed.items():
            self._alone(request_id, first, now, report)

    def _alone(self, request_id: int, first: Exception, now: datetime, report: SweepReport) -> None:
        log.warning("sweep: request %s failed in its batch (%r); retrying alone", request_id, first)
        alone = SweepReport()
        try:
            with self.requests.changing(request_id, SWEEPER, None, skip_locked=True) as write:
                self._handle(write, now, alone)
        except RowLocked:
            report.skipped += 1
        except Exception as exc:
            log.exception("sweep: request %s failed", request_id)
            report.errors.append(f"request {request_id}: {type(exc).__name__}: {exc}")
        else:
            report.add(alone)

    def _handle(self, write: WriteContext, now: datetime, report: SweepReport) -> None:
        request = write.request
        if request.next_due_at is None or request.next_due_at > now:
            return  # another worker got here first
        if write.clocks is not None:  # read with the batch
            clocks = [c for c in write.clocks if c.state is ClockState.RUNNING]
        else:
            clocks = list(
                write.session.scalars(
                    select(SlaClock).where(
                        SlaClock.request_id == request.id, SlaClock.state == ClockState.RUNNING
                    )
                )
            )
        engine = self.sla
        for clock in clocks:
            label = clock.kind.label
            if clock.warn_at is not None and clock.warned_at is None and clock.warn_at <= now:
                clock.warned_at = now
                write.new(
                    SlaClockEvent,
                    clock=clock,
                    kind=ClockEventKind.WARNED,
                    at=now,
                    due_at=clock.due_at,
                )
                write.record(
                    "clock",
                    f"{label} due {self._when(clock.due_at)}: warning",
                    {
                        "clock": clock.kind.value,
                        "event": ClockEventKind.WARNED.value,
                        "due_at": clock.due_at.isoformat(),
                    },
                    visibility=Visibility.INTERNAL,
                )
                report.warned += 1
            if clock.breached_at is None and clock.due_at <= now:
                clock.breached_at = now
                write.new(
                    SlaClockEvent,
                    clock=clock,
                    kind=ClockEventKind.BREACHED,
                    at=now,
                    due_at=clock.due_at,
                )
                self._breached(write, clock, report)
        # The observer recomputes next_due_at; also when nothing else was recorded.
        if not write.events:
            engine.refresh(request, clocks)

    def _breached(self, write: WriteContext, clock: SlaClock, report: SweepReport) -> None:
        settings, requests = self.settings, self.requests
        if clock.kind in (ClockKind.FIRST_RESPONSE, ClockKind.RESOLUTION, ClockKind.ESCALATION):
            report.breached += 1
            write.record(
                "clock",
                f"{clock.kind.label} overdue since {self._when(clock.due_at)}",
                {
                    "clock": clock.kind.value,
                    "event": ClockEventKind.BREACHED.value,
                    "due_at": clock.due_at.isoformat(),
                },
                visibility=Visibility.INTERNAL,
            )
        if clock.kind == ClockKind.RESOLUTION:
            request_type = self.request_types.get(write.request.type_key)
            team = (
                request_type.specialist_team if request_type else None
            ) or settings.sla_specialist_team
            level_teams = {1: team, 2: settings.sla_authority_team}
            target = level_teams.get(write.request.escalation_level + 1)
            if target:
                self._escalate(
                    write, target, "resolution target breached", "sla:resolution", report
                )
        elif clock.kind == ClockKind.ESCALATION:
            trigger = f"sla:ola:{clock.escalation_id}"
            if write.request.escalation_level < MAX_LEVEL:
                self._escalate(
                    write,
                    settings.sla_authority_team,
                    "the escalation was not answered in time",
                    trigger,
                    report,
                )
        elif clock.kind in (ClockKind.AUTO_CLOSE, ClockKind.WAITING_CLOSE) and (
            held := requests.kept_open(write.session, write.request)
        ):
            self._end(write, clock)
            write.record(
                "clock",
                f"Not closed automatically: {held}",
                {"clock": clock.kind.value, "event": "kept_open"},
                visibility=Visibility.INTERNAL,
            )
        elif clock.kind == ClockKind.AUTO_CLOSE:
            self._end(write, clock)
            requests.set_status(
                write,
                Status.CLOSED,
                f"closed automatically {settings.auto_close_days} days after resolution",
            )
            report.closed += 1
        elif clock.kind == ClockKind.WAITING_REMINDER:
            self._end(write, clock)
            write.record(
                "reminder",
                "We are still waiting for your reply",
                {"days_waiting": settings.waiting_reminder_days},
            )
            self.sla.start_waiting_close(write)
            report.reminded += 1
        elif clock.kind == ClockKind.WAITING_CLOSE:
            self._end(write, clock)
            requests.set_status(write, Status.CLOSED, "closed: no reply from the requester")
            report.closed += 1

    def _end(self, write: WriteContext, clock: SlaClock) -> None:
        clock.state, clock.ended_at = ClockState.MET, write.now
        write.new(
            SlaClockEvent,
            clock=clock,
            kind=ClockEventKind.MET,
            at=write.now,
            reason="done by the sweep",
        )

    def _escalate(
        self, write: WriteContext, team_key: str, reason: str, trigger: str, report: SweepReport
    ) -> bool:
        if self.escalations.escalate_once(write, team_key, reason, trigger) is None:
            return False
        report.escalated += 1
        return True

    def _when(self, instant: datetime) -> str:
        return instant.astimezone(self.settings.tz).strftime("%a %d %b %H:%M")

    # --- plugin triggers -----------------------------------------------------------------

    def _plugin_tasks(self, now: datetime, batch: int, report: SweepReport) -> None:
        """Plugins' own periodic work (open a request for a shipment that went quiet). One
        failing plugin is logged and reported; the pass goes on."""
        answers, failures = self.hooks.each_isolated(
            hookspecs.spoc_sweep_tasks, spoc=self.hooks.spoc, now=now, limit=batch
        )
        report.errors.extend(str(failure) for failure in failures)
        report.plugin_tasks += sum(done for _, done in answers)

    def _plugin_trigger(self, plugin: str, check: EscalationCheck, report: SweepReport) -> None:
        trigger = f"plugin:{plugin}:{check.cause}"
        try:
            with self.requests.changing(check.request_id, SWEEPER, None, skip_locked=True) as write:
                if check.settle is not None:
                    check.settle(write.session)
                if self._escalate(write, check.team_key, check.reason, trigger, report):
                    report.plugin_triggers += 1
        except RowLocked:
            report.skipped += 1
