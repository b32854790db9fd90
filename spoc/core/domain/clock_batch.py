"""The sweep's clock work for a batch of due requests, written set-based.

Warnings, breaches and the escalations they cause are decided by the very code that handles
one request (the sweeper's clock rules, ``escalate_once``, the SLA engine, the notifier, the
report facts' fold), run on a :class:`BatchWrite`: a write that collects the rows it adds,
with their ids reserved up front, instead of handing each to the ORM. Per batch, in one
transaction:

* the rows are claimed in one statement (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, under
  SQLite's write lock) and re-checked: a request another worker handled is no longer due;
* the requests' timelines, clocks, clock logs and fired triggers, and the audiences of their
  notices, are read in a few queries for the whole batch;
* each request is decided in Python; one whose handling raises is left out of the batch and
  handed back to be retried alone on the one-request path;
* the rows are written with one INSERT (``COPY`` on PostgreSQL) per table, the requests with
  one UPDATE, the clocks with one UPDATE per changed column; after commit each event is
  announced to plugins, as the one-request path does.

A request whose due clock is a housekeeping one (auto-close, reminders) changes status and
asks plugins (``spoc_keep_open``): those are rare and stay on the one-request path.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, delete, inspect, select, text, update
from sqlalchemy.orm import Session

from spoc.core.domain import audiences
from spoc.core.domain.models import (
    Escalation,
    EscalationFact,
    EscalationTrigger,
    Request,
    RequestFact,
    SlaClock,
    SlaClockEvent,
    Team,
    TimelineEvent,
)
from spoc.core.domain.outbox import enqueue_rows
from spoc.core.domain.reports.dirty import mark_dirty
from spoc.core.domain.reports.facts import FactKeeper, fact_days, load_sources, stored_days
from spoc.core.domain.writes import SWEEPER, R, ServiceBase, WriteContext
from spoc.core.kernel.clocks import ClockState
from spoc.core.storage.bulk import Ids, among, insert_rows, postgres
from spoc.core.storage.db import Database

log = logging.getLogger(__name__)

RESERVED = (Escalation, SlaClock, SlaClockEvent)
"""Rows whose ids a batch reserves: the timeline names an escalation, a clock's log its clock,
and the report facts order a clock's log by id."""

WRITE_ORDER = (
    Escalation,
    EscalationTrigger,
    SlaClock,
    SlaClockEvent,
    TimelineEvent,
    RequestFact,
    EscalationFact,
)
"""Tables in the order their rows go in (each one's foreign keys point to earlier ones)."""

CLOCK_COLUMNS = ("state", "warned_at", "breached_at", "ended_at", "paused_at", "due_at", "warn_at")
"""What the sweep's decisions may change on a clock it read."""


class BatchWrite(WriteContext):
    """A write in a batch: rows are collected (with reserved ids), not added to the session;
    triggers are looked up among the batch's, read beforehand."""

    def __init__(
        self,
        session: Session,
        request: Request,
        now: datetime,
        next_seq: int,
        memo: dict[object, Any],
        ids: dict[type, Ids],
        fired: set[tuple[int, str]],
        remaining: int,
    ) -> None:
        super().__init__(session, request, SWEEPER, now, next_seq, memo)
        self.rows: list[object] = []
        self.outbox = []
        self._ids = ids
        self._fired = fired
        self._remaining = remaining  # how many requests of the batch are still to come

    def new(self, model: type[R], **values: Any) -> R:
        row = transient(model, values)
        if model in self._ids:
            # Clock events come about three to a request, escalations and clocks one.
            wanted = self._remaining * (3 if model is SlaClockEvent else 1)
            row.__dict__["id"] = self._ids[model].take(wanted)
        if isinstance(row, EscalationTrigger):
            self._fired.add((row.request_id, row.trigger))
        self.rows.append(row)
        return row

    def new_with_id(self, model: type[R], **values: Any) -> R:
        return self.new(model, **values)

    def fired(self, request_id: int, trigger: str) -> bool:
        return (request_id, trigger) in self._fired


