"""Vendors: contracts, deliverables, insurance, check-in, the vendor portal link, and the three
triggers the sweep fires exactly once each.

A trigger is a :class:`Watch` row, unique per vendor, cause and deliverable. Its life:

* ``waiting`` until its instant (deliverable due; T-14 days for the certificate; load-in start
  plus 15 minutes for check-in). What it waits for happening first (acceptance, a valid
  certificate, the check-in) clears it.
* ``spoc_sweep_tasks`` (may write) opens a "vendor deliverable or contract" request for a due
  watch, in the same transaction that moves it to ``opened`` with a guarded UPDATE: a second
  worker racing on the same watch matches no row and rolls its request back.
* ``spoc_escalation_checks`` (reads) returns the opened ones; the sweep escalates each once and
  its ``settle`` moves the watch to ``escalated``, so the index range ``(state, due_at)`` never
  returns it again.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from spoc import (
    Actor,
    ActorKind,
    EscalationCheck,
    Ordering,
    Request,
    ServiceError,
    Spoc,
    ValidationFailed,
)
from spoc.plugins.events.models import (
    CLEARED,
    ESCALATED,
    FAILED,
    OPENED,
    WAITING,
    Deliverable,
    Event,
    EventSession,
    NeedPerSession,
    Vendor,
    Watch,
)
from spoc.plugins.events.program import get_or_404
from spoc.plugins.events.settings import EventsSettings

VENDOR_CONTRACT = "events.vendor_contract"
DELIVERABLE_OVERDUE = "deliverable_overdue"
CERTIFICATE_MISSING = "certificate_missing"
NOT_CHECKED_IN = "not_checked_in"
DESK = Actor.system("Event desk")
log = logging.getLogger(__name__)
_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)


def valid_email(value: str, field: str = "onsite_email") -> str:
    """The address normalised (trimmed, lower case), or :class:`ValidationFailed`: a trigger
    opens its request with this address as requester, and intake refuses a malformed one."""
    try:
        return _EMAIL.validate_python(value.strip()).lower()
    except ValidationError:
        problem = {field: f"not an email address: {value!r}"}
        raise ValidationFailed("invalid email", problem) from None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class VendorPlan:
    code: str
    name: str
    onsite_email: str
    onsite_name: str = ""
    onsite_phone: str = ""
    contract_ref: str = ""
    contract_value: float | None = None
    budget_tolerance: float | None = None
    insurance_expires_on: date | None = None


def _watch(
    session: Session,
    vendor: Vendor,
    cause: str,
    due: datetime,
    team: str,
    reason: str,
    deliverable: Deliverable | None = None,
) -> None:
    key = f"{cause}:{vendor.id}:{deliverable.id if deliverable else 0}"
    session.add(
        Watch(
            key=key,
            vendor_id=vendor.id,
            deliverable_id=deliverable.id if deliverable else None,
            cause=cause,
            due_at=due,
            state=WAITING,
            team_key=team,
            reason=reason[:300],
        )
    )


def add_vendor(spoc: Spoc, settings: EventsSettings, event_id: int, plan: VendorPlan) -> Vendor:
    email = valid_email(plan.onsite_email)
    with spoc.db.transaction() as session:
        event = get_or_404(session, Event, event_id, "event")
        if session.scalar(
            select(Vendor.id).where(Vendor.event_id == event_id, Vendor.code == plan.code)
        ):
            raise ValidationFailed(
                "duplicate vendor", {"code": f"{plan.code} exists for this event"}
            )
        vendor = Vendor(
            event_id=event.id,
            code=plan.code,
            name=plan.name.strip()[:200],
            contract_ref=plan.contract_ref,
            contract_value=plan.contract_value,
            budget_tolerance=plan.budget_tolerance,
            insurance_expires_on=plan.insurance_expires_on,
            onsite_name=plan.onsite_name,
            onsite_phone=plan.onsite_phone,
            onsite_email=email,
        )
        session.add(vendor)
        session.flush()
        days = settings.certificate_days_before
        _watch(
            session,
            vendor,
            CERTIFICATE_MISSING,
            event.starts_at - timedelta(days=days),
            settings.vendor_team,
            f"{vendor.name}: no valid insurance certificate {days} days before the event",
        )
        if event.load_in_starts_at is not None:
            grace = settings.check_in_grace_minutes
            _watch(
                session,
                vendor,
                NOT_CHECKED_IN,
                event.load_in_starts_at + timedelta(minutes=grace),
                settings.operations_team,
                f"{vendor.name} not checked in {grace} minutes after load-in started",
            )
    return vendor


def add_deliverable(
    spoc: Spoc,
    settings: EventsSettings,
    vendor_id: int,
    what: str,
    due: datetime,
    acceptance: str = "",
) -> Deliverable:
    if due.tzinfo is None:
        raise ValidationFailed("invalid deliverable", {"due": "give the time zone"})
    with spoc.db.transaction() as session:
        vendor = get_or_404(session, Vendor, vendor_id, "vendor")
        deliverable = Deliverable(
            vendor_id=vendor.id,
            what=what.strip()[:300],
            due_at=due,
            acceptance=acceptance.strip()[:500],
        )
        session.add(deliverable)
        session.flush()
        _watch(
            session,
            vendor,
            DELIVERABLE_OVERDUE,
            due,
            settings.vendor_team,
            f"{vendor.name}: deliverable overdue: {deliverable.what}",
            deliverable,
        )
    return deliverable


def _clear(session: Session, vendor_id: int, cause: str, deliverable_id: int | None = None) -> None:
    session.execute(
        update(Watch)
        .where(Watch.key == f"{cause}:{vendor_id}:{deliverable_id or 0}", Watch.state == WAITING)
        .values(state=CLEARED)
    )


def accept_deliverable(spoc: Spoc, deliverable_id: int, actor: Actor) -> Deliverable:
    with spoc.db.transaction() as session:
        deliverable = get_or_404(session, Deliverable, deliverable_id, "deliverable")
        if deliverable.accepted_at is None:
            deliverable.accepted_at = spoc.clock.now()
            deliverable.accepted_by = actor.name or actor.kind.value
            _clear(session, deliverable.vendor_id, DELIVERABLE_OVERDUE, deliverable.id)
    return deliverable


def _covers(vendor: Vendor, event: Event) -> bool:
    expiry = vendor.insurance_expires_on
    return expiry is not None and expiry >= event.ends_at.date()


def record_certificate(spoc: Spoc, vendor_id: int, expires_on: date) -> Vendor:
    with spoc.db.transaction() as session:
        vendor = get_or_404(session, Vendor, vendor_id, "vendor")
        vendor.insurance_expires_on = expires_on
        event = session.get(Event, vendor.event_id)
        assert event is not None
        if _covers(vendor, event):
            _clear(session, vendor.id, CERTIFICATE_MISSING)
    return vendor


def check_in(spoc: Spoc, vendor_id: int, actor: Actor) -> Vendor:
    """The vendor is at the venue: clears the not-checked-in trigger, and records when and who
    said so (the first check-in stands)."""
    with spoc.db.transaction() as session:
        vendor = get_or_404(session, Vendor, vendor_id, "vendor")
        if vendor.checked_in_at is None:
            vendor.checked_in_at = spoc.clock.now()
            vendor.checked_in_by = (actor.name or actor.kind.value)[:200]
            vendor.checked_in_by_id = actor.id if actor.kind is ActorKind.AGENT else None
            _clear(session, vendor.id, NOT_CHECKED_IN)
    return vendor


# --- the vendor portal link --------------------------------------------------------------------


def issue_portal_link(spoc: Spoc, settings: EventsSettings, vendor_id: int) -> str:
    """A new secret link for the vendor (the previous one stops working). Only its SHA-256
    digest is stored; it expires some days after the event."""
    token = secrets.token_urlsafe(32)
    with spoc.db.transaction() as session:
        vendor = get_or_404(session, Vendor, vendor_id, "vendor")
        event = session.get(Event, vendor.event_id)
        assert event is not None
        vendor.portal_token_hash = digest(token)
        vendor.portal_expires_at = event.ends_at + timedelta(days=settings.vendor_link_days_after)
    return token


def vendor_for_token(session: Session, token: str, now: datetime) -> Vendor | None:
    if not token or len(token) > 100:
        return None
    return session.scalar(
        select(Vendor).where(
            Vendor.portal_token_hash == digest(token), Vendor.portal_expires_at > now
        )
    )


def deliverables_of(session: Session, vendor_id: int, limit: int = 100) -> list[Deliverable]:
    return list(
        session.scalars(
            select(Deliverable)
            .where(Deliverable.vendor_id == vendor_id)
            .order_by(Deliverable.due_at, Deliverable.id)
            .limit(limit)
        )
    )


def needs_per_session(
    session: Session, event_id: int, minimum: int, limit: int = 200
) -> list[tuple[EventSession, str, int | None]]:
    """How many attendees need what in each session: counts only, never who. A count below
    ``minimum`` is ``None`` ("fewer than minimum"): a small one can single a person out."""
    rows = session.execute(
        select(EventSession, NeedPerSession.need_type, func.count())
        .join(NeedPerSession, NeedPerSession.session_id == EventSession.id)
        .where(EventSession.event_id == event_id)
        .group_by(EventSession.id, NeedPerSession.need_type)
        .order_by(EventSession.starts_at, EventSession.id, NeedPerSession.need_type)
        .limit(limit)
    ).all()
    return [(row[0], str(row[1]), int(row[2]) if row[2] >= minimum else None) for row in rows]


VENDORS = Ordering("events:vendors", Vendor.name, Vendor.id)
"""Vendors by name: ``ix_events_vendors_event`` (event_id, name, id)."""


def vendors_of(event_id: int) -> Select[Vendor]:
    """An event's vendors, to page in :data:`VENDORS` (``spoc.pager``)."""
    return select(Vendor).where(Vendor.event_id == event_id)


