"""The logistics plugin's own tables: orders, shipments, tracking events and what the control
tower did about them. Core tables are referenced, never altered.

Every query the plugin runs has an index here; the comments name the query.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    exists,
    false,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column

from spoc import Model, UTCDateTime, Watch


class TrackingStatus(StrEnum):
    """The normalised status of a carrier event (DOMAINS.md, Logistics)."""

    PENDING = "pending"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    READY_FOR_PICKUP = "ready_for_pickup"
    DELIVERED = "delivered"
    DELIVERY_DELAYED = "delivery_delayed"
    DELIVERY_FAILED = "delivery_failed"
    ON_HOLD = "on_hold"
    RETURN_TO_SENDER = "return_to_sender"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


# A shipment in one of these states is finished: it can no longer go stale.
FINISHED = frozenset({TrackingStatus.DELIVERED, TrackingStatus.CANCELLED})


class TransportMode(StrEnum):
    ROAD = "road"
    AIR = "air"
    SEA = "sea"
    PARCEL = "parcel"


class Cause(StrEnum):
    """Why the control tower opened a request about a shipment (one request per cause)."""

    STALE = "stale"
    ETA_SLIP = "eta_slip"
    DAMAGE = "damage"
    LOSS = "loss"
    CUSTOMS_HOLD = "customs_hold"
    FAILED_ATTEMPTS = "failed_attempts"


class Order(Model):
    __tablename__ = "logistics_orders"
    # The accounts a signed-in requester belongs to (spoc_contact_subjects).
    __table_args__ = (Index("ix_logistics_orders_customer_email", "customer_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_number: Mapped[str] = mapped_column(String(60), unique=True)
    # The customer account (a subject of kind logistics.account); its SPOC is the account
    # manager. Indexed for "orders of this account".
    account_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="RESTRICT"), index=True
    )
    # Who at the customer hears about this order, also when the control tower acts first.
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Shipment(Model):
    __tablename__ = "logistics_shipments"
    __table_args__ = (
        # Tracking numbers are unique per carrier; the leading column serves lookups by
        # tracking number alone (the public tracking page, CSV and API ingest).
        UniqueConstraint("tracking_number", "carrier"),
        # detect(): shipments whose last scan is older than the threshold, still watched.
        Index("ix_logistics_shipments_stale", "stale_watch", "domestic", "last_scan_at"),
        # detect(): shipments whose new events may have raised an exception.
        Index("ix_logistics_shipments_exception_due", "exception_due", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("logistics_orders.id", ondelete="CASCADE"), index=True
    )
    carrier: Mapped[str] = mapped_column(String(40))
    tracking_number: Mapped[str] = mapped_column(String(60))
    mode: Mapped[str] = mapped_column(String(10))
    domestic: Mapped[bool] = mapped_column(Boolean)
    promised_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    promised_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # City-level data anyone with the tracking number may see ...
    origin_city: Mapped[str] = mapped_column(String(100), default="")
    origin_country: Mapped[str] = mapped_column(String(2), default="")
    destination_city: Mapped[str] = mapped_column(String(100), default="")
    destination_country: Mapped[str] = mapped_column(String(2), default="")
    # ... and what only the verified account sees.
    destination_address: Mapped[str] = mapped_column(Text, default="")
    consignee_name: Mapped[str] = mapped_column(String(200), default="")
    proof_of_delivery: Mapped[str | None] = mapped_column(Text)
    # The projection of the tracking events, following event time (not arrival time).
    status: Mapped[str] = mapped_column(String(20), default=TrackingStatus.PENDING.value)
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    eta: Mapped[datetime | None] = mapped_column(UTCDateTime)
    eta_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_scan_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    damage_reported: Mapped[bool] = mapped_column(Boolean, default=False)
    loss_reported: Mapped[bool] = mapped_column(Boolean, default=False)
    customs_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    # Detection bookkeeping: still worth watching for staleness (scanned, not finished,
    # not flagged yet); new events to look at; a counter so detect() never clears a flag
    # that a newer ingest set again.
    stale_watch: Mapped[bool] = mapped_column(Boolean, default=False)
    exception_due: Mapped[bool] = mapped_column(Boolean, default=False)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TrackingEvent(Model):
    __tablename__ = "logistics_tracking_events"
    __table_args__ = (
        # A shipment's history in event time.
        Index("ix_logistics_tracking_events_history", "shipment_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The sender's id for the event: ingest is idempotent on it.
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("logistics_shipments.id", ondelete="CASCADE")
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))
    raw_code: Mapped[str] = mapped_column(String(40), default="")
    reason_code: Mapped[str] = mapped_column(String(40), default="")
    code_system: Mapped[str] = mapped_column(String(40), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    description: Mapped[str] = mapped_column(String(500), default="")
    eta: Mapped[datetime | None] = mapped_column(UTCDateTime)
    damage: Mapped[bool] = mapped_column(Boolean, default=False)
    loss: Mapped[bool] = mapped_column(Boolean, default=False)
    customs: Mapped[bool] = mapped_column(Boolean, default=False)
    signed_by: Mapped[str] = mapped_column(String(200), default="")


class ShipmentException(Model):
    """A request the control tower opened about a shipment: at most one per cause. Its
    escalations are the core's watches on the request (see ``escalation``)."""

    __tablename__ = "logistics_exceptions"
    __table_args__ = (
        UniqueConstraint("shipment_id", "cause"),
        # detect(): customer notices still to be posted, oldest first.
        Index("ix_logistics_exceptions_notice_due", "notice_due", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("logistics_shipments.id", ondelete="CASCADE")
    )
    cause: Mapped[str] = mapped_column(String(20))
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), unique=True
    )
    reason: Mapped[str] = mapped_column(String(500))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # 1 = the carrier desk, 2 = also the account manager's authority.
    level_wanted: Mapped[int] = mapped_column(Integer, default=1)
    # Read only: an escalation of this exception is still to come (one of its watches is not
    # settled yet), looked up through the watches' unique (request_id, cause) index. The
    # always-true first term names this table outside the subquery, so that a query of this
    # attribute alone reads it row by row (the EXISTS correlates) instead of once overall.
    escalation_due: Mapped[bool] = column_property(
        and_(
            request_id.is_not(None),
            exists().where(
                Watch.request_id == request_id,
                Watch.cause.startswith("logistics:"),
                Watch.settled_at.is_(None),
            ),
        ),
        deferred=True,
    )
    # When the control tower resolved the request because the shipment was delivered; set
    # once, by a conditional update, so the request is resolved at most once.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The proactive customer notice (notify_customer): due from the moment the request is
    # opened (same transaction); cleared, with customer_told_at, in the write that posts the
    # control tower's message. A crash in between leaves it due: the next pass tells them.
    notice_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    customer_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Claim(Model):
    """A damage, loss or delay claim and the deadline its transport convention sets (the
    claims team is brought in before it by a core watch on the request)."""

    __tablename__ = "logistics_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), unique=True
    )
    shipment_id: Mapped[int | None] = mapped_column(
        ForeignKey("logistics_shipments.id", ondelete="SET NULL"), index=True
    )
    mode: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(20))
    basis: Mapped[str] = mapped_column(String(200))
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VerifiedContact(Model):
    """Someone at a customer account whose identity the SPOC has checked (call-back on the
    number on file, signed letter…): they may change addresses and see proof of delivery."""

    __tablename__ = "logistics_verified_contacts"
    __table_args__ = (
        UniqueConstraint("account_id", "email"),
        # The accounts a signed-in requester belongs to (spoc_contact_subjects).
        Index("ix_logistics_verified_contacts_email", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    method: Mapped[str] = mapped_column(String(200))
    verified_by: Mapped[str] = mapped_column(String(200))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AddressChange(Model):
    """The audit of every address change asked for: applied or refused, by whom, and why."""

    __tablename__ = "logistics_address_changes"
    __table_args__ = (Index("ix_logistics_address_changes_shipment", "shipment_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("logistics_shipments.id", ondelete="CASCADE")
    )
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("requests.id", ondelete="SET NULL"), index=True
    )
    requested_by: Mapped[str] = mapped_column(String(254))
    old_address: Mapped[str] = mapped_column(Text)
    new_address: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(10))  # applied | refused
    reason: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
