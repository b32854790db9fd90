"""What vendors, attendees and staff fill in. Accessibility and dietary answers are
special-category data: marked ``sensitive`` and filed on a ``private`` request type."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

SPECIAL: dict[str, Any] = {"sensitive": True}
CODE = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$"


class _Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class VendorRequestKind(StrEnum):
    ACCESS = "access"
    POWER = "power"
    PARKING = "parking"
    CHANGE = "change"
    OTHER = "other"


class VendorRequestForm(_Form):
    vendor_code: str = Field(pattern=CODE, description="Your vendor code (on your contract)")
    kind: VendorRequestKind = Field(description="What you need")
    what: str = Field(
        min_length=3,
        max_length=500,
        description="Details",
        json_schema_extra={"widget": "textarea"},
    )
    needed_at: datetime | None = Field(default=None, description="When you need it")
    cost_impact: float = Field(default=0, ge=0, description="Estimated cost impact (0 if none)")


class VendorTopic(StrEnum):
    DELIVERABLE = "deliverable"
    CONTRACT = "contract"
    INSURANCE = "insurance"
    CHECK_IN = "check_in"
    OTHER = "other"


class VendorContractForm(_Form):
    vendor_code: str = Field(pattern=CODE, description="Your vendor code")
    topic: VendorTopic = Field(description="What it is about")
    summary: str = Field(min_length=3, max_length=200, description="In one line")
    details: str = Field(default="", max_length=3000, json_schema_extra={"widget": "textarea"})


class RegistrationForm(_Form):
    order_code: str = Field(
        default="", max_length=40, description="Your order code, if you have it"
    )
    ticket_type: str = Field(default="", max_length=60, description="Your ticket type")
    summary: str = Field(min_length=3, max_length=200, description="Your question in one line")
    question: str = Field(default="", max_length=3000, json_schema_extra={"widget": "textarea"})


class NeedType(StrEnum):
    STEP_FREE = "step_free_access"
    SIGN_LANGUAGE = "sign_language_interpreter"
    CAPTIONING = "captioning"
    HEARING_LOOP = "hearing_loop"
    DIETARY = "dietary"
    QUIET_ROOM = "quiet_room"
    COMPANION = "companion"


NEED_LABELS = {
    NeedType.STEP_FREE: "Step-free access",
    NeedType.SIGN_LANGUAGE: "Sign-language interpreter",
    NeedType.CAPTIONING: "Captioning",
    NeedType.HEARING_LOOP: "Hearing loop",
    NeedType.DIETARY: "Dietary requirement",
    NeedType.QUIET_ROOM: "Quiet room",
    NeedType.COMPANION: "Companion ticket",
}


class AccessNeedForm(_Form):
    needs: list[NeedType] = Field(
        min_length=1,
        description="What you need",
        json_schema_extra={
            "sensitive": True,
            "labels": {k.value: v for k, v in NEED_LABELS.items()},
        },
    )
    sessions: str = Field(
        default="all",
        max_length=300,
        pattern=r"^\s*(all|\d+(\s*,\s*\d+)*)\s*$",
        description="'all', or the session numbers from the programme, separated by commas",
    )
    details: str = Field(
        default="",
        max_length=2000,
        description="Anything we should know (an allergy, a language) — seen only by our "
        "accessibility coordinator",
        json_schema_extra={**SPECIAL, "widget": "textarea"},
    )
    consent: bool = Field(
        default=False,
        description="I agree that you store these answers to arrange my needs; only the "
        "accessibility coordinator sees them, and they are deleted after the event",
    )

    @model_validator(mode="after")
    def _consented(self) -> AccessNeedForm:
        if not self.consent:
            raise ValueError("consent: we can only store your needs with your consent")
        return self

    def session_numbers(self) -> list[int] | None:
        """``None`` means every session."""
        text = self.sessions.strip().lower()
        return None if text == "all" else sorted({int(p) for p in text.split(",")})


class ScheduleForm(_Form):
    session: str = Field(default="", max_length=200, description="The session, if it is about one")
    summary: str = Field(min_length=3, max_length=200, description="Your question in one line")
    question: str = Field(default="", max_length=3000, json_schema_extra={"widget": "textarea"})


class IncidentCategory(StrEnum):
    MEDICAL = "medical"
    SAFETY = "safety"
    CONDUCT = "conduct"
    SECURITY = "security"
    FACILITIES = "facilities"
    LOST_PROPERTY = "lost_property"
    OTHER = "other"


# Reports that go to a named person at once and are never resolved or closed automatically.
PERSONAL = frozenset({IncidentCategory.MEDICAL, IncidentCategory.SAFETY, IncidentCategory.CONDUCT})


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class IncidentForm(_Form):
    location: str = Field(min_length=1, max_length=200, description="Where (hall, room, gate)")
    category: IncidentCategory = Field(description="What kind of incident")
    severity: Severity = Field(default=Severity.MEDIUM)
    what_happened: str = Field(
        min_length=3,
        max_length=3000,
        description="What happened",
        json_schema_extra={**SPECIAL, "widget": "textarea"},
    )