# --- the sweep ---------------------------------------------------------------------------------


class _Taken(Exception):
    """Another worker opened this watch's request first: roll ours back."""


def _still_needed(session: Session, watch: Watch) -> bool:
    vendor = session.get(Vendor, watch.vendor_id)
    if vendor is None:
        return False
    if watch.cause == DELIVERABLE_OVERDUE:
        deliverable = session.get(Deliverable, watch.deliverable_id)
        return deliverable is not None and deliverable.accepted_at is None
    if watch.cause == CERTIFICATE_MISSING:
        event = session.get(Event, vendor.event_id)
        return event is not None and not _covers(vendor, event)
    return vendor.checked_in_at is None


def _what(session: Session, watch: Watch, vendor: Vendor) -> tuple[str, str, str]:
    if watch.cause == DELIVERABLE_OVERDUE:
        deliverable = session.get(Deliverable, watch.deliverable_id)
        assert deliverable is not None
        return (
            "deliverable",
            f"Overdue: {deliverable.what}"[:200],
            f"{deliverable.what} was due {deliverable.due_at:%d %b %Y %H:%M} UTC"
            + (f"; acceptance: {deliverable.acceptance}" if deliverable.acceptance else ""),
        )
    if watch.cause == CERTIFICATE_MISSING:
        return (
            "insurance",
            "Insurance certificate missing",
            "We have no insurance certificate valid through the event.",
        )
    return ("check_in", "Not checked in at load-in", "You have not checked in at the venue yet.")


