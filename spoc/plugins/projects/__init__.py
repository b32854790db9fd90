"""Projects: the SPOC is the project manager.

Workstream leads send status updates; the plugin rolls them up (workstream → project →
portfolio, the worst wins, a missing update counts as Amber), tracks risks and decisions, chases
missing updates and escalates by exception to the workstream's owner, the sponsor or the
steering committee. Published status reports are immutable, versioned snapshots. Uses only the
public plugin API (:mod:`spoc`); see docs/projects.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc import (
    BusinessDays,
    ConsolePanel,
    DemoContext,
    Priority,
    ReportFilter,
    ReportSection,
    Request,
    RequestEvent,
    RequestType,
    SlaPolicy,
    Spoc,
    Status,
    Structure,
    SubjectInfo,
    SubjectKind,
    Triage,
    Watch,
    hookimpl,
)
from spoc.plugins.projects import cycle, onboarding, report_section, rollup
from spoc.plugins.projects.cycle import due_period_label, on_watch_due
from spoc.plugins.projects.forms import (
    ChangeRequestForm,
    DecisionForm,
    PortfolioDetails,
    ProjectDetails,
    QuestionForm,
    RiskForm,
    Severity,
    StatusUpdateForm,
    SystemForm,
    WorkstreamDetails,
)
from spoc.plugins.projects.keys import (
    CHANGE,
    CHASE,
    DECISION,
    NAME,
    PORTFOLIO,
    PROJECT,
    QUESTION,
    REPORT,
    RISK,
    UPDATE,
    WORKSTREAM,
)
from spoc.plugins.projects.models import Person, Project, Workstream
from spoc.plugins.projects.records import after_commit, on_filed
from spoc.plugins.projects.settings import ProjectsSettings
from spoc.plugins.projects.views import bp, console_panels

TYPES = (UPDATE, RISK, DECISION, CHANGE, QUESTION, REPORT, CHASE)


def settings_of(spoc: Spoc) -> ProjectsSettings:
    return spoc.plugin_settings(NAME, ProjectsSettings)


@hookimpl
def spoc_settings_model() -> type[BaseModel]:
    return ProjectsSettings


@hookimpl
def spoc_subject_kinds() -> list[SubjectKind]:
    return [
        SubjectKind(
            PORTFOLIO,
            "Portfolio",
            "Projects run together; its SPOC is the PMO lead.",
            30,
            PortfolioDetails,
        ),
        SubjectKind(PROJECT, "Project", "Its SPOC is the project manager.", 31, ProjectDetails),
        SubjectKind(
            WORKSTREAM,
            "Workstream",
            "Part of a project, with a lead who reports on it.",
            32,
            WorkstreamDetails,
        ),
    ]


@hookimpl
def spoc_structures() -> list[Structure]:
    """Each portfolio, project and workstream subject gets its row here, in its transaction."""
    return onboarding.structures()


def _sla(first: BusinessDays, resolve: BusinessDays) -> SlaPolicy:
    return SlaPolicy(
        first_response={p: first for p in Priority}, resolution={p: resolve for p in Priority}
    )


def _risk_priority(fields: BaseModel) -> Priority | None:
    if isinstance(fields, RiskForm):
        return Priority.P2 if fields.score >= 15 else Priority.P3 if fields.score >= 8 else None
    return None


def _decision_priority(fields: BaseModel) -> Priority | None:
    if isinstance(fields, DecisionForm) and fields.severity in (Severity.HIGH, Severity.CRITICAL):
        return Priority.P2
    return None


@hookimpl
def spoc_request_types(settings_sections: Mapping[str, BaseModel]) -> list[RequestType]:
    settings = settings_sections.get(NAME)
    assert isinstance(settings, ProjectsSettings)
    group = "Projects"
    both = (PROJECT, WORKSTREAM)
    return [
        RequestType(
            key=UPDATE,
            title="Status update",
            description="A workstream lead's report for a period: RAG, progress, milestones.",
            fields_model=StatusUpdateForm,
            group=group,
            subject_kinds=(WORKSTREAM,),
            default_priority=Priority.P4,
            sla=_sla(BusinessDays(1), BusinessDays(3)),
            status_labels={Status.RESOLVED: "Reviewed", Status.CLOSED: "Reviewed"},
            order=10,
        ),
        RequestType(
            key=RISK,
            title="Raise a risk",
            description="Cause, event, effect; probability times impact gives its score.",
            fields_model=RiskForm,
            group=group,
            subject_kinds=both,
            default_priority=Priority.P4,
            priority_rule=_risk_priority,
            specialist_team=settings.steering_team,
            sla=_sla(BusinessDays(1), BusinessDays(10)),
            order=20,
        ),
        RequestType(
            key=DECISION,
            title="An issue or a decision needed",
            description="Something blocks the project, or someone must decide by a date.",
            fields_model=DecisionForm,
            group=group,
            subject_kinds=both,
            default_priority=Priority.P3,
            priority_rule=_decision_priority,
            specialist_team=settings.sponsor_team,
            sla=_sla(BusinessDays(1), BusinessDays(5)),
            order=30,
        ),
        RequestType(
            key=CHANGE,
            title="Change request",
            description="A change to time, cost or scope, with options and a recommendation.",
            fields_model=ChangeRequestForm,
            group=group,
            subject_kinds=both,
            default_priority=Priority.P3,
            specialist_team=settings.board_team,
            sla=_sla(BusinessDays(2), BusinessDays(10)),
            order=40,
        ),
        RequestType(
            key=QUESTION,
            title="Ask the project manager",
            description="A stakeholder's question about a project.",
            fields_model=QuestionForm,
            group=group,
            subject_kinds=(PORTFOLIO, PROJECT, WORKSTREAM),
            default_priority=Priority.P4,
            sla=_sla(BusinessDays(1), BusinessDays(5)),
            order=50,
        ),
        RequestType(
            key=REPORT,
            title="Project office: period status report",
            description="Opened by the project office for each reporting period; not for the "
            "portal.",
            fields_model=SystemForm,
            group="Project office (internal)",
            subject_kinds=(PROJECT,),
            default_priority=Priority.P4,
            order=90,
        ),
        RequestType(
            key=CHASE,
            title="Project office: status update due",
            description="Opened by the project office when an update is missing; not for the "
            "portal.",
            fields_model=SystemForm,
            group="Project office (internal)",
            subject_kinds=(WORKSTREAM,),
            default_priority=Priority.P4,
            status_labels={Status.RESOLVED: "Update received"},
            order=91,
        ),
    ]


@hookimpl
def spoc_migrations() -> Path:
    return Path(__file__).parent / "migrations"


@hookimpl
def spoc_triage_request(request_type: RequestType, fields: BaseModel, spoc: Spoc) -> Triage | None:
    """A change request beyond the manager's tolerance goes to the change board at intake."""
    if not isinstance(fields, ChangeRequestForm):
        return None
    settings = settings_of(spoc)
    beyond = []
    if abs(fields.impact_days) > settings.change_tolerance_days:
        beyond.append(f"{fields.impact_days} days (tolerance {settings.change_tolerance_days})")
    if abs(fields.impact_cost) > settings.change_tolerance_cost:
        beyond.append(
            f"cost {fields.impact_cost:,.0f} (tolerance {settings.change_tolerance_cost:,.0f})"
        )
    if not beyond:
        return None
    return Triage(
        "beyond the manager's tolerance: " + ", ".join(beyond),
        escalate_to=settings.board_team,
        cause="beyond_tolerance",
    )


