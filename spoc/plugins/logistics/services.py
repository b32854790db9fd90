"""Writes other than tracking ingest: orders and shipments, identity checks, address changes
(refused until the requester's identity is verified, every attempt audited), claims."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spoc import (
    Actor,
    ActorKind,
    Model,
    NotFoundError,
    PermissionDenied,
    Role,
    Spoc,
    ValidationFailed,
)
from spoc.plugins.logistics.forms import ACCOUNT, ClaimForm
from spoc.plugins.logistics.models import (
    AddressChange,
    Claim,
    Order,
    Shipment,
    TransportMode,
    VerifiedContact,
)
from spoc.plugins.logistics.settings import LogisticsSettings

STAFF = (Role.ADMIN, Role.AGENT)


class ShipmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    carrier: str = Field(min_length=1, max_length=40)
    tracking_number: str = Field(min_length=1, max_length=60)
    mode: TransportMode = TransportMode.ROAD
    domestic: bool = True
    promised_from: AwareDatetime | None = None
    promised_by: AwareDatetime | None = None
    origin_city: str = Field(default="", max_length=100)
    origin_country: str = Field(default="", pattern=r"^([A-Z]{2})?$")
    destination_city: str = Field(default="", max_length=100)
    destination_country: str = Field(default="", pattern=r"^([A-Z]{2})?$")
    destination_address: str = Field(default="", max_length=1000)
    consignee_name: str = Field(default="", max_length=200)


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    order_number: str = Field(min_length=1, max_length=60)
    account_id: int
    customer_name: str = Field(min_length=1, max_length=200)
    customer_email: EmailStr
    shipments: list[ShipmentIn] = Field(default_factory=list, max_length=100)


def _require_staff(actor: Actor, what: str) -> None:
    if actor.kind is ActorKind.AGENT and actor.role not in STAFF:
        raise PermissionDenied(f"a {actor.role_name} may not {what}")
    if actor.kind is ActorKind.REQUESTER:
        raise PermissionDenied(f"a requester may not {what}")


def subject_kind(session: Session, subject_id: int) -> str | None:
    """The kind of a subject. The public API has no subject reader yet (see the report), so
    this reads the core's table through the shared metadata, read-only."""
    subjects = Model.metadata.tables["subjects"]
    kind = session.scalar(select(subjects.c.kind).where(subjects.c.id == subject_id))
    return str(kind) if kind is not None else None


def add_order(spoc: Spoc, actor: Actor, order: OrderIn) -> Order:
    _require_staff(actor, "add orders")
    now = spoc.clock.now()
    with spoc.db.transaction() as session:
        if subject_kind(session, order.account_id) != ACCOUNT:
            raise ValidationFailed(
                "unknown account", {"account_id": f"no {ACCOUNT} subject {order.account_id}"}
            )
        if session.scalar(select(Order.id).where(Order.order_number == order.order_number)):
            raise ValidationFailed("duplicate order", {"order_number": "exists already"})
        row = Order(
            order_number=order.order_number,
            account_id=order.account_id,
            customer_name=order.customer_name,
            customer_email=str(order.customer_email).lower(),
            created_at=now,
        )
        session.add(row)
        session.flush()
        for shipment in order.shipments:
            session.add(Shipment(order_id=row.id, created_at=now, **shipment.model_dump()))
        try:
            session.flush()
        except IntegrityError:
            raise ValidationFailed(
                "duplicate shipment",
                {"shipments": "a tracking number is already used by this carrier"},
            ) from None
    return row


def verify_contact(spoc: Spoc, actor: Actor, account_id: int, email: str, method: str) -> None:
    """The SPOC records that they checked who this contact is (call-back, ID document...)."""
    _require_staff(actor, "verify identities")
    if not method.strip():
        raise ValidationFailed("say how you verified", {"method": "required"})
    with spoc.db.transaction() as session:
        if subject_kind(session, account_id) != ACCOUNT:
            raise ValidationFailed("unknown account", {"account_id": "not a customer account"})
        existing = session.scalar(
            select(VerifiedContact).where(
                VerifiedContact.account_id == account_id,
                VerifiedContact.email == email.strip().lower(),
            )
        )
        if existing is not None:
            existing.method, existing.verified_at = method.strip(), spoc.clock.now()
            existing.verified_by = actor.name or actor.kind.value
            return
        session.add(
            VerifiedContact(
                account_id=account_id,
                email=email.strip().lower(),
                method=method.strip()[:200],
                verified_by=actor.name or actor.kind.value,
                verified_at=spoc.clock.now(),
            )
        )


