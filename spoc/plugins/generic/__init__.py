"""The generic request types every desk needs: question, IT incident, service request.

A built-in plugin, so the core uses its own plugin API (and proves it is enough).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from spoc import (
    DemoContext,
    Files,
    KnowledgeArticle,
    Priority,
    RequestType,
    Status,
    SubjectKind,
    hookimpl,
)

ACCOUNT = "generic.account"


class _Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class Question(_Form):
    summary: str = Field(min_length=3, max_length=200, description="Your question in a line")
    details: str = Field(default="", max_length=5000, description="Anything that helps us answer")


class Level(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Incident(_Form):
    summary: str = Field(min_length=3, max_length=200, description="What is broken?")
    description: str = Field(
        min_length=1, max_length=5000, description="What happened, and since when"
    )
    impact: Level = Field(
        description="How many are affected: high = a whole site or service, "
        "medium = a team, low = one person"
    )
    urgency: Level = Field(
        description="How soon it hurts: high = work has stopped, medium = degraded, "
        "low = a workaround exists"
    )
    attachments: Files = Field(
        default_factory=list,
        title="Screenshots or files",
        description="A screenshot of the error, a photo, a log (optional)",
    )


# ITIL impact x urgency matrix, folded onto P1-P4.
PRIORITY_MATRIX: dict[tuple[Level, Level], Priority] = {
    (Level.HIGH, Level.HIGH): Priority.P1,
    (Level.HIGH, Level.MEDIUM): Priority.P2,
    (Level.MEDIUM, Level.HIGH): Priority.P2,
    (Level.HIGH, Level.LOW): Priority.P3,
    (Level.MEDIUM, Level.MEDIUM): Priority.P3,
    (Level.LOW, Level.HIGH): Priority.P3,
    (Level.MEDIUM, Level.LOW): Priority.P4,
    (Level.LOW, Level.MEDIUM): Priority.P4,
    (Level.LOW, Level.LOW): Priority.P4,
}


def incident_priority(fields: BaseModel) -> Priority:
    assert isinstance(fields, Incident)
    return PRIORITY_MATRIX[(fields.impact, fields.urgency)]


class ServiceRequest(_Form):
    service: Literal["access", "password_reset", "equipment"] = Field(
        description="What you need: access to a system, a password reset, or equipment"
    )
    summary: str = Field(min_length=3, max_length=200, description="What exactly")
    details: str = Field(default="", max_length=5000, description="Who, where, which system")
    needed_by: date | None = Field(default=None, description="When you need it by")


def service_priority(fields: BaseModel) -> Priority:
    assert isinstance(fields, ServiceRequest)
    # Someone locked out cannot work: a reset is more urgent than new equipment.
    return Priority.P2 if fields.service == "password_reset" else Priority.P3


def from_mail(subject: str, body: str, details: str = "details") -> dict[str, str]:
    """The fields of a request filed by mail: the subject is the summary (the body's first
    line when the subject is too short), the body the details."""
    summary = subject.strip()
    if len(summary) < 3:
        summary = next((line.strip() for line in body.splitlines() if line.strip()), "")
    if len(summary) < 3:
        summary = "Question by mail"
    return {"summary": summary[:200], details: body.strip()[:5000] or summary[:200]}


@hookimpl
def spoc_request_types() -> list[RequestType]:
    return [
        RequestType(
            key="generic.question",
            title="Ask a question",
            description="Anything you want to know; your contact answers or finds who can.",
            fields_model=Question,
            group="General",
            default_priority=Priority.P4,
            order=10,
            mail_fields=from_mail,
        ),
        RequestType(
            key="generic.incident",
            title="Report something broken",
            description="A service, system or device does not work as it should.",
            fields_model=Incident,
            group="IT and services",
            default_priority=Priority.P3,
            priority_rule=incident_priority,
            # No team of its own: a breach escalates to the deployment's SPOC_SLA_SPECIALIST_TEAM.
            status_labels={Status.OPEN: "Being fixed"},
            order=20,
            # By mail nobody rates impact and urgency: medium, until the SPOC sets the priority.
            mail_fields=lambda subject, body: {
                **from_mail(subject, body, "description"),
                "impact": "medium",
                "urgency": "medium",
            },
        ),
        RequestType(
            key="generic.service_request",
            title="Request a service",
            description="Access to a system, a password reset, or equipment.",
            fields_model=ServiceRequest,
            group="IT and services",
            default_priority=Priority.P3,
            priority_rule=service_priority,
            order=30,
        ),
    ]


@hookimpl
def spoc_subject_kinds() -> list[SubjectKind]:
    return [
        SubjectKind(
            key=ACCOUNT,
            title="Account",
            description="A customer organisation or internal department with its own SPOC.",
        )
    ]


@hookimpl
def spoc_knowledge_articles() -> list[KnowledgeArticle]:
    return [
        KnowledgeArticle(
            key="generic.reset_password",
            title="Reset your password yourself",
            summary="Most locked accounts can be unlocked in two minutes without waiting for us.",
            body=(
                "Open the sign-in page of the system you are locked out of and choose "
                '"Forgot password". You receive a link by email; it works for 30 minutes.\n\n'
                "If no email arrives within ten minutes, check your spam folder, then ask us "
                "for a password reset: we will verify who you are before changing anything."
            ),
            request_types=("generic.service_request",),
            keywords=("password", "locked", "login", "sign in", "account"),
            order=10,
        ),
        KnowledgeArticle(
            key="generic.before_reporting",
            title="Before you report something broken",
            summary="Three checks that fix one problem in five, and what to tell us if not.",
            body=(
                "Restart the application, or the device, once.\n\n"
                "Check whether colleagues see the same problem: if they do, say so in your "
                "report, it changes how urgent it is.\n\n"
                "Note the exact error message and when it started; a screenshot helps."
            ),
            request_types=("generic.incident",),
            keywords=("broken", "error", "not working", "down", "incident"),
            order=20,
        ),
    ]


@hookimpl
def spoc_demo_data(demo: DemoContext) -> None:
    # Imported here to keep start-up light: only `spoc demo` needs the demo data.
    from spoc.plugins.generic.demo import add_demo_requests

    add_demo_requests(demo)
