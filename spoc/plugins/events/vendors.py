"""Vendors: contracts, deliverables, insurance, check-in, the vendor portal link, and the three
triggers the sweep fires exactly once each.

A trigger is a :class:`VendorAlert` (unique per vendor, cause and deliverable) whose instant is
the core's watch ``events:vendor:<key>`` on the event's subject. Its life:

* ``waiting`` until its instant (deliverable due; T-14 days for the certificate; load-in start
  plus 15 minutes for check-in). What it waits for happening first (acceptance, a valid
  certificate, the check-in) clears it and settles its watch.
* ``spoc_sweep_tasks`` (:func:`open_due_alerts`, before the sweep fires watches) reads the due
  watches through the core's index and opens a "vendor deliverable or contract" request for
  each, in the transaction that settles the watch with a conditional UPDATE: a second worker
  racing on the same alert gets False and rolls its request back. That transaction also marks
  the alert ``opened`` and arms the request's watch ``events:<cause>``, due at once, which
  the same pass escalates (vendor management, or event operations for the check-in) and
  settles; the plugin's ``spoc_watch_due`` marks the alert ``escalated`` with it.
* A due alert the task has not opened (beyond its limit, or after an unexpected error) is left
  armed by ``spoc_watch_due`` for the task's next pass — intake needs its own transaction, so
  the request cannot be opened from inside the sweep's.
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
    Ordering,
    Request,
    ServiceError,
    Spoc,
    ValidationFailed,
    Watch,
    WatchOutcome,
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
    VendorAlert,
)
from spoc.plugins.events.program import get_or_404
from spoc.plugins.events.settings import EventsSettings

VENDOR_CONTRACT = "events.vendor_contract"
DELIVERABLE_OVERDUE = "deliverable_overdue"
CERTIFICATE_MISSING = "certificate_missing"
NOT_CHECKED_IN = "not_checked_in"
DESK = Actor.system("Event desk")
ALERT = "events:vendor:"  # + the alert's key: the cause of its watch, on the event's subject
# A due alert the sweep task has not opened is looked at again this much later.
RETRY = timedelta(minutes=1)
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


def _alert(
    spoc: Spoc,
    session: Session,
    event: Event,
    vendor: Vendor,
    cause: str,
    due: datetime,
    reason: str,
    deliverable: Deliverable | None = None,
) -> None:
    key = f"{cause}:{vendor.id}:{deliverable.id if deliverable else 0}"
    session.add(
        VendorAlert(
            key=key,
            vendor_id=vendor.id,
            deliverable_id=deliverable.id if deliverable else None,
            cause=cause,
            state=WAITING,
        )
    )
    spoc.watches.arm(session, ALERT + key, due, subject_id=event.subject_id, reason=reason)


def _team(settings: EventsSettings, cause: str) -> str:
    return settings.operations_team if cause == NOT_CHECKED_IN else settings.vendor_team


def add_vendor(spoc: Spoc, settings: EventsSettings, event_id: int, plan: VendorPlan) -> Vendor:
    with spoc.db.transaction() as session:
        event = get_or_404(session, Event, event_id, "event")
        if session.scalar(
            select(Vendor.id).where(Vendor.event_id == event_id, Vendor.code == plan.code)
        ):
            raise ValidationFailed(
                "duplicate vendor", {"code": f"{plan.code} exists for this event"}
            )
        return insert_vendor(spoc, settings, session, event, plan)


def insert_vendor(
    spoc: Spoc, settings: EventsSettings, session: Session, event: Event, plan: VendorPlan
) -> Vendor:
    """A new vendor of ``event`` and its triggers, in the caller's transaction."""
    email = valid_email(plan.onsite_email)
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
    _alert(
        spoc,
        session,
        event,
        vendor,
        CERTIFICATE_MISSING,
        event.starts_at - timedelta(days=days),
        f"{vendor.name}: no valid insurance certificate {days} days before the event",
    )
    if event.load_in_starts_at is not None:
        grace = settings.check_in_grace_minutes
        _alert(
            spoc,
            session,
            event,
            vendor,
            NOT_CHECKED_IN,
            event.load_in_starts_at + timedelta(minutes=grace),
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
        event = session.get(Event, vendor.event_id)
        assert event is not None
        _alert(
            spoc,
            session,
            event,
            vendor,
            DELIVERABLE_OVERDUE,
            due,
            f"{vendor.name}: deliverable overdue: {deliverable.what}",
            deliverable,
        )
    return deliverable


def _clear(
    spoc: Spoc, session: Session, vendor: Vendor, cause: str, deliverable_id: int | None = None
) -> None:
    """What the alert waited for happened: it will not fire."""
    key = f"{cause}:{vendor.id}:{deliverable_id or 0}"
    cleared = session.execute(
        update(VendorAlert)
        .where(VendorAlert.key == key, VendorAlert.state == WAITING)
        .values(state=CLEARED)
    )
    event = session.get(Event, vendor.event_id)
    if cleared.rowcount and event is not None:  # type: ignore[attr-defined]
        spoc.watches.settle(session, ALERT + key, subject_id=event.subject_id)


def accept_deliverable(spoc: Spoc, deliverable_id: int, actor: Actor) -> Deliverable:
    with spoc.db.transaction() as session:
        deliverable = get_or_404(session, Deliverable, deliverable_id, "deliverable")
        if deliverable.accepted_at is None:
            deliverable.accepted_at = spoc.clock.now()
            deliverable.accepted_by = actor.name or actor.kind.value
            vendor = session.get(Vendor, deliverable.vendor_id)
            assert vendor is not None
            _clear(spoc, session, vendor, DELIVERABLE_OVERDUE, deliverable.id)
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
            _clear(spoc, session, vendor, CERTIFICATE_MISSING)
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
            _clear(spoc, session, vendor, NOT_CHECKED_IN)
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
    """Another worker opened this alert's request first: roll ours back."""


def _still_needed(session: Session, alert: VendorAlert) -> bool:
    vendor = session.get(Vendor, alert.vendor_id)
    if vendor is None:
        return False
    if alert.cause == DELIVERABLE_OVERDUE:
        deliverable = session.get(Deliverable, alert.deliverable_id)
        return deliverable is not None and deliverable.accepted_at is None
    if alert.cause == CERTIFICATE_MISSING:
        event = session.get(Event, vendor.event_id)
        return event is not None and not _covers(vendor, event)
    return vendor.checked_in_at is None


def _what(session: Session, alert: VendorAlert) -> tuple[str, str, str]:
    if alert.cause == DELIVERABLE_OVERDUE:
        deliverable = session.get(Deliverable, alert.deliverable_id)
        assert deliverable is not None
        return (
            "deliverable",
            f"Overdue: {deliverable.what}"[:200],
            f"{deliverable.what} was due {deliverable.due_at:%d %b %Y %H:%M} UTC"
            + (f"; acceptance: {deliverable.acceptance}" if deliverable.acceptance else ""),
        )
    if alert.cause == CERTIFICATE_MISSING:
        return (
            "insurance",
            "Insurance certificate missing",
            "We have no insurance certificate valid through the event.",
        )
    return ("check_in", "Not checked in at load-in", "You have not checked in at the venue yet.")


def _alert_of(session: Session, watch_cause: str) -> VendorAlert | None:
    key = watch_cause.removeprefix(ALERT)
    return session.scalar(select(VendorAlert).where(VendorAlert.key == key))


def open_due_alerts(spoc: Spoc, now: datetime, limit: int) -> int:
    """``spoc_sweep_tasks``: open one request per due alert, exactly once.

    Each alert is dealt with on its own: one whose request cannot be opened (intake refuses
    it, say a malformed contact address) is logged and parked as ``failed`` (its watch
    settled), so it never blocks the alerts due after it. Any other error is logged and the
    alert retried next pass."""
    with spoc.db.reader() as session:
        due = [(w.id, w.cause, w.reason) for w in spoc.watches.due(session, ALERT, now, limit)]
    opened = 0
    for watch_id, cause, reason in due:
        try:
            opened += _open_one(spoc, watch_id, cause, reason)
        except ServiceError:
            log.exception("events: alert %s cannot open its request; parked as failed", cause)
            with spoc.db.transaction() as session:
                if spoc.watches.settle_by_id(session, watch_id):
                    session.execute(
                        update(VendorAlert)
                        .where(VendorAlert.key == cause.removeprefix(ALERT))
                        .where(VendorAlert.state == WAITING)
                        .values(state=FAILED)
                    )
        except Exception:
            log.exception("events: alert %s failed; retried next pass", cause)
    return opened


@dataclass(frozen=True)
class _Filing:
    """The request an alert opens, read before intake's transaction."""

    alert_id: int
    cause: str
    subject_id: int
    fields: dict[str, str]
    requester: dict[str, str]


def _filing(session: Session, alert: VendorAlert) -> _Filing:
    vendor = session.get(Vendor, alert.vendor_id)
    assert vendor is not None
    event = session.get(Event, vendor.event_id)
    assert event is not None
    topic, summary, details = _what(session, alert)
    return _Filing(
        alert.id,
        alert.cause,
        event.subject_id,
        {"vendor_code": vendor.code, "topic": topic, "summary": summary, "details": details},
        {"name": vendor.onsite_name or vendor.name, "email": vendor.onsite_email},
    )


def _open_one(spoc: Spoc, watch_id: int, cause: str, reason: str) -> int:
    """Open the alert's request (1), or clear an alert no longer needed (0)."""
    with spoc.db.reader() as session:
        alert = _alert_of(session, cause)
        alert_id = alert.id if alert is not None else None
        needed = alert is not None and alert.state == WAITING and _still_needed(session, alert)
        filing = _filing(session, alert) if alert is not None and needed else None
    if filing is None:
        with spoc.db.transaction() as session:
            if spoc.watches.settle_by_id(session, watch_id) and alert_id is not None:
                session.execute(
                    update(VendorAlert)
                    .where(VendorAlert.id == alert_id, VendorAlert.state == WAITING)
                    .values(state=CLEARED)
                )
        return 0
    team = _team(spoc.plugin_settings("events", EventsSettings), filing.cause)

    def claim(session: Session, request: Request, _token: str) -> None:
        if not spoc.watches.settle_by_id(session, watch_id):
            raise _Taken
        session.execute(
            update(VendorAlert)
            .where(VendorAlert.id == filing.alert_id)
            .values(state=OPENED, request_id=request.id)
        )
        spoc.watches.arm(
            session,
            f"events:{filing.cause}",
            spoc.clock.now(),
            request_id=request.id,
            escalate_to=team,
            reason=reason,
        )

    try:
        spoc.requests.create_with_tracking_link(
            type_key=VENDOR_CONTRACT,
            fields=filing.fields,
            requester=filing.requester,
            subject_id=filing.subject_id,
            actor=DESK,
            on_issued=claim,
        )
    except _Taken:
        return 0
    return 1


def on_watch_due(watch: Watch, session: Session, now: datetime) -> WatchOutcome | None:
    """``spoc_watch_due``, in the sweep's transaction.

    An opened alert's escalation (``events:<cause>`` on its request): the sweep escalates the
    request as armed; the alert is marked ``escalated`` with it. A due alert the task has not
    opened (``events:vendor:<key>``): cleared if no longer needed, else left armed for the
    task's next pass."""
    if not watch.cause.startswith(ALERT):
        session.execute(
            update(VendorAlert)
            .where(VendorAlert.request_id == watch.request_id, VendorAlert.state == OPENED)
            .values(state=ESCALATED)
        )
        return None
    alert = _alert_of(session, watch.cause)
    if alert is None or alert.state != WAITING:
        return None
    if not _still_needed(session, alert):
        alert.state = CLEARED
        return None
    return WatchOutcome(rearm_at=now + RETRY)
