"""Tracking events in: one service function behind the API batch endpoint and the CSV import.

A batch is one transaction. Events are inserted with ``INSERT ... ON CONFLICT (event_id) DO
NOTHING RETURNING``, so a replayed event is counted as a duplicate and changes nothing, and
only the events that really landed move their shipment's projection (status, ETA, last scan,
failed attempts, damage/loss/customs flags). The projection follows *event* time: an event
older than the shipment's current status adds to the history but does not move the status.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import String, Table, any_, bindparam, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from spoc import Spoc
from spoc.plugins.logistics.models import (
    FINISHED,
    Shipment,
    TrackingEvent,
    TrackingStatus,
)

# Carrier reason codes that mean damage, loss or a customs hold, for carriers that do not set
# the flags themselves (compared upper-case).
DAMAGE_REASONS = frozenset({"DAMAGED", "DAMAGE", "DMG", "BROKEN"})
LOSS_REASONS = frozenset({"LOST", "LOSS", "MISSING", "NOT_FOUND"})
CUSTOMS_REASONS = frozenset({"CUSTOMS", "CUSTOMS_HOLD", "CUS", "CLEARANCE_DELAY"})


class TrackingEventIn(BaseModel):
    """One carrier event, as the API and the CSV import accept it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    event_id: str = Field(
        min_length=1, max_length=100, description="Unique id of the event; ingest is idempotent"
    )
    carrier: str = Field(min_length=1, max_length=40)
    tracking_number: str = Field(min_length=1, max_length=60)
    occurred_at: AwareDatetime = Field(description="When it happened, with its UTC offset")
    status: TrackingStatus = Field(description="Normalised status")
    raw_code: str = Field(default="", max_length=40, description="The carrier's own code")
    code_system: str = Field(default="", max_length=40, description="Whose codes, e.g. UPS")
    reason_code: str = Field(default="", max_length=40)
    city: str = Field(default="", max_length=100)
    country: str = Field(default="", pattern=r"^([A-Z]{2})?$", description="ISO 3166 alpha-2")
    description: str = Field(default="", max_length=500)
    eta: AwareDatetime | None = Field(default=None, description="The carrier's new ETA, if any")
    damage: bool = False
    loss: bool = False
    customs: bool = False
    signed_by: str = Field(default="", max_length=200, description="Proof of delivery")

    @field_validator("country", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    def flags(self) -> tuple[bool, bool, bool]:
        reason = self.reason_code.upper()
        return (
            self.damage or reason in DAMAGE_REASONS,
            self.loss or reason in LOSS_REASONS,
            self.customs or reason in CUSTOMS_REASONS,
        )


@dataclass
class Rejection:
    index: int  # position in the batch (the CSV import maps it to a line number)
    event_id: str
    reason: str


@dataclass
class IngestReport:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    shipments_moved: int = 0

    def add(self, other: IngestReport, offset: int = 0) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.shipments_moved += other.shipments_moved
        self.rejected.extend(
            Rejection(r.index + offset, r.event_id, r.reason) for r in other.rejected
        )


EVENTS = cast(Table, TrackingEvent.__table__)
SHIPMENTS = cast(Table, Shipment.__table__)


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _unnest(table: Table, names: Sequence[str]) -> str:
    """``unnest(CAST(:a AS type[]), ...)``: one array parameter per column, so a batch of a
    thousand rows is a statement with a handful of parameters, not sixteen thousand."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    casts = [f"CAST(:{name} AS {table.c[name].type.compile(dialect=dialect)}[])" for name in names]
    return f"unnest({', '.join(casts)}) AS v({', '.join(names)})"


def _columns(rows: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    return {name: [row[name] for row in rows] for name in rows[0]}


def _insert_events(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """INSERT ... ON CONFLICT (event_id) DO NOTHING RETURNING event_id: the ids that landed."""
    table = EVENTS
    if _is_postgresql(session):
        names = list(rows[0])
        # Table and column names are this module's own; every value is a bound parameter.
        statement = text(
            f"INSERT INTO {table.name} ({', '.join(names)}) "  # noqa: S608
            f"SELECT {', '.join(f'v.{n}' for n in names)} FROM {_unnest(table, names)} "
            "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
        )
        return set(session.scalars(statement, _columns(rows)))
    insert = sqlite.insert(table).on_conflict_do_nothing(index_elements=["event_id"])
    return set(session.scalars(insert.returning(table.c.event_id), rows))


def _update_shipments(session: Session, changes: list[dict[str, Any]]) -> None:
    table = SHIPMENTS
    names = [name for name in changes[0] if name != "_id"]
    if _is_postgresql(session):
        columns = _columns(changes)
        columns["id"] = columns.pop("_id")
        statement = text(
            f"UPDATE {table.name} AS s SET {', '.join(f'{n} = v.{n}' for n in names)} "  # noqa: S608
            f"FROM {_unnest(table, ['id', *names])} WHERE s.id = v.id"
        )
        session.execute(statement, columns)
        return
    session.execute(
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values({name: bindparam(f"new_{name}") for name in names}),
        [{("_id" if k == "_id" else f"new_{k}"): v for k, v in c.items()} for c in changes],
    )


def ingest(spoc: Spoc, events: Sequence[TrackingEventIn]) -> IngestReport:
    """Store a batch of events and move their shipments; returns what landed and what not.

    Events for a shipment we do not know are rejected (with the reason) and the rest land."""
    if not events:
        return IngestReport()
    with spoc.db.transaction() as session:
        return ingest_in(session, spoc.clock.now(), events)


def ingest_in(session: Session, now: datetime, events: Sequence[TrackingEventIn]) -> IngestReport:
    """:func:`ingest` in the caller's transaction (a carrier's mail lands with its record)."""
    report = IngestReport()
    if events:
        shipments = _lock_shipments(session, {(e.carrier, e.tracking_number) for e in events})
        rows: list[dict[str, Any]] = []
        known: dict[str, TrackingEventIn] = {}
        for index, event in enumerate(events):
            shipment = shipments.get((event.carrier, event.tracking_number))
            if shipment is None:
                report.rejected.append(
                    Rejection(index, event.event_id, "unknown shipment (carrier, tracking number)")
                )
                continue
            if event.event_id in known:
                report.duplicates += 1  # the same event twice in one batch
                continue
            known[event.event_id] = event
            damage, loss, customs = event.flags()
            rows.append(
                {
                    "event_id": event.event_id,
                    "shipment_id": shipment["id"],
                    "occurred_at": event.occurred_at,
                    "received_at": now,
                    "status": event.status.value,
                    "raw_code": event.raw_code,
                    "reason_code": event.reason_code,
                    "code_system": event.code_system,
                    "city": event.city,
                    "country": event.country,
                    "description": event.description,
                    "eta": event.eta,
                    "damage": damage,
                    "loss": loss,
                    "customs": customs,
                    "signed_by": event.signed_by,
                }
            )
        landed: set[str] = set()
        if rows:
            landed = _insert_events(session, rows)
        report.accepted = len(landed)
        report.duplicates += len(rows) - len(landed)
        by_shipment: dict[tuple[str, str], list[TrackingEventIn]] = defaultdict(list)
        for event_id in landed:
            event = known[event_id]
            by_shipment[(event.carrier, event.tracking_number)].append(event)
        changes = [_project(shipments[key], new, now) for key, new in sorted(by_shipment.items())]
        if changes:
            _update_shipments(session, changes)
        report.shipments_moved = len(changes)
    return report


PROJECTED = (
    "id",
    "status",
    "status_at",
    "eta",
    "eta_event_at",
    "promised_by",
    "last_scan_at",
    "delivered_at",
    "proof_of_delivery",
    "failed_attempts",
    "damage_reported",
    "loss_reported",
    "customs_hold",
    "stale_watch",
    "exception_due",
    "revision",
)


def _lock_shipments(
    session: Session, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The batch's shipments, locked (PostgreSQL) in id order so batches never deadlock; on
    SQLite the transaction already holds the database's write lock."""
    table = SHIPMENTS
    numbers = sorted({number for _, number in keys})
    found: dict[tuple[str, str], dict[str, Any]] = {}
    columns = (table.c.carrier, table.c.tracking_number, *(table.c[c] for c in PROJECTED))
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        if _is_postgresql(session):
            wanted = table.c.tracking_number == any_(
                bindparam("numbers", chunk, type_=postgresql.ARRAY(String))
            )
            query = select(*columns).where(wanted).order_by(table.c.id).with_for_update()
        else:
            query = select(*columns).where(table.c.tracking_number.in_(chunk)).order_by(table.c.id)
        for row in session.execute(query).mappings():
            key = (row["carrier"], row["tracking_number"])
            if key in keys:
                found[key] = dict(row)
    return found


