"""Reading tracking: what a viewer may see of a shipment, and the answer to "where is my
order?".

Privacy (DOMAINS.md): someone holding only a tracking number sees city-level locations and
no consignee details; the full address and proof of delivery only the verified account (a
contact whose identity the SPOC checked *and* who proved their email with the portal's magic
link, or staff). The carrier's free-text event descriptions ("left with neighbour at no. 14")
are private too. Someone holding only an order number learns each shipment's status and ETA,
not its tracking number or route.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import has_request_context
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc import Contact, Spoc, signed_in_contact
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
    # The carrier's free text names neighbours and doors: only for the verified account.
    description: str | None = None


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


class StatusView(BaseModel):
    """A shipment as someone holding only the order number may see it: status and ETA, no
    tracking number (it would open the city-level history) and no route."""

    position: int
    count: int
    status: TrackingStatus
    status_label: str
    eta: datetime | None
    promised_by: datetime | None
    last_scan_at: datetime | None


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


def proven_contact() -> Contact | None:
    """The portal contact signed in by magic link on this browser (their email proven), or
    ``None`` — also outside a web request (the worker, the CLI). An email typed into a form
    proves nothing: anyone can type a customer's address."""
    return signed_in_contact() if has_request_context() else None


def proven_verified(session: Session, account_id: int) -> bool:
    """Whether the magic-link-proven contact of this browser is a verified contact of the
    account."""
    contact = proven_contact()
    return contact is not None and is_verified(session, account_id, contact.email)


def status_view(shipment: Shipment, position: int, count: int) -> StatusView:
    status = TrackingStatus(shipment.status)
    return StatusView(
        position=position,
        count=count,
        status=status,
        status_label=status.label,
        eta=shipment.eta,
        promised_by=shipment.promised_by,
        last_scan_at=shipment.last_scan_at,
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
                description=e.description if verified else None,
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
    """Full details for staff and for contacts verified for the shipment's account. ``email``
    must be proven (a magic-link sign-in), never one typed into a form."""
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
    # Never the carrier's free text: this goes by mail.
    for event in view.events[:history]:
        place = _place(event.city, event.country)
        lines.append(
            f"  {_time(event.occurred_at)}  {event.status_label}" + (f" — {place}" if place else "")
        )
    return "\n".join(lines)


def describe_status(view: StatusView) -> str:
    return (
        f"Shipment {view.position} of {view.count}: {view.status_label}"
        + (f", expected {_time(view.eta)}" if view.eta else "")
        + f"; last scan {_time(view.last_scan_at)}."
    )


def where_is_my_order(
    spoc: Spoc, order_number: str, tracking_number: str = "", *, verified: bool = False
) -> Answer | None:
    """The answer from tracking (it goes by mail, so city level at most); None if the order
    is not known or has no shipment yet.

    An order number alone is easy to come by (an invoice, a guess): it earns each shipment's
    status and ETA only. Tracking numbers and routes need the tracking number too, or a
    ``verified`` requester (a magic-link-proven verified contact of the account)."""
    with spoc.db.reader() as session:
        order = order_by_number(session, order_number)
        if order is None:
            return None
        shipments = shipments_of_order(session, order.id)
        if tracking_number:
            shipments = [s for s in shipments if s.tracking_number == tracking_number.strip()]
        if not shipments:
            return None
        if tracking_number or verified:
            body = "\n\n".join(
                describe(shipment_view(session, s, verified=False)) for s in shipments
            )
        else:
            body = "\n".join(
                describe_status(status_view(s, i, len(shipments)))
                for i, s in enumerate(shipments, 1)
            )
            body += (
                "\n\nFor tracking numbers and each shipment's route, give us the tracking "
                "number, or sign in with your email if you are a verified contact of the account."
            )
    text = (
        f"Here is where order {order.order_number} is, from the carriers' tracking:\n\n{body}\n\n"
        "If this does not answer your question, reply and tell us: we will look into it."
    )
    return Answer(text, len(shipments))
