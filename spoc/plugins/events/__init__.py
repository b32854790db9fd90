"""Events: the SPOC is the event help desk, for vendors and attendees.

Before the event, vendors deliver against their contracts and attendees ask about
registration and access; on the day, minutes matter: while the event runs (in its own time
zone) SLA targets switch to minutes, incidents appear on a live board, and medical, safety and
conduct reports go to a named person at once and are never closed automatically. Uses only
the public plugin API (:mod:`spoc`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import click
from flask import Blueprint
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc import (
    AccessRefused,
    BusinessHours,
    ConsolePanel,
    DemoContext,
    Export,
    Priority,
    ReportFilter,
    ReportSection,
    Request,
    RequestType,
    Routing,
    SlaPolicy,
    Spoc,
    StaffAccess,
    Structure,
    SubjectInfo,
    SubjectKind,
    Triage,
    ValidationFailed,
    Watch,
    WatchOutcome,
    hookimpl,
    request_states,
)
from spoc.plugins.events import attendees, onboarding, report_section, vendors
from spoc.plugins.events.cli import events_cli
from spoc.plugins.events.forms import (
    PERSONAL,
    AccessNeedForm,
    IncidentCategory,
    IncidentForm,
    NeedType,
    RegistrationForm,
    ScheduleForm,
    Severity,
    VendorContractForm,
    VendorRequestForm,
)
from spoc.plugins.events.models import Attendee, Event, Incident, RequestLink, Vendor
from spoc.plugins.events.program import EVENT, event_of_subject, is_under_way
from spoc.plugins.events.settings import EventsSettings, is_coordinator, settings_of
from spoc.plugins.events.views import bp, console_panels, exports

NAME = "events"
VENDOR_REQUEST = "events.vendor_request"
VENDOR_CONTRACT = vendors.VENDOR_CONTRACT
REGISTRATION = "events.registration"
ACCESS_NEED = "events.access_need"
SCHEDULE = "events.schedule"
INCIDENT = "events.incident"
TYPES = (VENDOR_REQUEST, VENDOR_CONTRACT, REGISTRATION, ACCESS_NEED, SCHEDULE, INCIDENT)
log = logging.getLogger(__name__)


@hookimpl
def spoc_settings_model() -> type[BaseModel]:
    return EventsSettings


@hookimpl
def spoc_subject_kinds() -> list[SubjectKind]:
    return [
        SubjectKind(
            EVENT,
            "Event",
            "An event; its SPOC is the event manager.",
            attributes_model=onboarding.EventAttributes,
        )
    ]


@hookimpl
def spoc_structures() -> list[Structure]:
    """An event's dates complete its subject; sessions and vendors are items under it."""
    return onboarding.structures()


def _incident_priority(fields: BaseModel) -> Priority | None:
    if not isinstance(fields, IncidentForm):
        return None
    if fields.category in PERSONAL or fields.severity is Severity.CRITICAL:
        return Priority.P1
    return Priority.P2 if fields.severity is Severity.HIGH else None


@hookimpl
def spoc_request_types(settings_sections: Mapping[str, BaseModel]) -> list[RequestType]:
    settings = settings_sections.get(NAME)
    assert isinstance(settings, EventsSettings)
    kinds = (EVENT,)
    hours = SlaPolicy(
        first_response={
            Priority.P1: BusinessHours(1),
            Priority.P2: BusinessHours(2),
            Priority.P3: BusinessHours(8),
            Priority.P4: BusinessHours(16),
        },
        resolution={
            Priority.P1: BusinessHours(4),
            Priority.P2: BusinessHours(8),
            Priority.P3: BusinessHours(24),
            Priority.P4: BusinessHours(40),
        },
    )
    return [
        RequestType(
            key=VENDOR_REQUEST,
            title="Vendor request: access, power, parking or a change",
            description="For vendors: something you need at the venue, and what it costs.",
            fields_model=VendorRequestForm,
            group="Vendors",
            subject_kinds=kinds,
            specialist_team=settings.vendor_team,
            sla=hours,
            order=10,
        ),
        RequestType(
            key=VENDOR_CONTRACT,
            title="Vendor deliverable or contract",
            description="For vendors: a deliverable, your contract, insurance or check-in.",
            fields_model=VendorContractForm,
            group="Vendors",
            subject_kinds=kinds,
            specialist_team=settings.vendor_team,
            sla=hours,
            order=20,
        ),
        RequestType(
            key=REGISTRATION,
            title="A question about my registration",
            description="Tickets, orders, refunds, badges.",
            fields_model=RegistrationForm,
            group="Attendees",
            subject_kinds=kinds,
            sla=hours,
            order=30,
        ),
        RequestType(
            key=ACCESS_NEED,
            title="Accessibility or dietary need",
            description="Step-free access, interpreters, captioning, a hearing loop, dietary "
            "needs, a quiet room or a companion. Only our accessibility coordinator sees it.",
            fields_model=AccessNeedForm,
            group="Attendees",
            subject_kinds=kinds,
            specialist_team=settings.accessibility_team,
            sla=hours,
            private=True,
            order=40,
        ),
        RequestType(
            key=SCHEDULE,
            title="A question about the programme",
            description="Sessions, rooms, times and speakers.",
            fields_model=ScheduleForm,
            group="Attendees",
            subject_kinds=kinds,
            sla=hours,
            order=50,
        ),
        RequestType(
            key=INCIDENT,
            title="Report an incident on site",
            description="Something happened at the venue: medical, safety, conduct, security.",
            fields_model=IncidentForm,
            group="On site",
            subject_kinds=kinds,
            default_priority=Priority.P3,
            priority_rule=_incident_priority,
            specialist_team=settings.safety_team,
            sla=hours,
            order=5,
        ),
    ]