@hookimpl
def spoc_request_filed(request: Request, fields: BaseModel, session: Session, spoc: Spoc) -> None:
    if request.type_key in TYPES:
        on_filed(spoc, request, fields, session)


@hookimpl
def spoc_request_event(event: RequestEvent, spoc: Spoc) -> None:
    if event.type_key == UPDATE:
        after_commit(event, spoc)


@hookimpl
def spoc_form_defaults(
    request_type: RequestType, subject: SubjectInfo | None, spoc: Spoc
) -> dict[str, Any] | None:
    if request_type.key != UPDATE or subject is None or subject.kind != WORKSTREAM:
        return None
    label = due_period_label(spoc, subject.id)
    return {"period": label} if label else None


@hookimpl
def spoc_sweep_tasks(spoc: Spoc, now: datetime, limit: int) -> int:
    with spoc.db.reader() as session:
        if session.scalar(select(Project.subject_id).limit(1)) is None:
            return 0  # no project yet: nothing to open, chase, remind or refresh (one query)
    done = cycle.open_due_periods(spoc, limit)
    done += cycle.chase_missing_updates(spoc, now, limit)
    done += cycle.send_reminders(spoc, now, limit)
    done += cycle.revoke_spent_links(spoc, now, limit)
    done += rollup.refresh_stale(spoc, limit)
    return done


@hookimpl
def spoc_watch_due(watch: Watch, session: Session, now: datetime) -> None:
    on_watch_due(watch, session, now)


@hookimpl
def spoc_blueprints() -> list[Blueprint]:
    return [bp]


@hookimpl
def spoc_console_panels(request: Request, spoc: Spoc) -> list[ConsolePanel] | None:
    if request.type_key not in (UPDATE, RISK, DECISION):
        return None
    return console_panels(request, spoc)


@hookimpl
def spoc_demo_data(demo: DemoContext) -> None:
    # Imported here to keep start-up light: only `spoc demo` needs the demo data.
    from spoc.plugins.projects.demo import add_demo_data

    add_demo_data(demo)


@hookimpl
def spoc_contact_subjects(email: str, kinds: Sequence[str], spoc: Spoc) -> list[int]:
    """A signed-in requester's projects: those naming them (sponsor, steering committee…)
    and the workstreams they lead."""
    found: list[int] = []
    with spoc.db.reader() as session:
        if not kinds or PROJECT in kinds:
            found += session.scalars(
                select(Person.project_id).where(Person.email == email).distinct().limit(20)
            ).all()
        if not kinds or WORKSTREAM in kinds:
            found += session.scalars(
                select(Workstream.subject_id).where(Workstream.lead_email == email).limit(20)
            ).all()
    return found


@hookimpl
def spoc_report_sections(report_filter: ReportFilter, session: Session) -> list[ReportSection]:
    return report_section.sections(report_filter, session)