def change_address(
    spoc: Spoc,
    actor: Actor,
    *,
    tracking_number: str,
    new_address: str,
    requested_by: str,
    request_id: int | None = None,
) -> AddressChange:
    """Apply an address change asked for by ``requested_by`` (an email), only if that person
    is a verified contact of the shipment's account. Refusals are audited too, then raised."""
    _require_staff(actor, "change delivery addresses")
    email = requested_by.strip().lower()
    with spoc.db.transaction() as session:
        shipment = session.scalar(
            select(Shipment)
            .where(Shipment.tracking_number == tracking_number.strip())
            .order_by(Shipment.id)
            .limit(1)
        )
        if shipment is None:
            raise NotFoundError(f"no shipment with tracking number {tracking_number!r}")
        order = session.get(Order, shipment.order_id)
        assert order is not None
        from spoc.plugins.logistics.tracking import is_verified

        verified = is_verified(session, order.account_id, email)
        audit = AddressChange(
            shipment_id=shipment.id,
            request_id=request_id,
            requested_by=email,
            old_address=shipment.destination_address,
            new_address=new_address.strip(),
            outcome="applied" if verified else "refused",
            reason="identity verified" if verified else "identity not verified",
            actor=actor.name or actor.kind.value,
            at=spoc.clock.now(),
        )
        session.add(audit)
        if verified:
            shipment.destination_address = new_address.strip()
    if not verified:
        raise PermissionDenied(
            f"{email} is not a verified contact of this account: verify their identity first "
            "(interception fraud starts with an address change)"
        )
    return audit


def address_history(spoc: Spoc, tracking_number: str, limit: int = 50) -> list[AddressChange]:
    with spoc.db.reader() as session:
        return list(
            session.scalars(
                select(AddressChange)
                .join(Shipment, Shipment.id == AddressChange.shipment_id)
                .where(Shipment.tracking_number == tracking_number.strip())
                .order_by(AddressChange.at, AddressChange.id)
                .limit(limit)
            )
        )


def claim_deadline(
    settings: LogisticsSettings, mode: TransportMode, kind: str, delivered_at: datetime | None
) -> datetime | None:
    """When notice must reach the carrier: delivery + the convention's days; None if the
    convention sets no notice period for this kind (loss) or delivery is unknown."""
    days = settings.claim_days.get(mode, {}).get(kind)
    if days is None or delivered_at is None:
        return None
    if days == 0:
        # "At delivery": the notice was due on the delivery note; count to the day's end.
        return datetime.combine(delivered_at.date(), time(23, 59), tzinfo=UTC)
    return delivered_at + timedelta(days=days)


def open_claim(spoc: Spoc, request_id: int, fields: ClaimForm) -> Claim:
    """Called when a claim is filed: record its deadline so the sweep can count it down."""
    from spoc.plugins.logistics.detect import settings_of

    settings = settings_of(spoc)
    with spoc.db.transaction() as session:
        shipment = session.scalar(
            select(Shipment)
            .where(Shipment.tracking_number == fields.tracking_number)
            .order_by(Shipment.id)
            .limit(1)
        )
        mode = TransportMode(shipment.mode) if shipment else TransportMode.ROAD
        delivered = shipment.delivered_at if shipment else None
        basis = "delivery scan" if delivered else ""
        if delivered is None and fields.delivered_on is not None:
            delivered = datetime.combine(fields.delivered_on, time(12, 0), tzinfo=UTC)
            basis = "delivery date given by the customer"
        deadline = claim_deadline(settings, mode, fields.kind.value, delivered)
        if deadline is None:
            basis = basis or "no delivery known"
        claim = Claim(
            request_id=request_id,
            shipment_id=shipment.id if shipment else None,
            mode=mode.value,
            kind=fields.kind.value,
            basis=basis,
            deadline_at=deadline,
            deadline_escalated=deadline is None,
            created_at=spoc.clock.now(),
        )
        session.add(claim)
    return claim


def record_address_request(spoc: Spoc, request_id: int) -> None:
    """A requester asked for an address change: refuse it (audited) unless they are a verified
    contact, in which case the SPOC confirms with them and applies it
    (``spoc logistics apply-address-change``)."""
    from spoc import Request
    from spoc.plugins.logistics.detect import spoc_voice
    from spoc.plugins.logistics.forms import AddressChangeForm
    from spoc.plugins.logistics.tracking import is_verified

    with spoc.db.reader() as session:
        request = session.get(Request, request_id)
        assert request is not None
        email = request.contact.email
        fields = AddressChangeForm.model_validate(request.fields)
        shipment = session.scalar(
            select(Shipment)
            .where(Shipment.tracking_number == fields.tracking_number)
            .order_by(Shipment.id)
            .limit(1)
        )
        order = session.get(Order, shipment.order_id) if shipment else None
        verified = order is not None and is_verified(session, order.account_id, email)
    voice = spoc_voice(spoc, request_id)
    if shipment is None:
        return
    if verified:
        spoc.requests.post_message(
            request_id,
            voice,
            "The requester is a verified contact of this account. Confirm the new address "
            "with them, then apply it: spoc logistics apply-address-change "
            f"{spoc.requests.reference(request_id)}",
            internal=True,
        )
        return
    with spoc.db.transaction() as session:
        session.add(
            AddressChange(
                shipment_id=shipment.id,
                request_id=request_id,
                requested_by=email,
                old_address=shipment.destination_address,
                new_address=fields.new_address,
                outcome="refused",
                reason="identity not verified",
                actor="Control tower",
                at=spoc.clock.now(),
            )
        )
    if voice.kind is ActorKind.AGENT:
        spoc.requests.post_message(
            request_id,
            voice,
            "Before we change where goods are delivered we must verify who you are: your "
            "account manager will call you on the number we have on file. Until then the "
            "address stays as it is.",
        )
