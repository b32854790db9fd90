"""What patients and navigators fill in. Fields marked ``sensitive`` hold clinical detail: they
never become a request's summary and never appear in a notification."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

CLINICAL: dict[str, Any] = {"sensitive": True}


class _Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class Channel(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    PORTAL = "portal"
    LETTER = "letter"


class PatientDetails(_Form):
    """A patient subject's attributes: the minimum to identify and reach them."""

    date_of_birth: date
    record_number: str | None = Field(default=None, max_length=40)
    preferred_language: str = Field(default="en", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
    interpreter_needed: bool = False
    preferred_channel: Channel = Channel.PHONE
    no_details_in_messages: bool = Field(
        default=True,
        description="Leave no details in voicemail or email: only that there is news.",
    )


class Urgency(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class AppointmentAction(StrEnum):
    BOOK = "book"
    RESCHEDULE = "reschedule"
    CANCEL = "cancel"


class AppointmentForm(_Form):
    action: AppointmentAction = Field(description="Book a new appointment, move or cancel one")
    appointment_number: str | None = Field(
        default=None,
        max_length=20,
        pattern=r"^([Aa][Pp][Tt]-)?[0-9A-Za-z]{10}$",
        description="For a change or cancellation: the number on your confirmation (APT-…)",
    )
    service: str = Field(
        min_length=2, max_length=120, description="Service or specialty (cardiology, physio…)"
    )
    provider: str = Field(default="", max_length=120, description="A clinician you prefer")
    location: str = Field(default="", max_length=120, description="Site or clinic you prefer")
    preferred_slots: str = Field(
        default="", max_length=500, description="Days and times that suit you"
    )
    urgency: Urgency = Field(default=Urgency.ROUTINE, description="How soon you need to be seen")
    reason: str = Field(
        default="",
        max_length=2000,
        title="What it is for",
        description="Seen only by the care team",
        json_schema_extra=CLINICAL,
    )
    language: str = Field(default="en", max_length=10, description="Language for the visit")
    interpreter: bool = Field(default=False, description="I need an interpreter")
    accessibility_needs: str = Field(
        default="", max_length=500, description="Wheelchair access, hearing loop, a carer…"
    )
    cancel_reason: str = Field(
        default="", max_length=500, title="Why you cancel", description="If you cancel"
    )

    @model_validator(mode="after")
    def _needs_number(self) -> AppointmentForm:
        if self.action is not AppointmentAction.BOOK and not self.appointment_number:
            raise ValueError("appointment_number: give the number of the appointment to change")
        return self


class BillingForm(_Form):
    invoice_ref: str = Field(min_length=1, max_length=60, description="Invoice or claim number")
    payer: str = Field(default="", max_length=120, description="Insurer or payer")
    member_id: str = Field(default="", max_length=60, description="Your member id")
    amount_billed: float | None = Field(default=None, ge=0, description="Amount on the bill")
    good_faith_estimate: float | None = Field(
        default=None, ge=0, description="The estimate you were given before care, if any"
    )
    prior_authorisation_pending_since: date | None = Field(
        default=None, description="If you wait for a prior authorisation: since when"
    )
    prior_authorisation_urgent: bool = Field(
        default=False, description="The treatment waiting for authorisation is urgent"
    )
    question: str = Field(min_length=3, max_length=3000, description="Your question")


class ReferralPriority(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    ASAP = "asap"
    STAT = "stat"


class ReferralForm(_Form):
    what: str = Field(
        min_length=3,
        max_length=300,
        description="What is referred (service, test, specialist)",
        json_schema_extra=CLINICAL,
    )
    why: str = Field(
        default="", max_length=2000, description="Why (clinical reason)", json_schema_extra=CLINICAL
    )
    priority: ReferralPriority = Field(default=ReferralPriority.ROUTINE)
    receiving_organisation: str = Field(min_length=2, max_length=200)


class Disposition(StrEnum):
    HOME = "home"
    HOME_WITH_CARE = "home_with_care"
    NURSING_FACILITY = "nursing_facility"
    REHABILITATION = "rehabilitation"
    OTHER = "other"


class FollowUpForm(_Form):
    discharged_at: datetime = Field(description="When the patient left hospital")
    disposition: Disposition = Field(default=Disposition.HOME)
    follow_up_visit: str = Field(default="", max_length=200, description="Booked follow-up visit")
    notes: str = Field(
        default="", max_length=3000, description="Discharge notes", json_schema_extra=CLINICAL
    )


class ReadingLevel(StrEnum):
    EASY = "easy"
    STANDARD = "standard"
    DETAILED = "detailed"


class EducationForm(_Form):
    topic: str = Field(min_length=2, max_length=200, description="What you want to learn about")
    language: str = Field(default="en", max_length=10)
    reading_level: ReadingLevel = Field(default=ReadingLevel.STANDARD)
    question: str = Field(
        default="", max_length=3000, description="Your question", json_schema_extra=CLINICAL
    )


def texts(fields: BaseModel) -> list[str]:
    """Every free text a patient typed, for red-flag matching."""
    return [value for value in fields.model_dump().values() if isinstance(value, str) and value]
