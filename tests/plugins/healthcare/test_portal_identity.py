"""A record number typed in the portal is a claim, never proof: it files nothing into the
patient's record and unlocks nothing about it. Only an intake link or a proven identity does."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from spoc import Actor, Role
from spoc.core.domain.audit import AuditFilter, audit_entries
from spoc.core.domain.models import Request, TimelineEvent, Visibility
from spoc.core.services import spoc_of
from spoc.plugins.healthcare.models import Appointment, RequestAppointment
from tests.conftest import AppFactory, Inbox, csrf_token
from tests.plugins.healthcare.conftest import Hospital, make_hospital

APPOINTMENT = "healthcare.appointment"


@pytest.fixture
def clinic_app(make_app: AppFactory, inbox: tuple[Inbox, int]) -> Flask:
    return make_app(plugins=["generic", "healthcare"], smtp_host="127.0.0.1", smtp_port=inbox[1])


@pytest.fixture
def clinic(clinic_app: Flask) -> Hospital:
    return make_hospital(clinic_app)


def booked_appointment(clinic: Hospital) -> Appointment:
    request = clinic.book()
    with clinic.spoc.db.reader() as session:
        link = session.get(RequestAppointment, request.id)
        assert link is not None
        found = session.get(Appointment, link.appointment_id)
        assert found is not None
        return found


def post_form(
    client: FlaskClient, key: str, fields: dict[str, str], reference: str, **extra: str
) -> tuple[int, str]:
    data = {
        "csrf_token": csrf_token(client, f"/new/{key}"),
        "requester_name": "Eve Outsider",
        "requester_email": "eve@example.com",
        "reference": reference,
        **fields,
        **extra,
    }
    response = client.post(f"/new/{key}", data=data)
    return response.status_code, response.headers.get("Location", "")


def newest(clinic: Hospital) -> Request:
    with clinic.spoc.db.reader() as session:
        found = session.scalar(select(Request).order_by(Request.id.desc()).limit(1))
        assert found is not None
        return found


def shape(html: str) -> str:
    """A page with its per-request secrets and numbers taken out, to compare two answers."""
    html = re.sub(r"/track/[A-Za-z0-9_-]+", "/track/T", html)
    html = re.sub(r"REQ-\d+", "REQ-N", html)
    html = re.sub(r"APT-[0-9A-Z]{10}", "APT-N", html)
    html = re.sub(r'name="csrf_token" value="[^"]+"', "", html)
    html = re.sub(r'data-csrf="[^"]+"', "", html)  # the suggestions' token, per session
    html = re.sub(r"\d{2} \w{3} \d{4}, \d{2}:\d{2}", "", html)
    return re.sub(r"Expect [^<]+", "", html)


def test_typed_record_number_never_attaches_to_patient(clinic_app: Flask, clinic: Hospital) -> None:
    client = clinic_app.test_client()
    fields = {"action": "book", "service": "Cardiology", "reason": "Checkup"}
    status, location = post_form(client, APPOINTMENT, fields, "MRN-1")
    assert status == 303
    filed = newest(clinic)
    assert filed.subject_id is None
    # Staff see what was typed, as an unverified claim; the requester does not.
    with clinic.spoc.db.reader() as session:
        claims = list(
            session.scalars(
                select(TimelineEvent).where(
                    TimelineEvent.request_id == filed.id,
                    TimelineEvent.kind == "reference_claimed",
                )
            )
        )
    assert [(c.data["reference"], c.visibility) for c in claims] == [("MRN-1", Visibility.INTERNAL)]
    page = client.get(location).get_data(as_text=True)
    assert "MRN-1" not in page and "Maria Anders" not in page


def test_existing_and_unknown_record_numbers_get_the_same_answer(
    clinic_app: Flask, clinic: Hospital
) -> None:
    fields = {"action": "book", "service": "Cardiology"}
    pages = []
    for reference in ("MRN-1", "MRN-999999"):
        client = clinic_app.test_client()
        status, location = post_form(client, APPOINTMENT, fields, reference)
        assert status == 303
        pages.append(shape(client.get(location).get_data(as_text=True)))
        assert newest(clinic).subject_id is None
    assert pages[0] == pages[1]


def test_outsider_cannot_cancel_or_see_a_patients_appointment_by_numbers(
    clinic_app: Flask, clinic: Hospital
) -> None:
    appointment = booked_appointment(clinic)
    fields = {
        "action": "cancel",
        "service": "Cardiology",
        "appointment_number": appointment.number,
        "cancel_reason": "Not coming",
    }
    answers = []
    for reference, number in (("MRN-1", appointment.number), ("MRN-999999", "APT-0000000000")):
        client = clinic_app.test_client()
        status, _ = post_form(
            client, APPOINTMENT, {**fields, "appointment_number": number}, reference
        )
        answers.append((status, shape(client.get("/").get_data(as_text=True))))
        assert status == 422
    assert answers[0] == answers[1]
    with clinic.spoc.db.reader() as session:
        still = session.get(Appointment, appointment.id)
        assert still is not None and still.status == "proposed"
        links = session.scalars(select(RequestAppointment.request_id)).all()
    assert list(links) == [appointment.request_id]  # nothing else reaches the appointment


def test_error_page_for_a_real_appointment_is_the_same_as_for_a_made_up_one(
    clinic_app: Flask, clinic: Hospital
) -> None:
    appointment = booked_appointment(clinic)
    bodies = []
    for number in (appointment.number, "APT-0000000000"):
        client = clinic_app.test_client()
        data = {
            "csrf_token": csrf_token(client, f"/new/{APPOINTMENT}"),
            "requester_name": "Eve Outsider",
            "requester_email": "eve@example.com",
            "reference": "MRN-1",
            "action": "cancel",
            "service": "Cardiology",
            "appointment_number": number,
        }
        response = client.post(f"/new/{APPOINTMENT}", data=data)
        body = response.get_data(as_text=True).replace(number, "NUMBER")
        bodies.append((response.status_code, shape(body)))
    assert bodies[0] == bodies[1]
    assert "Cardiology" in bodies[0][1]  # what Eve typed, echoed back; nothing of the patient's
    assert "Maria Anders" not in bodies[0][1]


def test_outsider_cannot_file_a_referral_into_the_record(
    clinic_app: Flask, clinic: Hospital
) -> None:
    client = clinic_app.test_client()
    fields = {"what": "Cardiology", "why": "Second opinion", "receiving_organisation": "St E"}
    status, _ = post_form(client, "healthcare.referral", fields, "MRN-1")
    assert status == 303
    assert newest(clinic).subject_id is None


def test_magic_link_to_the_address_on_record_proves_the_patient(
    clinic_app: Flask, clinic: Hospital, inbox: tuple[Inbox, int]
) -> None:
    appointment = booked_appointment(clinic)  # filed by maria@example.com into her record
    client = clinic_app.test_client()
    client.post(
        "/my-requests", data={"csrf_token": csrf_token(client), "email": "maria@example.com"}
    )
    clinic.spoc.outbox.deliver_due()
    client.get(inbox[0].link())
    data = {
        "csrf_token": csrf_token(client, f"/new/{APPOINTMENT}"),
        "requester_name": "Maria Anders",
        "requester_email": "maria@example.com",
        "reference": "MRN-1",
        "action": "cancel",
        "service": "Cardiology",
        "appointment_number": appointment.number,
        "cancel_reason": "Feeling better",
    }
    response = client.post(f"/new/{APPOINTMENT}", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert newest(clinic).subject_id == clinic.patient.id
    with clinic.spoc.db.reader() as session:
        cancelled = session.get(Appointment, appointment.id)
        assert cancelled is not None and cancelled.status == "cancelled"


def test_signed_in_contact_not_on_record_is_no_proof(
    clinic_app: Flask, clinic: Hospital, inbox: tuple[Inbox, int]
) -> None:
    clinic.file(
        "generic.question",
        {"summary": "Hello there", "details": "x"},
        subject_id=None,
        requester={"name": "Eve", "email": "eve@example.com"},
    )
    client = clinic_app.test_client()
    client.post("/my-requests", data={"csrf_token": csrf_token(client), "email": "eve@example.com"})
    clinic.spoc.outbox.deliver_due()
    client.get(inbox[0].link())
    status, _ = post_form(client, APPOINTMENT, {"action": "book", "service": "Cardiology"}, "MRN-1")
    assert status == 303
    assert newest(clinic).subject_id is None


def test_appointment_numbers_are_random_not_the_row_id(clinic: Hospital) -> None:
    booked = [booked_appointment(clinic) for _ in range(3)]
    assert all(re.fullmatch(r"APT-[0-9A-Z]{10}", a.number) for a in booked)
    assert len({a.number for a in booked}) == 3


def test_demo_record_numbers_are_not_sequential(make_app: AppFactory) -> None:
    from spoc.core.domain.demo import seed
    from spoc.core.domain.models import Subject

    spoc = spoc_of(make_app(plugins=["generic", "healthcare"]))
    seed(spoc)
    with spoc.db.reader() as session:
        refs = list(
            session.scalars(
                select(Subject.external_ref).where(Subject.kind == "healthcare.patient")
            )
        )
    assert refs and not any(re.fullmatch(r"MRN-\d+", r or "") for r in refs)


def test_staff_linking_a_private_record_is_audited(clinic: Hospital) -> None:
    filed = clinic.file(APPOINTMENT, {"action": "book", "service": "Cardiology"}, subject_id=None)
    dana = Actor.agent(clinic.org.dana.id, Role.AGENT, clinic.org.dana.name)
    clinic.spoc.requests.link_subject(filed.id, dana, clinic.patient.id)
    with clinic.spoc.db.reader() as session:
        where = AuditFilter(target_kind="request", target_id=filed.id)
        entries = [(e.action, e.actor_id, dict(e.after)) for e in audit_entries(session, where)]
    # Linking also hands the request to the patient's acting SPOC: that is its own entry.
    assert ("request.subject_verified", clinic.org.dana.id, {"subject_id": clinic.patient.id}) in (
        entries
    )
    assert {action for action, _, _ in entries} == {"request.subject_verified", "request.owner"}


def test_a_record_number_in_a_general_question_attaches_nothing_and_confirms_nothing(
    clinic_app: Flask, clinic: Hospital
) -> None:
    fields = {"summary": "About my care", "details": "Please call me"}
    answers = []
    for reference in ("MRN-1", "MRN-999999"):
        client = clinic_app.test_client()
        status, location = post_form(client, "generic.question", fields, reference)
        answers.append((status, shape(client.get(location).get_data(as_text=True))))
        assert newest(clinic).subject_id is None
    assert answers[0] == answers[1] and answers[0][0] == 303