def _project(
    current: dict[str, Any], new: Iterable[TrackingEventIn], now: datetime
) -> dict[str, Any]:
    """The shipment's projection after ``new`` events, by event time, never arrival time."""
    events = sorted(new, key=lambda e: (e.occurred_at, e.event_id))
    state = {name: current[name] for name in PROJECTED if name != "id"}
    state["_id"] = current["id"]
    eta_before = state["eta"]
    delivered_before = state["status"] == TrackingStatus.DELIVERED.value
    flags_before = (state["damage_reported"], state["loss_reported"], state["customs_hold"])
    failed_before = state["failed_attempts"]
    for event in events:
        at = event.occurred_at
        if state["status_at"] is None or at >= state["status_at"]:
            state["status"], state["status_at"] = event.status.value, at
        if event.eta is not None and (state["eta_event_at"] is None or at >= state["eta_event_at"]):
            state["eta"], state["eta_event_at"] = event.eta, at
        if state["last_scan_at"] is None or at > state["last_scan_at"]:
            state["last_scan_at"] = at
        if event.status is TrackingStatus.DELIVERY_FAILED:
            state["failed_attempts"] += 1
        if event.status is TrackingStatus.DELIVERED:
            if state["delivered_at"] is None or at < state["delivered_at"]:
                state["delivered_at"] = at
            if event.signed_by:
                state["proof_of_delivery"] = f"Signed by {event.signed_by} at {at.isoformat()}"
        damage, loss, customs = event.flags()
        state["damage_reported"] |= damage
        state["loss_reported"] |= loss
        state["customs_hold"] |= customs
    finished = TrackingStatus(state["status"]) in FINISHED
    # A shipment is watched for staleness once scanned, until it is finished; a stale flag
    # already raised (stale_watch switched off by detect) is not raised again for it.
    if finished:
        state["stale_watch"] = False
    elif current["last_scan_at"] is None:
        state["stale_watch"] = True
    flags_after = (state["damage_reported"], state["loss_reported"], state["customs_hold"])
    if (
        state["eta"] != eta_before
        or flags_after != flags_before
        or state["failed_attempts"] != failed_before
        # Delivered now: detect() resolves the delay-type requests the shipment caused.
        or (state["status"] == TrackingStatus.DELIVERED.value and not delivered_before)
    ):
        state["exception_due"] = True
    state["revision"] += 1
    state["last_received_at"] = now
    del state["promised_by"]
    return state