@hookimpl
def spoc_migrations() -> Path:
    return Path(__file__).parent / "migrations"


# --- intake ------------------------------------------------------------------------------------


def _event_for(spoc: Spoc, subject: SubjectInfo | None) -> Event | None:
    if subject is None or subject.kind != EVENT:
        return None
    with spoc.db.reader() as session:
        event = event_of_subject(session, subject.id)
        if event is not None:
            session.expunge(event)
        return event


@hookimpl
def spoc_route_request(
    request_type: RequestType, fields: BaseModel, subject: SubjectInfo | None, spoc: Spoc
) -> Routing | None:
    settings = settings_of(spoc)
    if request_type.key == ACCESS_NEED:
        return Routing(
            None, settings.accessibility_team, "Accessibility needs go to the coordinator", order=20
        )
    if not (isinstance(fields, IncidentForm) and fields.category in PERSONAL):
        return None
    event = _event_for(spoc, subject)
    lead_id = event.safety_lead_id if event is not None else None
    if lead_id is None and settings.safety_lead_email:
        agent = spoc.directory.agent_by_email(settings.safety_lead_email)
        lead_id = agent.id if agent is not None and agent.active else None
    why = f"{fields.category.value} incident: straight to the event's safety lead"
    if lead_id is not None:
        return Routing(lead_id, None, why, order=5)
    return Routing(
        None, settings.safety_team, f"{fields.category.value} incident: safety team", order=5
    )


@hookimpl
def spoc_triage_request(
    request_type: RequestType, fields: BaseModel, subject: SubjectInfo | None, spoc: Spoc
) -> Triage | None:
    settings = settings_of(spoc)
    if isinstance(fields, AccessNeedForm) and NeedType.SIGN_LANGUAGE in fields.needs:
        event = _event_for(spoc, subject)
        lead = timedelta(days=settings.interpreter_lead_days)
        if event is not None and event.starts_at - spoc.clock.now() < lead:
            return Triage(
                f"interpreter asked for less than {settings.interpreter_lead_days} days ahead",
                priority=Priority.P2,
                escalate_to=settings.accessibility_team,
                cause="late_interpreter",
            )
    if isinstance(fields, VendorRequestForm) and fields.cost_impact > 0:
        event = _event_for(spoc, subject)
        if event is None:
            return None
        with spoc.db.reader() as session:
            tolerance = session.scalar(
                select(Vendor.budget_tolerance).where(
                    Vendor.event_id == event.id, Vendor.code == fields.vendor_code
                )
            )
        if tolerance is not None and fields.cost_impact > tolerance:
            return Triage(
                f"cost impact {fields.cost_impact:,.2f} beyond the budget tolerance "
                f"{tolerance:,.2f}",
                escalate_to=settings.organiser_team,
                cause="over_budget",
            )
    return None


@hookimpl
def spoc_request_filed(request: Request, fields: BaseModel, session: Session, spoc: Spoc) -> None:
    if request.type_key not in TYPES:
        return
    event = event_of_subject(session, request.subject_id)
    if event is None:
        if request.type_key == ACCESS_NEED:
            # Special-category answers are kept only for an event, and erased after it: one
            # about no event would never be erased, so it is not taken.
            raise ValidationFailed(
                "an accessibility or dietary need must name its event",
                {"reference": "give the event's code: we keep your answers for that event only"},
            )
        return

    vendor_id = attendee_id = None
    if isinstance(fields, VendorRequestForm | VendorContractForm):
        vendor_id = session.scalar(
            select(Vendor.id).where(Vendor.event_id == event.id, Vendor.code == fields.vendor_code)
        )
        if vendor_id is None:
            raise ValidationFailed(
                "unknown vendor", {"fields.vendor_code": "not a vendor code at this event"}
            )
    else:
        attendee = attendees.registration_for(session, event.id, request.contact_id)
        attendee_id = attendee.id if attendee else None
        if isinstance(fields, AccessNeedForm):
            attendees.record_need(session, event, request, fields, attendee, spoc.clock.now())
        elif isinstance(fields, IncidentForm):
            session.add(
                Incident(
                    request_id=request.id,
                    event_id=event.id,
                    location=fields.location,
                    category=fields.category.value,
                    severity=fields.severity.value,
                    reported_at=request.created_at,
                )
            )
    session.add(
        RequestLink(
            request_id=request.id, event_id=event.id, vendor_id=vendor_id, attendee_id=attendee_id
        )
    )


