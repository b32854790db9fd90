"""The healthcare plugin's own tables. Core tables are referenced, never altered."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from spoc import Model, UTCDateTime

# FHIR R5 Appointment.status
APPOINTMENT_STATUSES = (
    "proposed",
    "pending",
    "booked",
    "arrived",
    "fulfilled",
    "cancelled",
    "noshow",
    "entered-in-error",
    "checked-in",
    "waitlist",
)
# FHIR Task.status, as DOMAINS.md lists it for referrals.
REFERRAL_STATUSES = (
    "requested",
    "received",
    "accepted",
    "rejected",
    "in-progress",
    "completed",
    "cancelled",
)


# Crockford's base32: no I, L, O or U to misread on a phone call.
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER_LENGTH = 10  # 50 bits: guessing one of a million appointments takes ~10^9 tries


def new_number() -> str:
    return "APT-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))


class Appointment(Model):
    __tablename__ = "healthcare_appointments"
    __table_args__ = (
        Index("ix_healthcare_appointments_patient", "patient_id", "start_at"),
        Index("ix_healthcare_appointments_request", "request_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The number the patient sees and types: random, so one number tells nothing about others.
    number: Mapped[str] = mapped_column(String(16), unique=True, default=lambda: new_number())
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    service: Mapped[str] = mapped_column(String(120))
    provider: Mapped[str] = mapped_column(String(120), default="")
    location: Mapped[str] = mapped_column(String(120), default="")
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_by: Mapped[str | None] = mapped_column(String(200))
    cancelled_by_kind: Mapped[str | None] = mapped_column(String(20))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AppointmentChange(Model):
    """Append-only history: every booking, move, cancellation, with who did it."""

    __tablename__ = "healthcare_appointment_changes"
    __table_args__ = (Index("ix_healthcare_appointment_changes", "appointment_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("healthcare_appointments.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sequence: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(500), default="")


class RequestAppointment(Model):
    """Which appointment a request is about (the booking, and later changes to it)."""

    __tablename__ = "healthcare_request_appointments"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True
    )
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("healthcare_appointments.id", ondelete="CASCADE"), index=True
    )


class Referral(Model):
    __tablename__ = "healthcare_referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), unique=True
    )
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    status: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(10))
    receiving_organisation: Mapped[str] = mapped_column(String(200))
    authored_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContactAttempt(Model):
    """A navigator's call or message to a patient after discharge."""

    __tablename__ = "healthcare_contact_attempts"
    __table_args__ = (Index("ix_healthcare_contact_attempts", "request_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(500), default="")


class AccessEntry(Model):
    """One staff read of a patient's record or request. Append-only and hash-chained: each
    row's hash covers its content and the previous row's hash."""

    __tablename__ = "healthcare_access_log"
    __table_args__ = (
        Index("ix_healthcare_access_log_subject", "subject_id", "id"),
        Index("ix_healthcare_access_log_agent", "agent_id", "id"),
        Index("ix_healthcare_access_log_flagged", "break_glass", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    agent_id: Mapped[int] = mapped_column(Integer)
    agent_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    what: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(10))
    request_id: Mapped[int | None] = mapped_column(Integer)
    subject_id: Mapped[int | None] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(Text)
    break_glass: Mapped[bool] = mapped_column(Boolean, default=False)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))
    # Which key's HMAC row_hash is; NULL: a plain SHA-256 row from before the chain was keyed.
    key_id: Mapped[str | None] = mapped_column(String(16))


class ChainHead(Model):
    """The last row of the access log: locked to append, compared to detect a cut tail."""

    __tablename__ = "healthcare_access_chain"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class DischargeRecord(Model):
    """One row per patient and discharge time: the same discharge recorded twice (a retried
    feed, two feeds at once) opens one follow-up."""

    __tablename__ = "healthcare_discharges"
    __table_args__ = (UniqueConstraint("patient_id", "discharged_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    discharged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), unique=True
    )
