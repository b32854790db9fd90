"""Proactive exceptions: the control tower opens a request before the customer asks.

:func:`detect` runs in every core sweep pass (``spoc sweep``, ``spoc worker``) as the
plugin's ``spoc_sweep_tasks``, at the start of the pass: it finds shipments that went stale
(no scan beyond the domestic or international threshold) or whose new events raised damage,
loss, a customs hold, repeated failed deliveries or an ETA slip, and opens one request per
shipment and cause for the account's SPOC. The request, its ``logistics_exceptions`` row
(unique on shipment and cause) and the watches of its escalations (see
:mod:`spoc.plugins.logistics.escalation`) are written in one transaction, so a second worker
racing on the same shipment rolls back instead of opening a duplicate; the same pass's watch
stage escalates it. When a shipment is delivered, the delay-type requests it caused are
resolved by the system with a note (damage and loss stay open: they may lead to a claim).
The customer notice is durable: the exception row is written ``notice_due`` with the request,
and the control tower's message clears it in the message's own write; whatever a crash left
due, the next pass tells (once).

Every query is an index range bounded by a limit; none scans all shipments.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spoc import Actor, Request, ServiceError, Spoc, Status, request_states
from spoc.plugins.logistics import escalation
from spoc.plugins.logistics.forms import DELIVERY_EXCEPTION, ExceptionKind
from spoc.plugins.logistics.models import (
    Cause,
    Order,
    Shipment,
    ShipmentException,
    TrackingStatus,
)
from spoc.plugins.logistics.settings import LogisticsSettings, settings_of

TOWER = Actor.system("Control tower")
# Causes that delivery settles: the goods arrived, so the delay (or the hold) is over. Damage
# and loss stay open for the SPOC: they may lead to a claim.
SETTLED_BY_DELIVERY = frozenset(
    {Cause.STALE, Cause.ETA_SLIP, Cause.CUSTOMS_HOLD, Cause.FAILED_ATTEMPTS}
)
KIND_FOR: dict[Cause, ExceptionKind] = {
    Cause.STALE: ExceptionKind.DELAY,
    Cause.ETA_SLIP: ExceptionKind.DELAY,
    Cause.DAMAGE: ExceptionKind.DAMAGE,
    Cause.LOSS: ExceptionKind.LOSS,
    Cause.CUSTOMS_HOLD: ExceptionKind.CUSTOMS_HOLD,
    Cause.FAILED_ATTEMPTS: ExceptionKind.RECIPIENT_UNAVAILABLE,
}


@dataclass(frozen=True)
class Finding:
    cause: Cause
    level: int  # 1 = carrier desk; 2 = also the account manager's authority
    problem: str  # completes "your shipment ..."


@dataclass
class DetectReport:
    opened: int = 0
    raised: int = 0  # existing exceptions that now need the authority too
    duplicates: int = 0
    resolved: int = 0  # requests the system resolved because the shipment was delivered
    late_notices: int = 0  # customer notices a previous pass left untold, posted now
    looked_at: int = 0
    opened_requests: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"looked at {self.looked_at} shipments, opened {self.opened} requests, "
            f"raised {self.raised} to the authority, {self.duplicates} already open, "
            f"resolved {self.resolved} on delivery, {self.late_notices} late customer notices"
        )

    @property
    def done(self) -> int:
        return self.opened + self.raised + self.resolved + self.late_notices


def findings(shipment: Shipment, settings: LogisticsSettings, now: datetime) -> list[Finding]:
    """What the shipment's current projection says is wrong (staleness apart)."""
    found = []
    if shipment.damage_reported:
        found.append(Finding(Cause.DAMAGE, 1, "was reported damaged by the carrier"))
    if shipment.loss_reported:
        found.append(Finding(Cause.LOSS, 1, "was reported lost by the carrier"))
    if shipment.customs_hold:
        found.append(Finding(Cause.CUSTOMS_HOLD, 1, "is held at customs"))
    if shipment.failed_attempts >= settings.failed_attempts:
        found.append(
            Finding(
                Cause.FAILED_ATTEMPTS,
                1,
                f"could not be delivered after {shipment.failed_attempts} attempts; we will "
                "contact the consignee before it goes back to the sender",
            )
        )
    if shipment.eta is not None and shipment.promised_by is not None:
        slip = shipment.eta - shipment.promised_by
        if slip > timedelta(hours=settings.eta_slip_hours):
            level = 2 if slip > timedelta(hours=settings.eta_slip_authority_hours) else 1
            found.append(
                Finding(
                    Cause.ETA_SLIP,
                    level,
                    f"is now expected {escalation.when(shipment.eta)}, later than the promised "
                    f"{escalation.when(shipment.promised_by)}",
                )
            )
    return found


