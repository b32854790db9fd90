"""Appointments as FHIR R5 / R4B ``Appointment`` and iCalendar; referrals as FHIR ``Task``.

Validated with the ``fhir.resources`` models before they leave: an export that would not
validate is a bug here, never the partner's problem. No clinical reason goes into the
iCalendar invitation (calendars are synced to phones and shared).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from icalendar import Calendar, Event

from spoc.plugins.healthcare.models import Appointment, Referral

PRODID = "-//SPOC//Patient navigator//EN"
# FHIR R4B has no "cancelled" participant semantics beyond status; both versions share the
# Appointment.status code list we store.
SYSTEM = "urn:spoc:healthcare"


def _instant(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _participants(patient_name: str, participant_status: str) -> list[dict[str, Any]]:
    return [{"actor": {"display": patient_name}, "status": participant_status}]


def _participant_status(status: str) -> str:
    if status in ("cancelled", "noshow", "entered-in-error"):
        return "declined"
    return (
        "accepted" if status in ("booked", "arrived", "fulfilled", "checked-in") else "needs-action"
    )


def _appointment(appointment: Appointment, patient_name: str, r5: bool) -> dict[str, Any]:
    service = {"concept": {"text": appointment.service}} if r5 else {"text": appointment.service}
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": f"apt-{appointment.id}",
        "identifier": [{"system": f"{SYSTEM}:appointment", "value": appointment.number}],
        "status": appointment.status,
        # R5 wraps the service in a CodeableReference; R4B has a plain CodeableConcept.
        "serviceType": [service],
        "created": appointment.created_at.isoformat(),
        "participant": _participants(patient_name, _participant_status(appointment.status)),
    }
    if appointment.start_at and appointment.end_at:
        resource["start"] = _instant(appointment.start_at)
        resource["end"] = _instant(appointment.end_at)
    if appointment.status == "cancelled":
        if r5:
            resource["cancellationDate"] = appointment.updated_at.isoformat()
        if appointment.cancel_reason:
            # R4B spells it with one "l".
            key = "cancellationReason" if r5 else "cancelationReason"
            resource[key] = {"text": appointment.cancel_reason}
    return resource


def appointment_r5(appointment: Appointment, patient_name: str) -> str:
    # Imported here, at the first export: the FHIR models take a quarter of a second and
    # ~15 MiB to import, which every worker and command would pay otherwise.
    from fhir.resources.appointment import Appointment as AppointmentR5

    resource = AppointmentR5.model_validate(_appointment(appointment, patient_name, r5=True))
    return resource.model_dump_json(indent=2)


def appointment_r4b(appointment: Appointment, patient_name: str) -> str:
    # Imported here, at the first export (see appointment_r5).
    from fhir.resources.R4B.appointment import Appointment as AppointmentR4B

    resource = AppointmentR4B.model_validate(_appointment(appointment, patient_name, r5=False))
    return resource.model_dump_json(indent=2)


def referral_task(referral: Referral, fields: dict[str, Any], patient_name: str) -> str:
    intent_priority = {"routine": "routine", "urgent": "urgent", "asap": "asap", "stat": "stat"}
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": f"referral-{referral.id}",
        "identifier": [{"system": f"{SYSTEM}:referral", "value": f"REF-{referral.id:06d}"}],
        "status": referral.status,
        "intent": "order",
        "priority": intent_priority.get(referral.priority, "routine"),
        "description": fields.get("what") or "Referral",
        "for": {"display": patient_name},
        "owner": {"display": referral.receiving_organisation},
        "authoredOn": referral.authored_at.isoformat(),
        "lastModified": referral.updated_at.isoformat(),
    }
    if fields.get("why"):
        resource["reason"] = [{"concept": {"text": fields["why"]}}]
    # Imported here, at the first export (see appointment_r5).
    from fhir.resources.task import Task

    validated = Task.model_validate(resource)
    return validated.model_dump_json(indent=2)


def appointment_ics(appointment: Appointment, host: str, organiser: str) -> bytes:
    """An invitation: the UID never changes, SEQUENCE counts the moves, a cancellation is
    METHOD:CANCEL with STATUS:CANCELLED (RFC 5546)."""
    cancelled = appointment.status == "cancelled"
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", f"appointment-{appointment.id}@{host}")
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", appointment.updated_at)
    if appointment.start_at and appointment.end_at:
        event.add("dtstart", appointment.start_at)
        event.add("dtend", appointment.end_at)
    event.add("summary", f"Appointment: {appointment.service}")
    if appointment.location:
        event.add("location", appointment.location)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("organizer", f"mailto:{organiser}")
    event.add("description", f"Appointment {appointment.number}. Bring this number with you.")
    calendar.add_component(event)
    return bytes(calendar.to_ical())
