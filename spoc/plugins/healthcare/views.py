"""The navigator's panels and actions on the console, the patient's appointment box, exports."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from spoc import (
    Actor,
    ConsolePanel,
    Export,
    NotFoundError,
    Request,
    Role,
    ServiceError,
    Spoc,
    Subject,
    ValidationFailed,
    console_access,
    console_agent,
    spoc_of,
)
from spoc.plugins.healthcare import exports as fhir
from spoc.plugins.healthcare.models import ContactAttempt, Referral
from spoc.plugins.healthcare.records import (
    APPOINTMENT,
    FOLLOW_UP,
    OUTCOMES,
    REFERRAL,
    REFERRAL_NEXT,
    STAFF_ACTIONS,
    act_on_appointment,
    advance_referral,
    appointment_for_request,
    history,
    record_attempt,
)
from spoc.plugins.healthcare.settings import HealthcareSettings, settings_of

bp = Blueprint("navigator", __name__, template_folder="templates")


def _settings(spoc: Spoc) -> HealthcareSettings:
    return settings_of(spoc)


def _back(request_id: int) -> Response:
    return redirect(f"/console/requests/{request_id}", code=303)


def _local(name: str, spoc: Spoc) -> datetime | None:
    value = request.form.get(name, "").strip()
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=spoc.settings.tz)
    except ValueError:
        raise ValidationFailed(
            "the slot is invalid", {name: "use the date and time picker"}
        ) from None


def _staff_on(request_id: int, what: str) -> tuple[Actor, Response | None]:
    """The signed-in navigator (admin or agent) and, when they are not responsible for this
    patient and gave no break-glass reason, the form asking why: a change is also a read."""
    actor = console_agent(Role.ADMIN, Role.AGENT)
    try:
        found = spoc_of().requests.get(request_id, actor)
    except NotFoundError:
        abort(404)
    return actor, console_access(what, request=found, next_url=f"/console/requests/{request_id}")


def _flash_error(exc: ServiceError) -> None:
    detail = "; ".join(f"{k}: {v}" for k, v in getattr(exc, "errors", {}).items())
    flash(f"{exc}" + (f" ({detail})" if detail else ""), "error")


@bp.post("/requests/<int:request_id>/appointment")
def appointment_action(request_id: int) -> Response:
    actor, refused = _staff_on(request_id, "appointment:change")
    if refused is not None:
        return refused
    spoc = spoc_of()
    try:
        act_on_appointment(
            spoc,
            _settings(spoc),
            request_id,
            actor,
            request.form.get("action", ""),
            start=_local("start", spoc),
            end=_local("end", spoc),
            reason=request.form.get("reason", ""),
            provider=request.form.get("provider"),
            location=request.form.get("location"),
        )
        flash("Appointment updated.", "success")
    except ServiceError as exc:
        _flash_error(exc)
    return _back(request_id)


@bp.post("/requests/<int:request_id>/referral")
def referral_action(request_id: int) -> Response:
    actor, refused = _staff_on(request_id, "referral:change")
    if refused is not None:
        return refused
    try:
        advance_referral(
            spoc_of(),
            request_id,
            actor,
            request.form.get("status", ""),
            request.form.get("note", ""),
        )
        flash("Referral updated.", "success")
    except ServiceError as exc:
        _flash_error(exc)
    return _back(request_id)


@bp.post("/requests/<int:request_id>/attempts")
def attempt_action(request_id: int) -> Response:
    actor, refused = _staff_on(request_id, "follow-up:call")
    if refused is not None:
        return refused
    spoc = spoc_of()
    try:
        failed = record_attempt(
            spoc,
            _settings(spoc),
            request_id,
            actor,
            request.form.get("outcome", ""),
            request.form.get("note", ""),
        )
        flash(f"Call recorded ({failed} failed so far).", "success")
    except ServiceError as exc:
        _flash_error(exc)
    return _back(request_id)


# --- panels ----------------------------------------------------------------------------------


def console_panels(found: Request, spoc: Spoc) -> list[ConsolePanel]:
    panels: list[ConsolePanel] = []
    patient = spoc.directory.subject(found.subject_id) if found.subject_id else None
    if patient is not None and patient.kind == "healthcare.patient":
        html = render_template("healthcare/patient_panel.html", patient=patient)
        panels.append(ConsolePanel("Patient", Markup(html), order=5))  # noqa: S704
    with spoc.db.reader() as session:
        if found.type_key == APPOINTMENT:
            appointment = appointment_for_request(session, found.id)
            if appointment is not None:
                html = render_template(
                    "healthcare/appointment_panel.html",
                    req=found,
                    appointment=appointment,
                    changes=history(session, appointment.id),
                    actions=STAFF_ACTIONS.get(appointment.status, ()),
                    tz=spoc.settings.tz,
                )
                panels.append(ConsolePanel("Appointment", Markup(html), order=10))  # noqa: S704
        elif found.type_key == REFERRAL:
            referral = session.scalar(select(Referral).where(Referral.request_id == found.id))
            if referral is not None:
                html = render_template(
                    "healthcare/referral_panel.html",
                    req=found,
                    referral=referral,
                    next_statuses=REFERRAL_NEXT.get(referral.status, ()),
                )
                panels.append(ConsolePanel("Referral (FHIR Task)", Markup(html), order=10))  # noqa: S704
        elif found.type_key == FOLLOW_UP:
            attempts = list(
                session.scalars(
                    select(ContactAttempt)
                    .where(ContactAttempt.request_id == found.id)
                    .order_by(ContactAttempt.id)
                    .limit(50)
                )
            )
            html = render_template(
                "healthcare/followup_panel.html", req=found, attempts=attempts, outcomes=OUTCOMES
            )
            panels.append(ConsolePanel("Follow-up calls", Markup(html), order=10))  # noqa: S704
    return panels


def portal_panels(found: Request, spoc: Spoc) -> list[ConsolePanel]:
    with spoc.db.reader() as session:
        appointment = appointment_for_request(session, found.id)
        if appointment is None:
            return []
        html = render_template(
            "healthcare/portal_appointment.html", appointment=appointment, tz=spoc.settings.tz
        )
    return [ConsolePanel("Your appointment", Markup(html), order=10)]  # noqa: S704


# --- exports ---------------------------------------------------------------------------------


def exports(found: Request, spoc: Spoc) -> list[Export]:
    host = urlsplit(spoc.settings.base_url).hostname or "spoc.invalid"
    with spoc.db.reader() as session:
        subject = session.get(Subject, found.subject_id) if found.subject_id else None
        patient = subject.name if subject is not None else "Patient"
        if found.type_key == APPOINTMENT:
            appointment = appointment_for_request(session, found.id)
            if appointment is None:
                return []
            session.expunge(appointment)
            number = appointment.number
            organiser = f"navigator@{host}"
            return [
                Export(
                    "appointment.ics",
                    "Calendar invitation (iCalendar)",
                    "text/calendar",
                    f"{number}.ics",
                    lambda: fhir.appointment_ics(appointment, host, organiser),
                ),
                Export(
                    "appointment-r5.json",
                    "FHIR R5 Appointment",
                    "application/fhir+json",
                    f"{number}-r5.json",
                    lambda: fhir.appointment_r5(appointment, patient),
                ),
                Export(
                    "appointment-r4b.json",
                    "FHIR R4B Appointment (older partners)",
                    "application/fhir+json",
                    f"{number}-r4b.json",
                    lambda: fhir.appointment_r4b(appointment, patient),
                ),
            ]
        referral = session.scalar(select(Referral).where(Referral.request_id == found.id))
        if referral is None:
            return []
        session.expunge(referral)
        fields = dict(found.fields or {})
        return [
            Export(
                "referral-task.json",
                "FHIR R5 Task (referral)",
                "application/fhir+json",
                f"REF-{referral.id:06d}-task.json",
                lambda: fhir.referral_task(referral, fields, patient),
                requester=False,
            )
        ]
