"""Patients: adding one, recording a discharge (which opens the follow-up), exporting a
patient's data and anonymising it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from spoc import Actor, RecordId, Request, Spoc, Subject, ValidationFailed
from spoc.plugins.healthcare.forms import Disposition
from spoc.plugins.healthcare.models import (
    Appointment,
    AppointmentChange,
    DischargeRecord,
    Referral,
)
from spoc.plugins.healthcare.records import FOLLOW_UP

PATIENT = "healthcare.patient"
PAGE = 200


class PatientContact(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    phone: str | None = Field(default=None, max_length=40)


class Discharge(BaseModel):
    """``POST /api/v1/healthcare/discharges`` and ``spoc healthcare discharge``."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    patient_id: RecordId | None = Field(default=None, description="The patient subject's id")
    record_number: str | None = Field(default=None, max_length=40)
    discharged_at: datetime = Field(description="When the patient left, with its time zone")
    disposition: Disposition = Disposition.HOME
    follow_up_visit: str = Field(default="", max_length=200)
    contact: PatientContact


def find_patient(spoc: Spoc, patient_id: int | None, record_number: str | None) -> Subject:
    with spoc.db.reader() as session:
        subject = None
        if patient_id is not None:
            subject = session.get(Subject, patient_id)
        elif record_number:
            subject = session.scalar(
                select(Subject).where(
                    Subject.kind == PATIENT, Subject.external_ref == record_number
                )
            )
        if subject is None or subject.kind != PATIENT:
            raise ValidationFailed(
                "no such patient", {"patient_id": "give a patient's id or record number"}
            )
        return subject


def record_discharge(spoc: Spoc, actor: Actor, discharge: Discharge) -> tuple[Request, bool]:
    """Open the post-discharge follow-up, its clocks running from the discharge itself.

    The same discharge recorded twice (a retried feed) returns the first request: the
    second element is ``False`` then."""
    patient = find_patient(spoc, discharge.patient_id, discharge.record_number)
    at = discharge.discharged_at
    if at.tzinfo is None:
        raise ValidationFailed("invalid discharge", {"discharged_at": "give the time zone"})
    if (earlier := _recorded(spoc, patient.id, at)) is not None:
        return earlier, False
    try:
        request = spoc.requests.create(
            type_key=FOLLOW_UP,
            fields={
                "discharged_at": at.isoformat(),
                "disposition": discharge.disposition.value,
                "follow_up_visit": discharge.follow_up_visit,
            },
            requester=discharge.contact.model_dump(),
            subject_id=patient.id,
            actor=actor,
            clocks_from=at,
        )
    except IntegrityError:
        # Recorded at the same moment by another feed: its follow-up is the one.
        if (earlier := _recorded(spoc, patient.id, at)) is None:
            raise
        return earlier, False
    return request, True


def _recorded(spoc: Spoc, patient_id: int, at: datetime) -> Request | None:
    with spoc.db.reader() as session:
        request_id = session.scalar(
            select(DischargeRecord.request_id).where(
                DischargeRecord.patient_id == patient_id, DischargeRecord.discharged_at == at
            )
        )
    return spoc.requests.get(request_id, Actor.system()) if request_id is not None else None


def export_patient(spoc: Spoc, patient_id: int) -> Iterator[str]:
    """Everything held about a patient (GDPR art. 15/20) as one JSON document, streamed."""
    patient = find_patient(spoc, patient_id, None)

    def dump(value: Any) -> str:
        return json.dumps(value, default=_json_default, sort_keys=True)

    yield '{"patient": ' + dump(
        {
            "id": patient.id,
            "name": patient.name,
            "record_number": patient.external_ref,
            "attributes": patient.attributes,
        }
    )
    yield ', "requests": ['
    first, after = True, 0
    while True:
        with spoc.db.reader() as session:
            rows = list(
                session.scalars(
                    select(Request)
                    .where(Request.subject_id == patient_id, Request.id > after)
                    .order_by(Request.id)
                    .limit(PAGE)
                )
            )
            for row in rows:
                events = spoc.requests.timeline(row.id, Actor.system())
                item = {
                    "reference": spoc.requests.reference(row.id),
                    "type": row.type_key,
                    "status": row.status.value,
                    "created_at": row.created_at,
                    "fields": row.fields,
                    "timeline": [
                        {
                            "at": e.at,
                            "kind": e.kind,
                            "summary": e.summary,
                            "message": e.message.body if e.message else None,
                        }
                        for e in events
                    ],
                }
                yield ("" if first else ", ") + dump(item)
                first = False
        if len(rows) < PAGE:
            break
        after = rows[-1].id
    yield '], "appointments": ['
    with spoc.db.reader() as session:
        appointments = session.scalars(
            select(Appointment).where(Appointment.patient_id == patient_id).order_by(Appointment.id)
        )
        for index, appointment in enumerate(appointments):
            changes = session.scalars(
                select(AppointmentChange)
                .where(AppointmentChange.appointment_id == appointment.id)
                .order_by(AppointmentChange.id)
            )
            yield ("" if index == 0 else ", ") + dump(
                {
                    "number": appointment.number,
                    "status": appointment.status,
                    "service": appointment.service,
                    "start": appointment.start_at,
                    "end": appointment.end_at,
                    "history": [
                        {"at": c.at, "action": c.action, "by": c.actor_name, "to": c.to_status}
                        for c in changes
                    ],
                }
            )
    yield '], "referrals": ['
    with spoc.db.reader() as session:
        referrals = session.scalars(
            select(Referral).where(Referral.patient_id == patient_id).order_by(Referral.id)
        )
        for index, referral in enumerate(referrals):
            yield ("" if index == 0 else ", ") + dump(
                {
                    "status": referral.status,
                    "to": referral.receiving_organisation,
                    "requested": referral.authored_at,
                }
            )
    yield "]}\n"


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot export {type(value).__name__}")


def anonymise_patient(spoc: Spoc, actor: Actor, patient_id: int) -> int:
    """Keep the patient for statistics (birth year, language), no longer identifying."""
    patient = find_patient(spoc, patient_id, None)
    born = str(patient.attributes.get("date_of_birth", ""))[:4]
    keep = {"birth_year": born} if born.isdigit() else {}
    language = patient.attributes.get("preferred_language")
    if language:
        keep["preferred_language"] = language
    with spoc.db.transaction() as session:
        for appointment in session.scalars(
            select(Appointment).where(Appointment.patient_id == patient_id)
        ):
            appointment.cancel_reason = None
            appointment.cancelled_by = "[removed]" if appointment.cancelled_by else None
        session.execute(
            update(AppointmentChange)
            .where(
                AppointmentChange.appointment_id.in_(
                    select(Appointment.id).where(Appointment.patient_id == patient_id)
                )
            )
            .values(actor_name="[removed]", note="")
        )
    return spoc.directory.anonymise_subject(
        actor, patient_id, label=f"Anonymised patient {patient_id}", keep=keep
    )