@dataclass
class BatchResult:
    """What one batch did: the writes committed (with what each counted), the requests left
    for the one-request path (a housekeeping clock due), those whose handling raised here
    (each to be retried alone), and those another worker held."""

    done: list[tuple[BatchWrite, Any]] = field(default_factory=list)
    alone: list[int] = field(default_factory=list)
    failed: dict[int, Exception] = field(default_factory=dict)
    skipped: list[int] = field(default_factory=list)


class ClockBatch:
    """Runs a sweeper's clock rule over a batch of due requests, set-based (see the module)."""

    def __init__(self, db: Database, requests: ServiceBase) -> None:
        self.db = db
        self.requests = requests  # the write path whose observers the batch runs

    def run(
        self, ids: Sequence[int], now: datetime, change: Callable[[WriteContext], Any]
    ) -> BatchResult:
        """Claim ``ids``, apply ``change`` (the sweeper's rule; it returns what it counted) to
        each one still due, and write the outcome in one transaction."""
        result = BatchResult()
        with self.db.transaction() as session:
            claimed = {
                r.id: r
                for r in session.scalars(
                    select(Request)
                    .where(among(session, Request.id, ids))
                    .order_by(Request.id)
                    .with_for_update(skip_locked=True)
                )
            }
            result.skipped = [i for i in ids if i not in claimed]
            due = [
                claimed[i]
                for i in ids
                if i in claimed and (due_at := claimed[i].next_due_at) is not None and due_at <= now
            ]
            writes = self._decide(session, due, now, change, result)
            self._observe_late(session, writes, result)
            self._write(session, [w for w, _ in writes if w.request.id not in result.failed])
            result.done = [(w, n) for w, n in writes if w.request.id not in result.failed]
        for write, _ in result.done:
            self.requests.emit(write.request, write.events, SWEEPER)
        return result

    # --- deciding ------------------------------------------------------------------------

    def _decide(
        self,
        session: Session,
        due: list[Request],
        now: datetime,
        change: Callable[[WriteContext], Any],
        result: BatchResult,
    ) -> list[tuple[BatchWrite, Any]]:
        request_ids = [r.id for r in due]
        self.sources = load_sources(session, request_ids)
        fired = {
            (request_id, trigger)
            for request_id, trigger in session.execute(
                select(EscalationTrigger.request_id, EscalationTrigger.trigger).where(
                    among(session, EscalationTrigger.request_id, request_ids)
                )
            )
        }
        # From here on the rows read are plain values: what the batch changes is written by
        # its own statements, never flushed by the ORM.
        session.expunge_all()
        self.before = {
            c.id: {name: getattr(c, name) for name in CLOCK_COLUMNS}
            for s in self.sources.values()
            for c in s.clocks
        }
        ids: dict[type, Ids] = {
            model: Ids(session, model.__table__)  # type: ignore[arg-type]
            for model in RESERVED
        }
        memo: dict[object, Any] = {}
        writes: list[tuple[BatchWrite, Any]] = []
        for index, request in enumerate(due):
            sources = self.sources[request.id]
            if any(
                c.kind.is_housekeeping and c.state is ClockState.RUNNING and c.due_at <= now
                for c in sources.clocks
            ):
                result.alone.append(request.id)
                continue
            seq = max((e.seq for e in sources.events), default=0) + 1
            write = BatchWrite(session, request, now, seq, memo, ids, fired, len(due) - index)
            write.clocks = list(sources.clocks)
            teams = {t: t.last_assigned_agent_id for t in memo.values() if isinstance(t, Team)}
            clocks = {c.id: {n: getattr(c, n) for n in CLOCK_COLUMNS} for c in write.clocks}
            level = request.escalation_level
            try:
                counted = change(write)
                self.requests.observe(write)
            except Exception as exc:  # this request alone; retried alone on the one path
                self._undo(write, teams, clocks, level)
                result.failed[request.id] = exc
                continue
            writes.append((write, counted))
        return writes

    @staticmethod
    def _undo(
        write: BatchWrite,
        teams: dict[Team, int | None],
        clocks: dict[int, dict[str, Any]],
        level: int,
    ) -> None:
        """Put back what a failed request's handling changed on rows others share or that the
        batch's statements would write (its clocks, a team's round-robin turn)."""
        for team, turn in teams.items():
            team.last_assigned_agent_id = turn
        for clock in write.clocks or ():
            for name, value in clocks.get(clock.id, {}).items():
                setattr(clock, name, value)
        write.request.escalation_level = level

    def _observe_late(
        self, session: Session, writes: list[tuple[BatchWrite, Any]], result: BatchResult
    ) -> None:
        """The late observers, as after a one-request flush: notices (their audiences read
        for the whole batch first), the search index, the report facts (folded here)."""
        team_ids = {
            int(e.data["to_team_id"])
            for w, _ in writes
            for e in w.events
            if e.kind == "escalated" and e.data.get("to_team_id") is not None
        }
        if writes:
            audiences.prefetch(session, writes[0][0].memo, [w.request for w, _ in writes], team_ids)
        for write, _ in writes:
            if not write.events:
                continue
            try:
                for observer in self.requests.deps.late_observers:
                    if isinstance(observer, FactKeeper):
                        clock_events = [r for r in write.rows if isinstance(r, SlaClockEvent)]
                        folded = observer.fold_with(
                            write, self.sources[write.request.id], clock_events
                        )
                        if folded is not None:
                            write.rows.extend([folded[0], *folded[1]])
                    else:
                        observer(write)
            except Exception as exc:  # as in _decide: retried alone
                result.failed[write.request.id] = exc

    # --- writing -------------------------------------------------------------------------

    def _write(self, session: Session, writes: list[BatchWrite]) -> None:
        by_model: dict[type, list[object]] = defaultdict(list)
        for write in writes:
            for row in write.rows:
                by_model[type(row)].append(row)
        facts = [r.request_id for r in by_model[RequestFact]]  # type: ignore[attr-defined]
        if facts:  # the facts folded anew replace the request's stored ones
            # The days counted before and after, logged for the roll-ups (as FactKeeper does).
            days = stored_days(session, facts)
            for fact in by_model[RequestFact]:
                days |= fact_days(fact, ())  # type: ignore[arg-type]
            days |= {e.opened_day for e in by_model[EscalationFact]}  # type: ignore[attr-defined]
            mark_dirty(session, days)
            session.execute(
                delete(RequestFact).where(among(session, RequestFact.request_id, facts))
            )
        escalation_facts = [r.escalation_id for r in by_model[EscalationFact]]  # type: ignore[attr-defined]
        if escalation_facts:
            session.execute(
                delete(EscalationFact).where(
                    among(session, EscalationFact.escalation_id, escalation_facts)
                )
            )
        for model in WRITE_ORDER:
            rows = by_model.pop(model, [])
            insert_rows(session, model.__table__, [row_values(r) for r in rows])  # type: ignore[arg-type]
        if by_model:
            raise TypeError(
                f"the batch has no table order for {sorted(m.__name__ for m in by_model)}"
            )
        enqueue_rows(session, [row for w in writes for row in w.outbox or ()])
        self._update_clocks(session, writes)
        self._update_requests(session, writes)

    def _update_clocks(self, session: Session, writes: list[BatchWrite]) -> None:
        """One UPDATE per changed column and value (the sweep's are ``warned_at`` and
        ``breached_at``, both now)."""
        changed: dict[tuple[str, Any], list[int]] = defaultdict(list)
        for write in writes:
            for clock in write.clocks or ():
                before = self.before.get(clock.id)
                if before is None:
                    continue  # a clock this write started: inserted
                for name, value in before.items():
                    if getattr(clock, name) != value:
                        changed[(name, getattr(clock, name))].append(clock.id)
        table: Table = SlaClock.__table__  # type: ignore[assignment]
        for (name, value), clock_ids in changed.items():
            session.execute(
                update(table).where(among(session, table.c.id, clock_ids)).values({name: value})
            )

    @staticmethod
    def _update_requests(session: Session, writes: list[BatchWrite]) -> None:
        """One UPDATE for the batch's requests: each version moves by one, as on the
        one-request path; ``updated_at`` moves for those whose timeline grew. On PostgreSQL the
        values go as arrays (``unnest``), elsewhere the statement runs with each request's."""
        touched = [w for w in writes if w.events or _moved(w.request)]
        if not touched:
            return
        values: dict[str, list[Any]] = {
            "request_id": [w.request.id for w in touched],
            "level": [w.request.escalation_level for w in touched],
            "next_due_at": [w.request.next_due_at for w in touched],
            "deadline_at": [w.request.deadline_at for w in touched],
            "updated_at": [w.now if w.events else w.request.updated_at for w in touched],
        }
        if postgres(session):
            for name in ("next_due_at", "deadline_at", "updated_at"):
                values[name] = [v.astimezone(UTC) if v else None for v in values[name]]
            session.execute(UNNESTED_UPDATE, values)
        else:
            table: Table = Request.__table__  # type: ignore[assignment]
            c = table.c
            session.execute(
                update(table)
                .where(c.id == bindparam("request_id"))
                .values(
                    version=c.version + 1,
                    escalation_level=bindparam("level"),
                    next_due_at=bindparam("next_due_at", type_=c.next_due_at.type),
                    deadline_at=bindparam("deadline_at", type_=c.deadline_at.type),
                    updated_at=bindparam("updated_at", type_=c.updated_at.type),
                ),
                [dict(zip(values, row, strict=True)) for row in zip(*values.values(), strict=True)],
            )
        for write in touched:  # what plugins hear after commit
            write.request.version += 1
            if write.events:
                write.request.updated_at = write.now


