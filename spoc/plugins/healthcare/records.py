"""Appointments, referrals and follow-up attempts: the rules, applied inside request writes.

Every change is made through ``spoc.requests.record_event`` so the plugin's rows and the
request's timeline entry commit together; the appointment history is append-only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spoc import (
    Actor,
    ActorKind,
    IllegalTransition,
    Priority,
    Request,
    Spoc,
    Triage,
    ValidationFailed,
)
from spoc.plugins.healthcare.forms import (
    AppointmentAction,
    AppointmentForm,
    BillingForm,
    FollowUpForm,
    ReferralForm,
)
from spoc.plugins.healthcare.models import (
    REFERRAL_STATUSES,
    Appointment,
    AppointmentChange,
    ContactAttempt,
    DischargeRecord,
    Referral,
    RequestAppointment,
)
from spoc.plugins.healthcare.settings import HealthcareSettings

APPOINTMENT = "healthcare.appointment"
BILLING = "healthcare.billing"
REFERRAL = "healthcare.referral"
FOLLOW_UP = "healthcare.post_discharge"
EDUCATION = "healthcare.education"

# What staff may do to an appointment in each FHIR status.
STAFF_ACTIONS: dict[str, tuple[str, ...]] = {
    "proposed": ("confirm", "waitlist", "cancel", "entered-in-error"),
    "pending": ("confirm", "waitlist", "cancel", "entered-in-error"),
    "waitlist": ("confirm", "cancel", "entered-in-error"),
    "booked": ("reschedule", "cancel", "arrived", "checked-in", "noshow", "entered-in-error"),
    "arrived": ("checked-in", "fulfilled", "entered-in-error"),
    "checked-in": ("fulfilled", "entered-in-error"),
    "fulfilled": ("entered-in-error",),
    "cancelled": ("entered-in-error",),
    "noshow": ("entered-in-error",),
    "entered-in-error": (),
}
TARGET = {
    "confirm": "booked",
    "reschedule": "booked",
    "waitlist": "waitlist",
    "cancel": "cancelled",
    "arrived": "arrived",
    "checked-in": "checked-in",
    "fulfilled": "fulfilled",
    "noshow": "noshow",
    "entered-in-error": "entered-in-error",
}
REFERRAL_NEXT: dict[str, tuple[str, ...]] = {
    "requested": ("received", "accepted", "rejected", "cancelled"),
    "received": ("accepted", "rejected", "cancelled"),
    "accepted": ("in-progress", "completed", "cancelled"),
    "in-progress": ("completed", "cancelled"),
    "rejected": (),
    "completed": (),
    "cancelled": (),
}
OUTCOMES = ("reached", "no_answer", "left_message", "wrong_number", "new_symptoms")
FAILED = ("no_answer", "left_message", "wrong_number")


def find_by_number(session: Session, text: str) -> Appointment | None:
    number = "APT-" + text.strip().upper().removeprefix("APT-")
    return session.scalar(select(Appointment).where(Appointment.number == number))


def appointment_for_request(session: Session, request_id: int) -> Appointment | None:
    link = session.get(RequestAppointment, request_id)
    return session.get(Appointment, link.appointment_id) if link else None


def history(session: Session, appointment_id: int) -> list[AppointmentChange]:
    query = (
        select(AppointmentChange)
        .where(AppointmentChange.appointment_id == appointment_id)
        .order_by(AppointmentChange.id)
        .limit(200)
    )
    return list(session.scalars(query))


def _change(
    session: Session,
    appointment: Appointment,
    actor: Actor,
    action: str,
    before: str | None,
    now: datetime,
    note: str = "",
) -> None:
    session.add(
        AppointmentChange(
            appointment_id=appointment.id,
            at=now,
            actor_kind="patient" if actor.kind is ActorKind.REQUESTER else actor.kind.value,
            actor_name=actor.name or actor.kind.value,
            action=action,
            from_status=before,
            to_status=appointment.status,
            start_at=appointment.start_at,
            end_at=appointment.end_at,
            sequence=appointment.sequence,
            note=note[:500],
        )
    )


# --- at intake (inside the intake transaction) -----------------------------------------------


def on_filed(
    spoc: Spoc, settings: HealthcareSettings, request: Request, fields: BaseModel, session: Session
) -> None:
    now = spoc.clock.now()
    if isinstance(fields, AppointmentForm):
        _appointment_filed(settings, request, fields, session, now)
    elif isinstance(fields, ReferralForm):
        session.add(
            Referral(
                request_id=request.id,
                patient_id=request.subject_id,
                status="requested",
                priority=fields.priority.value,
                receiving_organisation=fields.receiving_organisation,
                authored_at=now,
                updated_at=now,
            )
        )
        accept_within = timedelta(
            hours=settings.business_day_hours * settings.referral_accept_business_days
        )
        spoc.watches.arm(
            session,
            "healthcare:referral_not_accepted",
            spoc.business_add(now, accept_within),
            request_id=request.id,
            escalate_to=settings.referrals_team,
            reason=f"Referral not accepted within "
            f"{settings.referral_accept_business_days} business days",
        )
        spoc.watches.arm(
            session,
            "healthcare:referral_no_result",
            now + timedelta(days=settings.referral_result_days),
            request_id=request.id,
            escalate_to=settings.referrals_team,
            reason=f"No referral result within {settings.referral_result_days} days",
        )
    elif isinstance(fields, FollowUpForm) and request.subject_id is not None:
        session.add(
            DischargeRecord(
                patient_id=request.subject_id,
                discharged_at=fields.discharged_at,
                request_id=request.id,
            )
        )
    elif isinstance(fields, BillingForm) and fields.prior_authorisation_pending_since:
        since = datetime.combine(
            fields.prior_authorisation_pending_since, datetime.min.time(), tzinfo=now.tzinfo
        )
        wait = (
            timedelta(hours=settings.prior_auth_urgent_hours)
            if fields.prior_authorisation_urgent
            else timedelta(days=settings.prior_auth_standard_days)
        )
        kind = "urgent" if fields.prior_authorisation_urgent else "standard"
        spoc.watches.arm(
            session,
            "healthcare:prior_authorisation",
            max(since + wait, now),
            request_id=request.id,
            escalate_to=settings.billing_team,
            reason=f"Prior authorisation ({kind}) pending longer than allowed",
        )


def _appointment_filed(
    settings: HealthcareSettings,
    request: Request,
    fields: AppointmentForm,
    session: Session,
    now: datetime,
) -> None:
    patient = Actor.requester(request.contact_id, "the patient")
    if fields.action is AppointmentAction.BOOK:
        appointment = Appointment(
            patient_id=request.subject_id,
            request_id=request.id,
            status="proposed",
            service=fields.service,
            provider=fields.provider,
            location=fields.location,
            sequence=0,
            created_at=now,
            updated_at=now,
        )
        session.add(appointment)
        session.flush()
        _change(session, appointment, patient, "requested", None, now, fields.preferred_slots)
    else:
        assert fields.appointment_number is not None
        found = find_by_number(session, fields.appointment_number)
        # Only the patient's own appointment: a number alone proves nothing.
        if found is None or request.subject_id is None or found.patient_id != request.subject_id:
            raise ValidationFailed(
                "we could not match that appointment to you",
                {
                    "fields.appointment_number": "Not found for you. Use the link from your "
                    "confirmation, or leave it empty and ask us to book."
                },
            )
        appointment = found
        if fields.action is AppointmentAction.CANCEL:
            if appointment.status in ("cancelled", "fulfilled", "entered-in-error", "noshow"):
                raise ValidationFailed(
                    "this appointment cannot be cancelled",
                    {"fields.appointment_number": f"It is {appointment.status} already."},
                )
            cancel(settings, session, appointment, patient, fields.cancel_reason, now)
    session.add(RequestAppointment(request_id=request.id, appointment_id=appointment.id))


def cancel(
    settings: HealthcareSettings,
    session: Session,
    appointment: Appointment,
    actor: Actor,
    reason: str,
    now: datetime,
) -> None:
    before = appointment.status
    appointment.status = "cancelled"
    appointment.cancelled_by = actor.name or actor.kind.value
    appointment.cancelled_by_kind = "patient" if actor.kind is ActorKind.REQUESTER else "staff"
    appointment.cancel_reason = reason.strip()[:500] or None
    appointment.sequence += 1
    appointment.updated_at = now
    late = appointment.start_at is not None and now <= appointment.start_at < now + timedelta(
        hours=settings.late_cancel_hours
    )
    note = "late cancellation: offer the slot to the wait list" if late else reason
    _change(session, appointment, actor, "cancelled", before, now, note)


# --- staff actions (each one request write) --------------------------------------------------


def act_on_appointment(
    spoc: Spoc,
    settings: HealthcareSettings,
    request_id: int,
    actor: Actor,
    action: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    reason: str = "",
    provider: str | None = None,
    location: str | None = None,
) -> Appointment:
    if action not in TARGET:
        raise ValidationFailed("unknown action", {"action": f"no action {action!r}"})
    if action in ("confirm", "reschedule"):
        problems = {}
        if start is None or start.tzinfo is None:
            problems["start"] = "give the start with its time zone"
        if end is None or start is None or end <= start:
            problems["end"] = "must be after the start"
        if problems:
            raise ValidationFailed("the slot is incomplete", problems)
    if action == "cancel" and not reason.strip():
        raise ValidationFailed("say why it is cancelled", {"reason": "required"})
    done: list[Appointment] = []

    def apply(session: Session, request: Request) -> None:
        appointment = appointment_for_request(session, request.id)
        if appointment is None:
            raise IllegalTransition("this request has no appointment")
        before = appointment.status
        if action not in STAFF_ACTIONS.get(before, ()):
            raise IllegalTransition(f"an appointment that is {before} cannot be {action}ed")
        now = spoc.clock.now()
        if action == "cancel":
            cancel(settings, session, appointment, actor, reason, now)
        else:
            if action in ("confirm", "reschedule"):
                moved = appointment.start_at is not None
                appointment.start_at, appointment.end_at = start, end
                if provider is not None:
                    appointment.provider = provider.strip()[:120]
                if location is not None:
                    appointment.location = location.strip()[:120]
                if moved:
                    appointment.sequence += 1
            appointment.status = TARGET[action]
            appointment.updated_at = now
            _change(session, appointment, actor, action, before, now, reason)
        done.append(appointment)

    labels = {
        "confirm": "Appointment booked",
        "reschedule": "Appointment moved",
        "cancel": "Appointment cancelled",
    }
    local = start.astimezone(spoc.settings.tz) if start else None
    when = f" for {local:%a %d %b %Y %H:%M %Z}" if local and action != "cancel" else ""
    spoc.requests.record_event(
        request_id,
        actor,
        kind=f"healthcare.apt_{action.replace('-', '_')}",
        summary=labels.get(action, f"Appointment marked {TARGET[action]}") + when,
        data={"action": action},
        public=action in labels,
        apply=apply,
    )
    return done[0]


def advance_referral(spoc: Spoc, request_id: int, actor: Actor, status: str, note: str) -> None:
    if status not in REFERRAL_STATUSES:
        raise ValidationFailed("unknown referral status", {"status": status})

    def apply(session: Session, request: Request) -> None:
        referral = session.scalar(select(Referral).where(Referral.request_id == request.id))
        if referral is None:
            raise IllegalTransition("this request has no referral")
        if status not in REFERRAL_NEXT[referral.status]:
            raise IllegalTransition(f"a referral that is {referral.status} cannot become {status}")
        now = spoc.clock.now()
        referral.status, referral.updated_at = status, now
        if status in ("accepted", "rejected", "cancelled"):
            referral.accepted_at = now if status == "accepted" else referral.accepted_at
            spoc.watches.settle(session, "healthcare:referral_not_accepted", request_id=request.id)
        if status in ("completed", "rejected", "cancelled"):
            referral.completed_at = now if status == "completed" else None
            spoc.watches.settle(session, "healthcare:referral_no_result", request_id=request.id)

    spoc.requests.record_event(
        request_id,
        actor,
        kind="healthcare.referral_status",
        summary=f"Referral {status}" + (f": {note.strip()}" if note.strip() else ""),
        data={"status": status},
        apply=apply,
    )


def record_attempt(
    spoc: Spoc,
    settings: HealthcareSettings,
    request_id: int,
    actor: Actor,
    outcome: str,
    note: str,
) -> int:
    """Log a follow-up call, in one write with what it causes: reaching the patient posts the
    reply that meets the first-contact clock; the second failed attempt (or any later one, if
    an earlier escalation could not happen) escalates to the clinical team once; new or worse
    symptoms escalate at once. Returns the number of failed attempts so far."""
    if outcome not in OUTCOMES:
        raise ValidationFailed("unknown outcome", {"outcome": f"one of {', '.join(OUTCOMES)}"})
    failed: list[int] = []

    def add_attempt(session: Session, request: Request) -> None:
        session.add(
            ContactAttempt(
                request_id=request.id,
                at=spoc.clock.now(),
                agent_id=actor.id,
                outcome=outcome,
                note=note.strip()[:500],
            )
        )
        session.flush()
        failed.append(
            session.scalar(
                select(func.count(ContactAttempt.id)).where(
                    ContactAttempt.request_id == request.id, ContactAttempt.outcome.in_(FAILED)
                )
            )
            or 0
        )

    if outcome == "reached":
        # The first contact is what the discharge clock waits for: the attempt and the reply
        # that meets it are one write.
        spoc.requests.post_message(
            request_id,
            actor,
            "We spoke with you after your discharge. Thank you.",
            apply=add_attempt,
        )
        return failed[0]

    def attempt_and_verdict(session: Session, request: Request) -> Triage | None:
        add_attempt(session, request)
        if outcome == "new_symptoms":
            return Triage(
                "New or worse symptoms after discharge",
                priority=Priority.P2,
                escalate_to=settings.clinical_team,
                cause="new_symptoms",
            )
        if failed[0] >= settings.followup_failed_attempts:
            return Triage(
                f"{failed[0]} follow-up calls failed: the patient could not be reached",
                escalate_to=settings.clinical_team,
                cause="followup_unreachable",
            )
        return None

    spoc.requests.record_event(
        request_id,
        actor,
        kind="healthcare.contact_attempt",
        summary=f"Follow-up call: {outcome.replace('_', ' ')}",
        data={"outcome": outcome},
        apply=attempt_and_verdict,
    )
    return failed[0]


def fields_of(request: Request) -> dict[str, Any]:
    return dict(request.fields or {})