def open_due_alerts(spoc: Spoc, now: datetime, limit: int) -> int:
    """``spoc_sweep_tasks``: open one request per due watch, exactly once.

    Each watch is dealt with on its own: one whose request cannot be opened (intake refuses
    it, say a malformed contact address) is logged and parked as ``failed``, so it never blocks
    the watches due after it. Any other error is logged and the watch retried next pass."""
    with spoc.db.reader() as session:
        due = list(
            session.scalars(
                select(Watch.id)
                .where(Watch.state == WAITING, Watch.due_at <= now)
                .order_by(Watch.due_at, Watch.id)
                .limit(limit)
            )
        )
    opened = 0
    for watch_id in due:
        try:
            opened += _open_one(spoc, watch_id)
        except ServiceError:
            log.exception("events: watch %s cannot open its request; parked as failed", watch_id)
            with spoc.db.transaction() as session:
                session.execute(
                    update(Watch)
                    .where(Watch.id == watch_id, Watch.state == WAITING)
                    .values(state=FAILED)
                )
        except Exception:
            log.exception("events: watch %s failed; retried next pass", watch_id)
    return opened


def _open_one(spoc: Spoc, watch_id: int) -> int:
    """Open the watch's request (1), or clear a watch no longer needed (0)."""
    with spoc.db.reader() as session:
        watch = session.get(Watch, watch_id)
        if watch is None or watch.state != WAITING:
            return 0
        if not _still_needed(session, watch):
            cleared = True
        else:
            cleared = False
            vendor = session.get(Vendor, watch.vendor_id)
            assert vendor is not None
            event = session.get(Event, vendor.event_id)
            assert event is not None
            topic, summary, details = _what(session, watch, vendor)
            requester = {
                "name": vendor.onsite_name or vendor.name,
                "email": vendor.onsite_email,
            }
            subject_id, code = event.subject_id, vendor.code
    if cleared:
        with spoc.db.transaction() as session:
            session.execute(
                update(Watch)
                .where(Watch.id == watch_id, Watch.state == WAITING)
                .values(state=CLEARED)
            )
        return 0

    def claim(session: Session, request: Request, _token: str) -> None:
        done = session.execute(
            update(Watch)
            .where(Watch.id == watch_id, Watch.state == WAITING)
            .values(state=OPENED, request_id=request.id)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise _Taken

    try:
        spoc.requests.create_with_tracking_link(
            type_key=VENDOR_CONTRACT,
            fields={
                "vendor_code": code,
                "topic": topic,
                "summary": summary,
                "details": details,
            },
            requester=requester,
            subject_id=subject_id,
            actor=DESK,
            on_issued=claim,
        )
    except _Taken:
        return 0
    return 1


def escalation_checks(spoc: Spoc, now: datetime, limit: int) -> list[EscalationCheck]:
    with spoc.db.reader() as session:
        rows = list(
            session.execute(
                select(Watch.id, Watch.request_id, Watch.cause, Watch.team_key, Watch.reason)
                .where(Watch.state == OPENED, Watch.due_at <= now)
                .order_by(Watch.due_at, Watch.id)
                .limit(limit)
            )
        )
    return [
        EscalationCheck(request_id, cause, team, reason, settle=_settler(watch_id))
        for watch_id, request_id, cause, team, reason in rows
        if request_id is not None
    ]


def _settler(watch_id: int):  # type: ignore[no-untyped-def]
    def settle(session: Session) -> None:
        session.execute(
            update(Watch).where(Watch.id == watch_id, Watch.state == OPENED).values(state=ESCALATED)
        )

    return settle