UNNESTED_UPDATE = text(
    "UPDATE requests AS r SET version = r.version + 1, escalation_level = v.level, "
    "next_due_at = v.next_due_at, deadline_at = v.deadline_at, updated_at = v.updated_at "
    "FROM unnest(CAST(:request_id AS integer[]), CAST(:level AS integer[]), "
    "CAST(:next_due_at AS timestamptz[]), CAST(:deadline_at AS timestamptz[]), "
    "CAST(:updated_at AS timestamptz[])) AS v (id, level, next_due_at, deadline_at, updated_at) "
    "WHERE r.id = v.id"
)
"""The batch's requests in one statement on PostgreSQL: five arrays, whatever the batch size."""


def _moved(request: Request) -> bool:
    """Did the request's columns change without a timeline event (next_due_at refreshed)?"""
    state = inspect(request)
    return any(state.attrs[name].history.has_changes() for name in ("next_due_at", "deadline_at"))


@cache
def _columns(model: type) -> tuple[tuple[str, str, Any], ...]:
    """(attribute, column name, scalar default) of each column of ``model``."""
    found = []
    attr: Any
    for attr in inspect(model).column_attrs:
        column = attr.columns[0]
        default = (
            column.default.arg if column.default is not None and column.default.is_scalar else None
        )
        found.append((attr.key, column.name, default))
    return tuple(found)


