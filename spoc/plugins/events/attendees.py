"""Attendees: the registration list (CSV import), matching questions to registrations by email,
accessibility and dietary needs (special-category data) and their erasure after the event."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError
from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session

from spoc import Actor, Contact, Ordering, Request, Spoc, ValidationFailed
from spoc.plugins.events.forms import AccessNeedForm
from spoc.plugins.events.models import (
    AccessNeed,
    Attendee,
    Event,
    EventSession,
    NeedPerSession,
)

COLUMNS = ("name", "email", "order_code", "ticket_type")
BATCH = 200
RETENTION = Actor.system("Events retention")


class AttendeeRow(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    order_code: str = Field(default="", max_length=40)
    ticket_type: str = Field(default="", max_length=60)


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.added + self.updated + len(self.errors)


def _problem(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in exc.errors()
    )


def read_rows(stream: TextIO) -> Iterator[tuple[int, dict[str, str] | str]]:
    """(line number, row) per data row, or (line, problem) for a row that cannot be read.
    Line numbers are the file's own (the header is line 1)."""
    reader = csv.DictReader(stream)
    missing = [c for c in ("name", "email") if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(
            "the file has no header we know",
            {
                "file": f"line 1 must name the columns {', '.join(COLUMNS)} "
                f"(missing {', '.join(missing)})"
            },
        )
    for row in reader:
        line = reader.line_num
        if None in row:
            yield line, f"{len(row[None])} more value(s) than columns"
            continue
        yield line, {k: (v or "") for k, v in row.items() if k is not None}


def import_attendees(
    spoc: Spoc,
    event_id: int,
    rows: Iterable[tuple[int, dict[str, str] | str]],
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Add or update registrations; rows with errors are reported with their line and skipped,
    good rows land (in batches of 200, each its own transaction)."""
    report = ImportReport()
    seen: dict[str, int] = {}
    batch: list[tuple[int, AttendeeRow]] = []

    def flush() -> None:
        if not batch:
            return
        now = spoc.clock.now()
        with spoc.db.transaction() as session:
            emails = [row.email.lower() for _, row in batch]
            existing = {
                a.email: a
                for a in session.scalars(
                    select(Attendee).where(
                        Attendee.event_id == event_id, Attendee.email.in_(emails)
                    )
                )
            }
            for _, row in batch:
                email = row.email.lower()
                found = existing.get(email)
                if found is None:
                    session.add(
                        Attendee(
                            event_id=event_id,
                            email=email,
                            name=row.name,
                            order_code=row.order_code,
                            ticket_type=row.ticket_type,
                            imported_at=now,
                        )
                    )
                    report.added += 1
                else:
                    found.name, found.order_code, found.ticket_type = (
                        row.name,
                        row.order_code,
                        row.ticket_type,
                    )
                    found.imported_at = now
                    report.updated += 1
        if progress is not None:
            progress(len(batch))
        batch.clear()

    with spoc.db.reader() as session:
        if session.get(Event, event_id) is None:
            raise ValidationFailed("no such event", {"event": str(event_id)})

    def reject(line: int, problem: str) -> None:
        report.errors.append((line, problem))
        if progress is not None:
            progress(1)

    for line, raw in rows:
        if isinstance(raw, str):
            reject(line, raw)
            continue
        try:
            row = AttendeeRow.model_validate(raw)
        except ValidationError as exc:
            reject(line, _problem(exc))
            continue
        email = row.email.lower()
        if email in seen:
            reject(line, f"email {email} is already on line {seen[email]}")
            continue
        seen[email] = line
        batch.append((line, row))
        if len(batch) >= BATCH:
            flush()
    flush()
    report.errors.sort()
    return report


def registration_for(session: Session, event_id: int, contact_id: int) -> Attendee | None:
    """The attendee registered with the requester's email (case-insensitive)."""
    email = session.scalar(select(Contact.email).where(Contact.id == contact_id))
    if not email:
        return None
    return session.scalar(
        select(Attendee).where(Attendee.event_id == event_id, Attendee.email == email.lower())
    )


ATTENDEES = Ordering("events:attendees", Attendee.name, Attendee.id)
"""Registrations by name: ``ix_events_attendees_event`` (event_id, name, id)."""


def attendees_of(event_id: int) -> Select[Attendee]:
    """An event's registrations, to page in :data:`ATTENDEES` (``spoc.pager``)."""
    return select(Attendee).where(Attendee.event_id == event_id)


# --- accessibility and dietary needs -------------------------------------------------------------


def record_need(
    session: Session,
    event: Event,
    request: Request,
    form: AccessNeedForm,
    attendee: Attendee | None,
    now: datetime,
) -> None:
    """Inside the intake transaction: the need and its per-session rows (what vendors count)."""
    if not form.consent:  # the form refuses this already; never store without consent
        raise ValidationFailed("consent required", {"fields.consent": "required"})
    wanted = form.session_numbers()
    query = select(EventSession.id).where(
        EventSession.event_id == event.id, EventSession.status == "scheduled"
    )
    if wanted is not None:
        query = query.where(EventSession.id.in_(wanted))
    session_ids = list(session.scalars(query.limit(500)))
    if wanted is not None and len(session_ids) != len(wanted):
        unknown = sorted(set(wanted) - set(session_ids))
        raise ValidationFailed(
            "unknown sessions",
            {"fields.sessions": f"no session {', '.join(map(str, unknown))} at this event"},
        )
    need = AccessNeed(
        request_id=request.id,
        event_id=event.id,
        attendee_id=attendee.id if attendee else None,
        need_types=[n.value for n in form.needs],
        details=form.details,
        consent_at=now,
    )
    session.add(need)
    session.flush()
    for session_id in session_ids:
        for need_type in form.needs:
            session.add(
                NeedPerSession(need_id=need.id, session_id=session_id, need_type=need_type.value)
            )


NEEDS = Ordering("events:needs", AccessNeed.id)
"""Needs in the order they arrived: ``ix_events_access_needs_event`` (event_id, id)."""


def needs_of(event_id: int) -> Select[AccessNeed, Attendee]:
    """An event's needs not yet erased, each with its registration (or ``None``), to page in
    :data:`NEEDS` (``spoc.pager``)."""
    return (
        select(AccessNeed, Attendee)
        .outerjoin(Attendee, Attendee.id == AccessNeed.attendee_id)
        .where(AccessNeed.event_id == event_id, AccessNeed.erased_at.is_(None))
    )


def erase_due(spoc: Spoc, now: datetime, limit: int) -> int:
    """``spoc_sweep_tasks``: erase every need not yet erased whose event's retention ended,
    at most ``limit`` per pass (in batches). Needs are chosen by their own ``erased_at``, not
    the event's, so one filed after its event was first erased goes too. Safe to repeat after
    an interruption (each step is idempotent); returns the needs erased."""
    erased = 0
    while erased < limit:
        with spoc.db.reader() as session:
            needs = session.execute(
                select(AccessNeed.id, AccessNeed.request_id, AccessNeed.event_id)
                .join(Event, Event.id == AccessNeed.event_id)
                .where(AccessNeed.erased_at.is_(None), Event.erase_after <= now)
                .order_by(AccessNeed.id)
                .limit(min(BATCH, limit - erased))
            ).all()
        if not needs:
            break
        # The request's own copy of the answers (form fields, messages) goes first.
        spoc.directory.erase_request_details(RETENTION, [r for _, r, _ in needs])
        ids = [n for n, _, _ in needs]
        with spoc.db.transaction() as session:
            session.execute(delete(NeedPerSession).where(NeedPerSession.need_id.in_(ids)))
            session.execute(
                update(AccessNeed)
                .where(AccessNeed.id.in_(ids))
                .values(need_types=[], details="", erased_at=now)
            )
            # For the record only (when the event's needs were first erased): never a filter.
            session.execute(
                update(Event)
                .where(Event.id.in_({e for _, _, e in needs}), Event.erased_at.is_(None))
                .values(erased_at=now)
            )
        erased += len(ids)
    return erased
