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
    Contact,
    NotFoundError,
    PermissionDenied,
    RecordId,
    Request,
    Role,
    Spoc,
    ValidationFailed,
)
from spoc.plugins.logistics.detect import TOWER
from spoc.plugins.logistics.escalation import arm_claim
from spoc.plugins.logistics.forms import ACCOUNT, AddressChangeForm, ClaimForm
from spoc.plugins.logistics.models import (
    AddressChange,
    Claim,
    Order,
    Shipment,
    TransportMode,
    VerifiedContact,
)
from spoc.plugins.logistics.settings import LogisticsSettings, settings_of
from spoc.plugins.logistics.tracking import is_verified, proven_contact

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
    account_id: RecordId
    customer_name: str = Field(min_length=1, max_length=200)
    customer_email: EmailStr
    shipments: list[ShipmentIn] = Field(default_factory=list, max_length=100)


def _require_staff(actor: Actor, what: str) -> None:
    if actor.kind is ActorKind.AGENT and actor.role not in STAFF:
        raise PermissionDenied(f"a {actor.role_name} may not {what}")
    if actor.kind is ActorKind.REQUESTER:
        raise PermissionDenied(f"a requester may not {what}")


def is_account(spoc: Spoc, subject_id: int) -> bool:
    """Whether the subject is a customer account (subjects never change kind)."""
    subject = spoc.directory.subject(subject_id)
    return subject is not None and subject.kind == ACCOUNT


def add_order(spoc: Spoc, actor: Actor, order: OrderIn) -> Order:
    _require_staff(actor, "add orders")
    now = spoc.clock.now()
    if not is_account(spoc, order.account_id):
        raise ValidationFailed(
            "unknown account", {"account_id": f"no {ACCOUNT} subject {order.account_id}"}
        )
    with spoc.db.transaction() as session:
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
    if not is_account(spoc, account_id):
        raise ValidationFailed("unknown account", {"account_id": "not a customer account"})
    with spoc.db.transaction() as session:
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
    is a verified contact of the shipment's account. Refusals are audited too, then raised.
    With a request, the audit row, the change and the request's timeline entry are one write
    (``record_event``), so the request's history shows every change and refusal."""
    _require_staff(actor, "change delivery addresses")
    email = requested_by.strip().lower()
    number, address = tracking_number.strip(), new_address.strip()
    with spoc.db.reader() as session:
        found = _requested_shipment(session, number)
        if found is None:
            raise NotFoundError(f"no shipment with tracking number {number!r}")
        order = session.get(Order, found.order_id)
        verified = order is not None and is_verified(session, order.account_id, email)
    shipment_id = found.id
    audits: list[AddressChange] = []

    def apply(session: Session, _request: Request | None = None) -> None:
        shipment = session.get(Shipment, shipment_id)
        assert shipment is not None
        audit = AddressChange(
            shipment_id=shipment.id,
            request_id=request_id,
            requested_by=email,
            old_address=shipment.destination_address,
            new_address=address,
            outcome="applied" if verified else "refused",
            reason="identity verified" if verified else "identity not verified",
            actor=actor.name or actor.kind.value,
            at=spoc.clock.now(),
        )
        session.add(audit)
        if verified:
            shipment.destination_address = address
        audits.append(audit)

    if request_id is None:
        with spoc.db.transaction() as session:
            apply(session)
    else:
        spoc.requests.record_event(
            request_id,
            actor,
            kind="logistics.address_applied" if verified else "logistics.address_refused",
            summary=(
                f"Delivery address of {number} changed, as asked by {email}"
                if verified
                else f"Address change for {number} refused: {email} is not a verified contact"
            ),
            data={"tracking_number": number, "requested_by": email},
            apply=apply,
        )
    if not verified:
        raise PermissionDenied(
            f"{email} is not a verified contact of this account: verify their identity first "
            "(interception fraud starts with an address change)"
        )
    return audits[0]


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