@hookimpl
def spoc_sla_policy(
    request: Request, policy: SlaPolicy, at: datetime, session: Session, spoc: Spoc
) -> SlaPolicy | None:
    """Event-day mode: minutes while the request's event is under way."""
    if request.type_key not in TYPES:
        return None
    event = event_of_subject(session, request.subject_id)
    if event is None or not is_under_way(event, at):
        return None
    settings = settings_of(spoc)
    return SlaPolicy(
        first_response={
            p: BusinessHours(minutes=m)
            for p, m in settings.event_day_first_response_minutes.items()
        },
        resolution={
            p: BusinessHours(minutes=m) for p, m in settings.event_day_resolution_minutes.items()
        },
        warn_ratio=policy.warn_ratio,
        calendar="always_open",  # events run at weekends and at night
    )


def is_personal_incident(request: Request) -> bool:
    return request.type_key == INCIDENT and (request.fields or {}).get("category") in {
        c.value for c in PERSONAL
    }


@hookimpl
def spoc_keep_open(request: Request) -> str | None:
    if is_personal_incident(request):
        category = IncidentCategory((request.fields or {})["category"]).value
        return f"a {category} incident is resolved and closed by a person"
    return None


# --- the sweep ---------------------------------------------------------------------------------


@hookimpl
def spoc_sweep_tasks(spoc: Spoc, now: datetime, limit: int) -> int:
    """Erasure first, each task on its own: special-category data is never kept waiting by a
    vendor alert that fails (nor the alerts by a failing erasure). A failure is re-raised once
    both ran, so the sweep logs it and reports it."""
    done, failure = 0, None
    for task in (attendees.erase_due, vendors.open_due_alerts):
        try:
            done += task(spoc, now, limit)
        except Exception as exc:
            log.exception("events: %s failed", task.__name__)
            failure = failure or exc
    if failure is not None:
        raise failure
    return done


@hookimpl
def spoc_watch_due(watch: Watch, session: Session, now: datetime) -> WatchOutcome | None:
    return vendors.on_watch_due(watch, session, now)


# --- staff reads -------------------------------------------------------------------------------


@hookimpl
def spoc_staff_access(access: StaffAccess, spoc: Spoc) -> AccessRefused | None:
    if access.request_id is None:
        return None
    with spoc.db.reader() as session:
        state = request_states(session, [access.request_id]).get(access.request_id)
    if state is None or state.type_key != ACCESS_NEED or is_coordinator(spoc, access.actor.id):
        return None
    return AccessRefused(
        "Accessibility and dietary needs are special-category data: only the accessibility "
        "coordinator may open them. A reason does not change that; ask the coordinator."
    )


# --- views, exports, panels, CLI, demo ---------------------------------------------------------


@hookimpl
def spoc_blueprints() -> list[Blueprint]:
    return [bp]


@hookimpl
def spoc_console_panels(request: Request, spoc: Spoc) -> list[ConsolePanel] | None:
    if request.type_key not in TYPES:
        return None
    return console_panels(request, spoc)


@hookimpl
def spoc_request_exports(request: Request, spoc: Spoc) -> list[Export] | None:
    if request.type_key not in TYPES or request.subject_id is None:
        return None
    return exports(request, spoc)


@hookimpl
def spoc_cli_commands() -> list[click.Command]:
    return [events_cli]


@hookimpl
def spoc_demo_data(demo: DemoContext) -> None:
    # Imported here to keep start-up light: only `spoc demo` needs the demo data.
    from spoc.plugins.events.demo import add_demo_data

    add_demo_data(demo)


@hookimpl
def spoc_contact_subjects(email: str, kinds: Sequence[str], spoc: Spoc) -> list[int]:
    """A signed-in requester's events: those they attend, and those their company supplies
    as a vendor (its on-site contact), newest first."""
    if kinds and EVENT not in kinds:
        return []
    attending = select(Attendee.event_id).where(Attendee.email == email)
    supplying = select(Vendor.event_id).where(Vendor.onsite_email == email)
    with spoc.db.reader() as session:
        return list(
            session.scalars(
                select(Event.subject_id)
                .where(Event.id.in_(attending.union(supplying)), Event.erased_at.is_(None))
                .order_by(Event.starts_at.desc())
                .limit(20)
            )
        )


@hookimpl
def spoc_report_sections(report_filter: ReportFilter, session: Session) -> list[ReportSection]:
    return report_section.sections(report_filter, session, INCIDENT)
