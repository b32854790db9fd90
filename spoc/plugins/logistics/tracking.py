"""Reading tracking: what a viewer may see of a shipment, and the answer to "where is my
order?".

Privacy (DOMAINS.md): someone holding only a tracking number sees city-level locations and
no consignee details; the full address and proof of delivery only the verified account (a
contact whose identity the SPOC checked, or staff).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc import Spoc
from spoc.plugins.logistics.models import (
    Order,
    Shipment,
    TrackingEvent,
    TrackingStatus,
    VerifiedContact,
)

HISTORY_LIMIT = 100


class EventView(BaseModel):
    occurred_at: datetime
    status: TrackingStatus
    status_label: str
    city: str
    country: str
    description: str


class ShipmentView(BaseModel):
    """A shipment as one viewer may see it; the private fields are ``None`` when masked."""

    carrier: str
    tracking_number: str
    mode: str
    status: TrackingStatus
    status_label: str
    eta: datetime | None
    promised_by: datetime | None
    last_scan_at: datetime | None
    origin: str
    destination: str
    events: list[EventView]
    verified: bool
    order_number: str | None = None
    consignee_name: str | None = None
    destination_address: str | None = None
    proof_of_delivery: str | None = None


def _place(city: str, country: str) -> str:
    return ", ".join(part for part in (city, country) if part)


def find_shipments(session: Session, tracking_number: str, limit: int = 10) -> list[Shipment]:
    return list(
        session.scalars(
            select(Shipment)
            .where(Shipment.tracking_number == tracking_number.strip())
            .order_by(Shipment.id)
            .limit(limit)
        )
    )


def shipments_of_order(session: Session, order_id: int, limit: int = 50) -> list[Shipment]:
    return list(
        session.scalars(
            select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id).limit(limit)
        )
    )


def order_by_number(session: Session, order_number: str) -> Order | None:
    return session.scalar(select(Order).where(Order.order_number == order_number.strip()))


def is_verified(session: Session, account_id: int, email: str | None) -> bool:
    if not email:
        return False
    return (
        session.scalar(
            select(VerifiedContact.id).where(
                VerifiedContact.account_id == account_id,
                VerifiedContact.email == email.strip().lower(),
            )
        )
        is not None
    )


def shipment_view(session: Session, shipment: Shipment, *, verified: bool) -> ShipmentView:
    """The one place that decides what is masked."""
    events = session.scalars(
        select(TrackingEvent)
        .where(TrackingEvent.shipment_id == shipment.id)
        .order_by(TrackingEvent.occurred_at.desc(), TrackingEvent.id.desc())
        .limit(HISTORY_LIMIT)
    )
    status = TrackingStatus(shipment.status)
    view = ShipmentView(
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        mode=shipment.mode,
        status=status,
        status_label=status.label,
        eta=shipment.eta,
        promised_by=shipment.promised_by,
        last_scan_at=shipment.last_scan_at,
        origin=_place(shipment.origin_city, shipment.origin_country),
        destination=_place(shipment.destination_city, shipment.destination_country),
        events=[
            EventView(
                occurred_at=e.occurred_at,
                status=TrackingStatus(e.status),
                status_label=TrackingStatus(e.status).label,
                city=e.city,
                country=e.country,
                description=e.description,
            )
            for e in events
        ],
        verified=verified,
    )
    if verified:
        order = session.get(Order, shipment.order_id)
        view.order_number = order.order_number if order else None
        view.consignee_name = shipment.consignee_name
        view.destination_address = shipment.destination_address
        view.proof_of_delivery = shipment.proof_of_delivery
    return view


def public_tracking(spoc: Spoc, tracking_number: str) -> list[ShipmentView]:
    """What anyone holding the tracking number sees: city level, nothing about the consignee."""
    with spoc.db.reader() as session:
        return [
            shipment_view(session, s, verified=False)
            for s in find_shipments(session, tracking_number)
        ]


def account_tracking(
    spoc: Spoc, tracking_number: str, email: str | None, *, staff: bool = False
) -> list[ShipmentView]:
    """Full details for staff and for contacts verified for the shipment's account."""
    with spoc.db.reader() as session:
        views = []
        for shipment in find_shipments(session, tracking_number):
            order = session.get(Order, shipment.order_id)
            verified = staff or (
                order is not None and is_verified(session, order.account_id, email)
            )
            views.append(shipment_view(session, shipment, verified=verified))
        return views


@dataclass(frozen=True)
class Answer:
    text: str
    shipments: int


def _time(instant: datetime | None) -> str:
    return instant.strftime("%a %d %b %Y %H:%M UTC") if instant else "not known yet"


def describe(view: ShipmentView, history: int = 10) -> str:
    lines = [
        f"{view.carrier} {view.tracking_number}: {view.status_label}"
        + (f", expected {_time(view.eta)}" if view.eta else ""),
        f"From {view.origin or '?'} to {view.destination or '?'}; "
        f"last scan {_time(view.last_scan_at)}.",
    ]
    for event in view.events[:history]:
        place = _place(event.city, event.country)
        lines.append(
            f"  {_time(event.occurred_at)}  {event.status_label}"
            + (f" — {place}" if place else "")
            + (f" ({event.description})" if event.description else "")
        )
    return "\n".join(lines)


def where_is_my_order(spoc: Spoc, order_number: str, tracking_number: str = "") -> Answer | None:
    """The answer from tracking, city level only (it goes by mail); None if the order is not
    known or has no shipment yet."""
    with spoc.db.reader() as session:
        order = order_by_number(session, order_number)
        if order is None:
            return None
        shipments = shipments_of_order(session, order.id)
        if tracking_number:
            shipments = [s for s in shipments if s.tracking_number == tracking_number.strip()]
        if not shipments:
            return None
        views = [shipment_view(session, s, verified=False) for s in shipments]
    body = "\n\n".join(describe(v) for v in views)
    text = (
        f"Here is where order {order.order_number} is, from the carriers' tracking:\n\n{body}\n\n"
        "If this does not answer your question, reply and tell us: we will look into it."
    )
    return Answer(text, len(views))
