"""Healthcare: the SPOC is the patient's navigator (non-clinical).

Books and moves appointments, explains bills, chases referrals, calls patients after discharge.
Anything clinical goes to a clinician: red-flag words show the patient the emergency number at
once and escalate to the clinical team in the same transaction as the request. Uses only the
public plugin API (:mod:`spoc`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import click
from flask import Blueprint
from pydantic import BaseModel
from sqlalchemy.orm import Session

from spoc import (
    AccessRefused,
    ApiRoute,
    BusinessDays,
    BusinessHours,
    ConsolePanel,
    DemoContext,
    Export,
    InboundMail,
    KnowledgeArticle,
    MailVerdict,
    PluginError,
    Priority,
    ReportFilter,
    ReportSection,
    Request,
    RequestType,
    SlaPolicy,
    Spoc,
    StaffAccess,
    SubjectInfo,
    SubjectKind,
    Triage,
    hookimpl,
    request_states,
)
from spoc.plugins.healthcare import audit, report_section
from spoc.plugins.healthcare.api import routes
from spoc.plugins.healthcare.cli import healthcare_cli
from spoc.plugins.healthcare.education import articles
from spoc.plugins.healthcare.forms import (
    AppointmentForm,
    BillingForm,
    EducationForm,
    FollowUpForm,
    PatientDetails,
    ReferralForm,
    Urgency,
    texts,
)
from spoc.plugins.healthcare.records import (
    APPOINTMENT,
    BILLING,
    EDUCATION,
    FOLLOW_UP,
    REFERRAL,
    on_filed,
)
from spoc.plugins.healthcare.settings import HealthcareSettings, settings_of
from spoc.plugins.healthcare.views import bp, console_panels, exports, portal_panels

NAME = "healthcare"
PATIENT = "healthcare.patient"
TYPES = (APPOINTMENT, BILLING, REFERRAL, FOLLOW_UP, EDUCATION)


@hookimpl
def spoc_settings_model() -> type[BaseModel]:
    return HealthcareSettings


@hookimpl
def spoc_subject_kinds() -> list[SubjectKind]:
    return [
        SubjectKind(
            PATIENT,
            "Patient",
            "A person in our care; their SPOC is their navigator.",
            attributes_model=PatientDetails,
            private=True,
        )
    ]


def _appointment_priority(fields: BaseModel) -> Priority | None:
    if isinstance(fields, AppointmentForm) and fields.urgency is Urgency.URGENT:
        return Priority.P2
    return None


@hookimpl
def spoc_request_types(settings_sections: Mapping[str, BaseModel]) -> list[RequestType]:
    settings = settings_sections.get(NAME)
    assert isinstance(settings, HealthcareSettings)
    clinical, billing, referrals = (
        settings.clinical_team,
        settings.billing_team,
        settings.referrals_team,
    )
    group = "Your care"
    return [
        RequestType(
            key=APPOINTMENT,
            title="Book, move or cancel an appointment",
            description="Ask for an appointment, a different time, or cancel one.",
            fields_model=AppointmentForm,
            group=group,
            subject_kinds=(PATIENT,),
            default_priority=Priority.P3,
            priority_rule=_appointment_priority,
            specialist_team=clinical,
            sla=SlaPolicy(
                first_response={
                    Priority.P1: BusinessHours(minutes=15),
                    Priority.P2: BusinessHours(2),
                    Priority.P3: BusinessDays(1),
                },
                resolution={
                    Priority.P1: BusinessHours(1),
                    Priority.P2: BusinessDays(1),
                    Priority.P3: BusinessDays(3),
                },
            ),
            private=True,
            order=10,
        ),
        RequestType(
            key=BILLING,
            title="A question about a bill or insurance",
            description="Understand a bill, a claim, a prior authorisation, or dispute a charge.",
            fields_model=BillingForm,
            group=group,
            subject_kinds=(PATIENT,),
            default_priority=Priority.P3,
            specialist_team=billing,
            sla=SlaPolicy(
                first_response={Priority.P1: BusinessHours(1), Priority.P3: BusinessDays(2)},
                resolution={Priority.P1: BusinessDays(1), Priority.P3: BusinessDays(10)},
            ),
            private=True,
            order=20,
        ),
        RequestType(
            key=REFERRAL,
            title="Referral or care coordination",
            description="Follow a referral to another service or organisation.",
            fields_model=ReferralForm,
            group=group,
            subject_kinds=(PATIENT,),
            default_priority=Priority.P3,
            priority_rule=lambda f: (
                Priority.P2
                if isinstance(f, ReferralForm) and f.priority.value in ("asap", "stat", "urgent")
                else None
            ),
            specialist_team=referrals,
            sla=SlaPolicy(
                first_response={
                    Priority.P1: BusinessHours(1),
                    Priority.P2: BusinessHours(4),
                    Priority.P3: BusinessDays(1),
                },
                resolution={
                    Priority.P1: BusinessDays(1),
                    Priority.P2: BusinessDays(5),
                    Priority.P3: BusinessDays(30),
                },
            ),
            private=True,
            order=30,
        ),
        RequestType(
            key=FOLLOW_UP,
            title="Follow-up after a hospital stay",
            description="Your navigator calls you after you leave hospital.",
            fields_model=FollowUpForm,
            group=group,
            subject_kinds=(PATIENT,),
            default_priority=Priority.P3,
            specialist_team=clinical,
            # First contact within 2 business days of the discharge (clocks run from it).
            sla=SlaPolicy(
                first_response={Priority.P1: BusinessHours(1), Priority.P3: BusinessDays(2)},
                resolution={Priority.P1: BusinessDays(1), Priority.P3: BusinessDays(5)},
            ),
            private=True,
            order=40,
        ),
        RequestType(
            key=EDUCATION,
            title="Learn about a condition or treatment",
            description="Reading about your care, in your language; a clinician answers what "
            "needs clinical judgement.",
            fields_model=EducationForm,
            group=group,
            subject_kinds=(PATIENT,),
            default_priority=Priority.P4,
            specialist_team=clinical,
            sla=SlaPolicy(
                first_response={Priority.P1: BusinessHours(1), Priority.P4: BusinessDays(2)},
                resolution={Priority.P1: BusinessDays(1), Priority.P4: BusinessDays(5)},
            ),
            private=True,
            order=50,
        ),
    ]


@hookimpl
def spoc_migrations() -> Path:
    return Path(__file__).parent / "migrations"


# --- red flags -------------------------------------------------------------------------------


def _normalise(text: str) -> str:
    text = text.lower().replace("\u2019", "'").replace("`", "'")
    return " " + re.sub(r"[^\w']+", " ", text) + " "


def red_flags(settings: HealthcareSettings, fields: BaseModel) -> list[str]:
    """The configured phrases (any language) found in what the patient wrote."""
    text = _normalise(" ".join(texts(fields)))
    found = []
    for phrases in settings.red_flags.values():
        for phrase in phrases:
            if _normalise(phrase) in text:
                found.append(phrase)
    return sorted(set(found))


def emergency_notice(settings: HealthcareSettings, language: str) -> str:
    notices = settings.emergency_notices
    base = language.split("-")[0].lower()
    return (
        notices.get(base) or notices.get(settings.default_language) or next(iter(notices.values()))
    )


@hookimpl
def spoc_triage_request(
    request_type: RequestType, fields: BaseModel, subject: SubjectInfo | None, spoc: Spoc
) -> Triage | None:
    if request_type.key not in TYPES:
        return None
    settings = settings_of(spoc)
    language = getattr(fields, "language", None) or (
        str(subject.attributes.get("preferred_language", "")) if subject else ""
    )
    flags = red_flags(settings, fields)
    emergency = isinstance(fields, AppointmentForm) and fields.urgency is Urgency.EMERGENCY
    if flags or emergency:
        why = f"red flag: {', '.join(flags)}" if flags else "the patient chose 'emergency'"
        return Triage(
            why,
            priority=Priority.P1,
            notice=emergency_notice(settings, language or settings.default_language),
            escalate_to=settings.clinical_team,
            cause="red_flag",
        )
    if (
        isinstance(fields, BillingForm)
        and fields.amount_billed is not None
        and fields.good_faith_estimate is not None
        and fields.amount_billed - fields.good_faith_estimate >= settings.dispute_threshold
    ):
        over = fields.amount_billed - fields.good_faith_estimate
        return Triage(
            f"bill {over:.2f} above the good-faith estimate",
            notice=(
                f"Your bill is {over:,.2f} above the good-faith estimate you were given. You "
                "have the right to dispute it through the patient-provider dispute resolution "
                "process, within 120 days of the bill's date. Your navigator will help you."
            ),
        )
    return None


@hookimpl
def spoc_request_filed(request: Request, fields: BaseModel, session: Session, spoc: Spoc) -> None:
    if request.type_key in TYPES:
        on_filed(spoc, settings_of(spoc), request, fields, session)


# --- inbound mail ----------------------------------------------------------------------------

MAIL_REFUSAL = (
    "for your privacy we do not take health details by email. There is an update on your "
    "request only if we tell you so: follow and answer it with your private link, or ask for "
    "a new link on our portal"
)


@hookimpl
def spoc_inbound_mail(mail: InboundMail) -> MailVerdict | None:
    # Health details do not travel by mail: neither a reply to a patient's request nor a new
    # one by mail is kept; the sender is sent to the portal, the owner told a mail came.
    if mail.request_type in TYPES:
        return MailVerdict.refuse(MAIL_REFUSAL)
    return None


# --- staff reads -----------------------------------------------------------------------------


@hookimpl
def spoc_staff_access(access: StaffAccess, spoc: Spoc) -> AccessRefused | None:
    if access.subject_kind != PATIENT and not _is_healthcare_request(spoc, access.request_id):
        return None
    if not access.own and access.reason is None:
        return AccessRefused(
            "This patient is not in your care. Give a reason to open the record (break-glass)."
        )
    audit.append(spoc, access)
    return None


def _is_healthcare_request(spoc: Spoc, request_id: int | None) -> bool:
    if request_id is None:
        return False
    with spoc.db.reader() as session:
        state = request_states(session, [request_id]).get(request_id)
    return state is not None and state.type_key in TYPES


# --- views, exports, panels, CLI, API, demo -------------------------------------------------


@hookimpl
def spoc_blueprints() -> list[Blueprint]:
    return [bp]


@hookimpl
def spoc_console_panels(request: Request, spoc: Spoc) -> list[ConsolePanel] | None:
    if request.type_key not in TYPES:
        return None
    return console_panels(request, spoc)


@hookimpl
def spoc_portal_panels(request: Request, spoc: Spoc) -> list[ConsolePanel] | None:
    if request.type_key != APPOINTMENT:
        return None
    return portal_panels(request, spoc)


@hookimpl
def spoc_request_exports(request: Request, spoc: Spoc) -> list[Export] | None:
    if request.type_key not in (APPOINTMENT, REFERRAL):
        return None
    return exports(request, spoc)


@hookimpl
def spoc_cli_commands() -> list[click.Command]:
    return [healthcare_cli]


@hookimpl
def spoc_api_routes() -> list[ApiRoute]:
    return routes()


@hookimpl
def spoc_knowledge_articles(
    settings_sections: Mapping[str, BaseModel],
) -> list[KnowledgeArticle]:
    settings = settings_sections.get(NAME)
    folder = settings.articles_dir if isinstance(settings, HealthcareSettings) else None
    try:
        return articles(folder)
    except (OSError, ValueError) as exc:
        raise PluginError(NAME, f"education articles: {exc}") from exc


@hookimpl
def spoc_demo_data(demo: DemoContext) -> None:
    # Imported here to keep start-up light: only `spoc demo` needs the demo data.
    from spoc.plugins.healthcare.demo import add_demo_data

    add_demo_data(demo)


@hookimpl
def spoc_report_sections(report_filter: ReportFilter, session: Session) -> list[ReportSection]:
    return report_section.sections(report_filter, session)