def detect(spoc: Spoc, limit: int | None = None) -> DetectReport:
    """Open the proactive requests that are due (see the module docstring). Idempotent: a
    second run, or a second worker at once, opens nothing new."""
    settings = settings_of(spoc)
    limit = limit or settings.detect_batch
    now = spoc.clock.now()
    report = DetectReport()
    with spoc.db.reader() as session:
        due = dict(
            session.execute(
                select(Shipment.id, Shipment.revision)
                .where(Shipment.exception_due.is_(True))
                .order_by(Shipment.id)
                .limit(limit)
            ).all()
        )
        stale: list[int] = []
        for domestic, hours in (
            (True, settings.stale_domestic_hours),
            (False, settings.stale_international_hours),
        ):
            stale += session.scalars(
                select(Shipment.id)
                .where(
                    Shipment.stale_watch.is_(True),
                    Shipment.domestic.is_(domestic),
                    Shipment.last_scan_at < now - timedelta(hours=hours),
                )
                .order_by(Shipment.last_scan_at)
                .limit(limit)
            )
        ids = set(due) | set(stale)
        shipments: dict[int, Shipment] = {}
        orders: dict[int, Order] = {}
        existing: dict[tuple[int, str], ShipmentException] = {}
        if ids:  # a pass with nothing due costs its first queries only
            shipments = {
                s.id: s for s in session.scalars(select(Shipment).where(Shipment.id.in_(ids)))
            }
            orders = {
                o.id: o
                for o in session.scalars(
                    select(Order).where(Order.id.in_({s.order_id for s in shipments.values()}))
                )
            }
            existing = {
                (e.shipment_id, e.cause): e
                for e in session.scalars(
                    select(ShipmentException).where(ShipmentException.shipment_id.in_(ids))
                )
            }
    report.looked_at = len(ids)
    work: list[tuple[Shipment, Finding]] = []
    for shipment_id in stale:
        shipment = shipments[shipment_id]
        assert shipment.last_scan_at is not None
        work.append(
            (
                shipment,
                Finding(
                    Cause.STALE,
                    1,
                    f"has had no carrier scan since {escalation.when(shipment.last_scan_at)}",
                ),
            )
        )
    delivered = [shipments[i] for i in due if shipments[i].status == TrackingStatus.DELIVERED.value]
    for shipment_id in due:
        shipment = shipments[shipment_id]
        found = findings(shipment, settings, now)
        if shipment in delivered:  # the goods arrived: only damage or loss still matter
            found = [f for f in found if f.cause not in SETTLED_BY_DELIVERY]
        work += [(shipment, f) for f in found]
    for shipment, finding in work:
        known = existing.get((shipment.id, finding.cause.value))
        if known is None:
            if _open(spoc, settings, shipment, orders[shipment.order_id], finding):
                report.opened += 1
            else:
                report.duplicates += 1
        elif finding.level > known.level_wanted:
            with spoc.db.transaction() as session:
                session.execute(
                    update(ShipmentException)
                    .where(ShipmentException.id == known.id)
                    .values(level_wanted=finding.level)
                )
                escalation.arm_authority(spoc, session, known.request_id, known.cause, known.reason)
            report.raised += 1
        elif finding.cause is Cause.STALE:
            _stop_watching(spoc, shipment.id)  # flagged before: never twice per shipment
    for shipment in delivered:
        mine = [e for (sid, _), e in existing.items() if sid == shipment.id]
        if mine:
            report.resolved += _resolve_on_delivery(spoc, shipment, mine)
    report.late_notices = _tell_due(spoc, limit)
    if due:
        with spoc.db.transaction() as session:
            for shipment_id, revision in due.items():
                # Only if no newer batch moved the shipment since we read it.
                session.execute(
                    update(Shipment)
                    .where(Shipment.id == shipment_id, Shipment.revision == revision)
                    .values(exception_due=False)
                )
    return report


def _stop_watching(spoc: Spoc, shipment_id: int) -> None:
    with spoc.db.transaction() as session:
        session.execute(
            update(Shipment).where(Shipment.id == shipment_id).values(stale_watch=False)
        )


def _open(
    spoc: Spoc, settings: LogisticsSettings, shipment: Shipment, order: Order, finding: Finding
) -> bool:
    """Open the request and its exception row in one transaction; False if one exists."""
    reason = f"Shipment {shipment.carrier} {shipment.tracking_number} {finding.problem}"

    def record(session: Session, request: Request, _token: str) -> None:
        session.add(
            ShipmentException(
                shipment_id=shipment.id,
                cause=finding.cause.value,
                request_id=request.id,
                reason=reason[:500],
                opened_at=spoc.clock.now(),
                level_wanted=finding.level,
                notice_due=settings.notify_customer,
            )
        )
        if finding.cause is Cause.STALE:
            session.execute(
                update(Shipment).where(Shipment.id == shipment.id).values(stale_watch=False)
            )
        session.flush()  # the unique (shipment, cause) refuses a racing duplicate here
        escalation.arm_exception(
            spoc, session, request.id, finding.cause.value, reason, finding.level
        )

    try:
        request, _ = spoc.requests.create_with_tracking_link(
            type_key=DELIVERY_EXCEPTION,
            fields={
                "summary": f"Order {order.order_number}: shipment {finding.problem}"[:200],
                "kind": KIND_FOR[finding.cause].value,
                "tracking_number": shipment.tracking_number,
                "details": f"Opened by the control tower. {reason}.",
            },
            requester={"name": order.customer_name, "email": order.customer_email},
            subject_id=order.account_id,
            actor=TOWER,
            on_issued=record,
        )
    except IntegrityError:
        return False
    if settings.notify_customer:
        with contextlib.suppress(ServiceError):  # still due: the next pass tells them
            tell_customer(spoc, request.id, order, shipment, finding.problem)
    return True