@cache
def _links(model: type) -> tuple[tuple[str, str, str], ...]:
    """(relationship, local column, the related row's attribute) of ``model``'s many-to-ones:
    a row made with ``clock=...`` has no ``clock_id`` until it is flushed."""
    relationships: Any = inspect(model).relationships
    return tuple(
        (rel.key, local.name, remote.key)
        for rel in relationships
        if rel.direction.name == "MANYTOONE"
        for local, remote in rel.local_remote_pairs
    )


def transient(model: type[R], values: dict[str, Any]) -> R:
    """A new ORM object holding ``values``, made without the ORM's attribute events: a row the
    batch writes itself is never flushed, so it needs no change history (this is ten times
    cheaper than ``model(**values)``, which a batch does about ten times per request)."""
    row: R = _manager(model).new_instance()  # type: ignore[arg-type]
    row.__dict__.update(values)
    return row


@cache
def _manager(model: type) -> Any:
    return inspect(model).class_manager


def row_values(row: object) -> dict[str, Any]:
    """The column values of a new ORM object, as its INSERT would write them (scalar column
    defaults applied, foreign keys taken from the related objects). Read from the object's
    own ``__dict__``: a new object has nothing to load, and asking its attributes would try."""
    model: Any = type(row)
    held = row.__dict__
    values: dict[str, Any] = {}
    for key, name, default in _columns(model):
        value = held.get(key)
        values[name] = default if value is None and default is not None else value
    for rel, local, remote in _links(model):
        if values.get(local) is None and (target := held.get(rel)) is not None:
            values[local] = getattr(target, remote)
    if values.get("id", 0) is None:
        del values["id"]  # the database numbers it (timeline events)
    return values