def open_claim(spoc: Spoc, session: Session, request: Request, fields: ClaimForm) -> Claim:
    """A claim is filed: record its deadline, and arm the watch that brings in the claims team
    before it, in the intake transaction, so the sweep counts it down from the moment the
    request exists."""
    settings = settings_of(spoc)
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
        request_id=request.id,
        shipment_id=shipment.id if shipment else None,
        mode=mode.value,
        kind=fields.kind.value,
        basis=basis,
        deadline_at=deadline,
        created_at=spoc.clock.now(),
    )
    session.add(claim)
    if deadline is not None:
        arm_claim(spoc, session, request.id, deadline)
    return claim


def _requested_shipment(session: Session, tracking_number: str) -> Shipment | None:
    return session.scalar(
        select(Shipment)
        .where(Shipment.tracking_number == tracking_number)
        .order_by(Shipment.id)
        .limit(1)
    )


UNPROVEN = (
    "email matches a verified contact; identity not proven — call back on the number on file "
    "before applying"
)
PROVEN = "verified contact, signed in by magic link: the SPOC confirms, then applies"


def audit_address_request(
    spoc: Spoc, session: Session, request: Request, fields: AddressChangeForm
) -> None:
    """An address change was asked for: audit it with the request, in the intake transaction.

    Only a requester who proved their email by the portal's magic link (filed while signed in)
    and is a verified contact of the shipment's account is pending for the SPOC to confirm and
    apply. Everyone else is refused until their identity is verified — also when the typed
    email matches a verified contact: anyone can type a customer's address, and interception
    fraud starts with an address change. The audit says which it was."""
    shipment = _requested_shipment(session, fields.tracking_number)
    if shipment is None:
        return  # unknown tracking number: nothing to change; the SPOC answers
    contact = session.get(Contact, request.contact_id)
    email = contact.email if contact is not None else ""
    order = session.get(Order, shipment.order_id)
    matches = order is not None and is_verified(session, order.account_id, email)
    signed_in = proven_contact()
    proven = matches and signed_in is not None and signed_in.id == request.contact_id
    if proven:
        outcome, reason = "pending", PROVEN
    else:
        outcome, reason = "refused", UNPROVEN if matches else "identity not verified"
    session.add(
        AddressChange(
            shipment_id=shipment.id,
            request_id=request.id,
            requested_by=email,
            old_address=shipment.destination_address,
            new_address=fields.new_address,
            outcome=outcome,
            reason=reason,
            actor="Control tower",
            at=spoc.clock.now(),
        )
    )


def answer_address_request(spoc: Spoc, request_id: int) -> None:
    """After intake: tell the requester of a refusal (as the system, so it is mailed), and
    tell the SPOC how to go on when the requester is, or claims to be, a verified contact."""
    with spoc.db.reader() as session:
        audit = session.scalar(
            select(AddressChange)
            .where(AddressChange.request_id == request_id)
            .order_by(AddressChange.id)
            .limit(1)
        )
    if audit is None:
        return
    apply = (
        "spoc logistics apply-address-change "
        f"{spoc.requests.reference(request_id)} --by <your name>"
    )
    if audit.outcome == "pending":
        spoc.requests.post_message(
            request_id,
            TOWER,
            "The requester signed in with the portal's magic link and is a verified contact "
            f"of this account. Confirm the new address with them, then apply it: {apply}",
            internal=True,
        )
        return
    if audit.reason == UNPROVEN:
        spoc.requests.post_message(
            request_id,
            TOWER,
            "The requester's email matches a verified contact of this account, but their "
            "identity is not proven (the email was typed into the form). Call back on the "
            "number on file before applying; only then: " + apply,
            internal=True,
        )
    spoc.requests.post_message(
        request_id,
        TOWER,
        "Before we change where goods are delivered we must verify who you are: your "
        "account manager will call you on the number we have on file. Until then the "
        "address stays as it is.",
    )