class _AlreadyTold(Exception):
    """Another worker posted the notice first: roll back this one's message."""


def tell_customer(
    spoc: Spoc, request_id: int, order: Order, shipment: Shipment, problem: str
) -> bool:
    """A public reply by the control tower (the system): mailed to the customer, and it meets
    the request's first-response clock. The exception's ``notice_due`` is cleared in the same
    write as the message and its mail, by a conditional update: posted at most once, even by
    two workers at once. False if it was told already."""

    def mark(session: Session, _request: Request) -> None:
        told = session.scalar(
            update(ShipmentException)
            .where(
                ShipmentException.request_id == request_id,
                ShipmentException.notice_due.is_(True),
            )
            .values(notice_due=False, customer_told_at=spoc.clock.now())
            .returning(ShipmentException.id)
        )
        if told is None:
            raise _AlreadyTold

    try:
        spoc.requests.post_message(
            request_id,
            TOWER,
            f"Hello {order.customer_name},\n\nwe noticed that your shipment "
            f"{shipment.carrier} {shipment.tracking_number} (order {order.order_number}) "
            f"{problem}. We have raised it with the carrier and will keep you informed here.",
            apply=mark,
        )
    except _AlreadyTold:
        return False
    return True


def _tell_due(spoc: Spoc, limit: int) -> int:
    """Post the customer notices a crash (or an error) left due after their request was
    opened; a request that finished or was resolved meanwhile needs none any more."""
    with spoc.db.reader() as session:
        rows = session.execute(
            select(ShipmentException, Shipment, Order)
            .join(Shipment, Shipment.id == ShipmentException.shipment_id)
            .join(Order, Order.id == Shipment.order_id)
            .where(ShipmentException.notice_due.is_(True))
            .order_by(ShipmentException.id)
            .limit(limit)
        ).all()
        states = request_states(session, (row[0].request_id for row in rows)) if rows else {}
    told = 0
    for exception, shipment, order in rows:
        state = states.get(exception.request_id)
        if state is None or not state.is_unresolved:
            with spoc.db.transaction() as session:
                session.execute(
                    update(ShipmentException)
                    .where(ShipmentException.id == exception.id)
                    .values(notice_due=False)
                )
            continue
        prefix = f"Shipment {shipment.carrier} {shipment.tracking_number} "
        problem = exception.reason.removeprefix(prefix)
        try:
            if tell_customer(spoc, exception.request_id, order, shipment, problem):
                told += 1
        except ServiceError:
            continue  # the request changed meanwhile: the next pass looks again
    return told


def _resolve_on_delivery(
    spoc: Spoc, shipment: Shipment, exceptions: list[ShipmentException]
) -> int:
    """The shipment was delivered: resolve, as the system and with a note the customer is
    mailed, the delay-type requests it caused. Each exception is claimed first by a
    conditional update (``resolved_at`` is null), so two workers never both resolve it, and a
    request the customer reopens later is left alone."""
    pending = [
        (e.id, e.request_id, e.cause)
        for e in exceptions
        if e.resolved_at is None and e.cause in {c.value for c in SETTLED_BY_DELIVERY}
    ]
    resolved = 0
    when = escalation.when(shipment.delivered_at) if shipment.delivered_at else "now"
    for exception_id, request_id, cause in pending:
        with spoc.db.transaction() as session:
            claimed = session.scalar(
                update(ShipmentException)
                .where(
                    ShipmentException.id == exception_id,
                    ShipmentException.resolved_at.is_(None),
                )
                .values(resolved_at=spoc.clock.now())
                .returning(ShipmentException.id)
            )
            if claimed is not None:
                escalation.settle_exception(spoc, session, request_id, cause)
        if claimed is None:
            continue  # another worker has it
        current = spoc.requests.get(request_id, TOWER)
        if current.status not in (Status.NEW, Status.OPEN, Status.WAITING):
            continue
        reason = (
            f"Shipment {shipment.carrier} {shipment.tracking_number} was delivered {when}. "
            "If something is still wrong, reply and we will reopen this."
        )
        try:
            if current.status is Status.NEW:
                spoc.requests.transition(request_id, Status.OPEN, TOWER, reason="delivered")
            spoc.requests.transition(request_id, Status.RESOLVED, TOWER, reason=reason)
        except ServiceError:
            continue  # someone changed it meanwhile: the SPOC decides
        resolved += 1
    return resolved
