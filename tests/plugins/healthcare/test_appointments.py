"""Appointments: booked when the navigator confirms a slot; moves and cancellations keep their
history and who cancelled; exports as FHIR R5/R4B, Task and iCalendar validate and parse."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fhir.resources.appointment import Appointment as AppointmentR5
from fhir.resources.R4B.appointment import Appointment as AppointmentR4B
from fhir.resources.task import Task
from flask import Flask
from icalendar import Calendar

from spoc import IllegalTransition, ValidationFailed
from spoc.plugins.healthcare import settings_of
from spoc.plugins.healthcare.models import Appointment, AppointmentChange
from spoc.plugins.healthcare.records import act_on_appointment, appointment_for_request, history
from tests.conftest import login
from tests.plugins.healthcare.conftest import Hospital

SLOT = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def confirm(hospital: Hospital, request_id: int, start: datetime = SLOT) -> Appointment:
    return act_on_appointment(
        hospital.spoc,
        settings_of(hospital.spoc),
        request_id,
        hospital.org.actor(hospital.org.dana),
        "confirm",
        start=start,
        end=start + timedelta(minutes=30),
        location="Outpatients",
    )


def appointment(hospital: Hospital, request_id: int) -> tuple[Appointment, list[AppointmentChange]]:
    with hospital.spoc.db.reader() as session:
        found = appointment_for_request(session, request_id)
        assert found is not None
        return found, history(session, found.id)


def export(client: object, path: str) -> bytes:
    response = client.get(path)  # type: ignore[attr-defined]
    assert response.status_code == 200, path
    return bytes(response.data)


def ics(data: bytes) -> Calendar:
    calendar = Calendar.from_ical(data)
    for component in calendar.walk():
        assert not getattr(component, "errors", []), component.errors
    return calendar


def test_a_requested_appointment_is_proposed_until_the_navigator_confirms_a_slot(
    hospital: Hospital,
) -> None:
    request = hospital.book()
    found, changes = appointment(hospital, request.id)
    assert found.status == "proposed" and found.start_at is None
    assert [c.action for c in changes] == ["requested"]
    booked = confirm(hospital, request.id)
    assert booked.status == "booked" and booked.start_at == SLOT and booked.sequence == 0
    timeline = hospital.spoc.requests.timeline(request.id, hospital.org.requester(request.id))
    # In the organisation's time zone, named (London is on GMT in March).
    assert timeline[-1].summary.startswith("Appointment booked for Tue 10 Mar 2026 09:30 GMT")


def test_a_slot_needs_a_start_and_a_later_end(hospital: Hospital) -> None:
    request = hospital.book()
    with pytest.raises(ValidationFailed) as caught:
        act_on_appointment(
            hospital.spoc,
            settings_of(hospital.spoc),
            request.id,
            hospital.org.actor(hospital.org.dana),
            "confirm",
            start=SLOT,
            end=SLOT,
        )
    assert "end" in caught.value.errors
    assert appointment(hospital, request.id)[0].status == "proposed"


def test_a_reschedule_keeps_the_uid_and_increments_the_sequence(
    hospital_app: Flask, hospital: Hospital
) -> None:
    request = hospital.book()
    confirm(hospital, request.id)
    client = hospital_app.test_client()
    login(client, hospital.spoc, hospital.org.dana)
    base = f"/console/requests/{request.id}/exports"
    first = ics(export(client, f"{base}/appointment.ics"))
    act_on_appointment(
        hospital.spoc,
        settings_of(hospital.spoc),
        request.id,
        hospital.org.actor(hospital.org.dana),
        "reschedule",
        start=SLOT + timedelta(days=1),
        end=SLOT + timedelta(days=1, minutes=30),
        reason="Clinic closed",
    )
    second = ics(export(client, f"{base}/appointment.ics"))
    (one,), (two,) = first.walk("VEVENT"), second.walk("VEVENT")
    assert str(first["METHOD"]) == str(second["METHOD"]) == "REQUEST"
    assert str(one["UID"]) == str(two["UID"])
    assert int(two["SEQUENCE"]) == int(one["SEQUENCE"]) + 1
    assert two.decoded("DTSTART") == SLOT + timedelta(days=1)
    _, changes = appointment(hospital, request.id)
    assert [c.action for c in changes] == ["requested", "confirm", "reschedule"]
    assert changes[1].start_at == SLOT and changes[2].start_at == SLOT + timedelta(days=1)


def test_staff_cancellation_is_method_cancel_and_names_who_cancelled(
    hospital_app: Flask, hospital: Hospital
) -> None:
    request = hospital.book()
    confirm(hospital, request.id)
    act_on_appointment(
        hospital.spoc,
        settings_of(hospital.spoc),
        request.id,
        hospital.org.actor(hospital.org.lee),
        "cancel",
        reason="Clinician ill",
    )
    found, changes = appointment(hospital, request.id)
    assert (found.status, found.cancelled_by, found.cancelled_by_kind) == (
        "cancelled",
        "Lee Chen",
        "staff",
    )
    assert changes[-1].actor_name == "Lee Chen" and changes[-1].from_status == "booked"
    client = hospital_app.test_client()
    login(client, hospital.spoc, hospital.org.dana)
    calendar = ics(export(client, f"/console/requests/{request.id}/exports/appointment.ics"))
    (event,) = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1
    base = f"/console/requests/{request.id}/exports"
    r5 = AppointmentR5.model_validate(json.loads(export(client, f"{base}/appointment-r5.json")))
    r4b = AppointmentR4B.model_validate(json.loads(export(client, f"{base}/appointment-r4b.json")))
    assert r5.status == r4b.status == "cancelled"
    assert r5.cancellationReason.text == "Clinician ill"  # type: ignore[union-attr]
    assert r4b.cancelationReason.text == "Clinician ill"  # type: ignore[union-attr]
    with pytest.raises(IllegalTransition):
        confirm(hospital, request.id)


def test_a_patient_cancels_their_own_appointment_by_number(hospital: Hospital) -> None:
    request = hospital.book()
    booked = confirm(hospital, request.id, start=hospital.spoc.clock.now() + timedelta(hours=5))
    cancel = hospital.file(
        "healthcare.appointment",
        {
            "action": "cancel",
            "appointment_number": booked.number,
            "service": "Cardiology",
            "cancel_reason": "I feel better",
        },
    )
    found, changes = appointment(hospital, cancel.id)
    assert found.id == booked.id
    assert (found.status, found.cancelled_by_kind) == ("cancelled", "patient")
    assert changes[-1].actor_kind == "patient"
    # Less than 24 hours before the slot: it goes to the wait list.
    assert changes[-1].note == "late cancellation: offer the slot to the wait list"


def test_a_patient_cannot_cancel_someone_elses_appointment(hospital: Hospital) -> None:
    theirs = hospital.file(
        "healthcare.appointment",
        {"action": "book", "service": "Dermatology"},
        subject_id=hospital.other.id,
    )
    number = appointment(hospital, theirs.id)[0].number
    with pytest.raises(ValidationFailed) as caught:
        hospital.file(
            "healthcare.appointment",
            {"action": "cancel", "appointment_number": number, "service": "Dermatology"},
        )
    assert "fields.appointment_number" in caught.value.errors
    assert appointment(hospital, theirs.id)[0].status == "proposed"


def test_fhir_exports_validate_in_r5_and_r4b(hospital_app: Flask, hospital: Hospital) -> None:
    request = hospital.book()
    confirm(hospital, request.id)
    client = hospital_app.test_client()
    login(client, hospital.spoc, hospital.org.dana)
    base = f"/console/requests/{request.id}/exports"
    r5 = AppointmentR5.model_validate(json.loads(export(client, f"{base}/appointment-r5.json")))
    r4b = AppointmentR4B.model_validate(json.loads(export(client, f"{base}/appointment-r4b.json")))
    assert r5.status == r4b.status == "booked"
    assert r5.start == r4b.start == SLOT
    assert r5.participant[0].actor.display == "Maria Anders"  # type: ignore[index,union-attr]


def test_a_referral_exports_as_a_fhir_task(hospital_app: Flask, hospital: Hospital) -> None:
    request = hospital.file(
        "healthcare.referral",
        {"what": "Sleep study", "why": "Snoring", "receiving_organisation": "Sleep Centre"},
    )
    client = hospital_app.test_client()
    login(client, hospital.spoc, hospital.org.dana)
    task = Task.model_validate(
        json.loads(export(client, f"/console/requests/{request.id}/exports/referral-task.json"))
    )
    assert (task.status, task.intent, task.description) == ("requested", "order", "Sleep study")


def test_the_patient_downloads_the_invitation_from_the_tracking_page(
    hospital_app: Flask, hospital: Hospital
) -> None:
    request, tracking = hospital.spoc.requests.create_with_tracking_link(
        type_key="healthcare.appointment",
        fields={"action": "book", "service": "Cardiology"},
        requester={"name": "Maria Anders", "email": "maria@example.com"},
        subject_id=hospital.patient.id,
    )
    confirm(hospital, request.id)
    client = hospital_app.test_client()
    page = client.get(f"/track/{tracking}").get_data(as_text=True)
    assert "Your appointment" in page and "APT-" in page and "Calendar invitation" in page
    ics(export(client, f"/track/{tracking}/exports/appointment.ics"))
    reference = hospital.spoc.requests.reference(request.id)
    api = client.get(
        f"/api/v1/requests/{reference}/exports/appointment-r5.json",
        headers={"Authorization": f"Bearer {tracking}"},
    )
    assert api.status_code == 200 and api.mimetype == "application/fhir+json"
    AppointmentR5.model_validate(api.json)


def test_the_console_panel_books_a_slot_through_a_form(
    hospital_app: Flask, hospital: Hospital
) -> None:
    request = hospital.book()
    client = hospital_app.test_client()
    login(client, hospital.spoc, hospital.org.dana)
    page = client.get(f"/console/requests/{request.id}").get_data(as_text=True)
    assert "Appointment" in page and "proposed" in page
    assert "No details in voicemail or email" in page and "MRN-1" in page
    from tests.conftest import csrf_token

    token = csrf_token(client, f"/console/requests/{request.id}")
    posted = client.post(
        f"/p/healthcare/requests/{request.id}/appointment",
        data={
            "csrf_token": token,
            "action": "confirm",
            "start": "2026-03-10T09:30",
            "end": "2026-03-10T10:00",
        },
    )
    assert posted.status_code == 303
    found, _ = appointment(hospital, request.id)
    assert found.status == "booked"
    assert found.start_at == SLOT  # London is on GMT in March: local 09:30 = 09:30 UTC
    viewer = hospital_app.test_client()
    login(viewer, hospital.spoc, hospital.org.val)
    refused = viewer.post(
        f"/p/healthcare/requests/{request.id}/appointment",
        data={"csrf_token": csrf_token(viewer), "action": "cancel"},
    )
    assert refused.status_code == 403


def test_education_articles_are_offered_for_replies_and_linked_for_the_patient(
    hospital_app: Flask, hospital: Hospital
) -> None:
    spoc = hospital.spoc
    request, tracking = spoc.requests.create_with_tracking_link(
        type_key="healthcare.appointment",
        fields={"action": "book", "service": "Cardiology"},
        requester={"name": "Maria Anders", "email": "maria@example.com"},
        subject_id=hospital.patient.id,
    )
    client = hospital_app.test_client()
    login(client, spoc, hospital.org.dana)
    page = client.get(f"/console/requests/{request.id}").get_data(as_text=True)
    url = f"{spoc.settings.base_url.rstrip('/')}/help/healthcare.prepare_appointment"
    assert url in page
    spoc.requests.post_message(
        request.id,
        hospital.org.actor(hospital.org.dana),
        f"Please read {url} and <b>bring</b> your number. Not linked: {url}x-unknown",
    )
    track = client.get(f"/track/{tracking}").get_data(as_text=True)
    assert '<a href="/help/healthcare.prepare_appointment">Preparing for your appointment</a>' in (
        track
    )
    assert "&lt;b&gt;bring&lt;/b&gt;" in track
    assert client.get("/help/healthcare.prepare_appointment").status_code == 200


def test_an_organisation_adds_its_own_education_articles(
    make_app: object, tmp_path: object
) -> None:
    from pathlib import Path

    from spoc.core.services import spoc_of

    folder = Path(str(tmp_path)) / "articles"
    folder.mkdir()
    (folder / "Diabetes diet.txt").write_text(
        "Eating well with diabetes\nWhat to eat, and when.\n\nRegular meals help.", "utf-8"
    )
    app = make_app(  # type: ignore[operator]
        plugins=["generic", "healthcare"],
        plugin_settings={"healthcare": {"articles_dir": str(folder)}},
    )
    article = spoc_of(app).host.articles.get("healthcare.org_diabetes_diet")
    assert article is not None and article.title == "Eating well with diabetes"
    catalogue = app.test_client().get("/?q=diabetes").get_data(as_text=True)
    assert "Eating well with diabetes" in catalogue


def test_a_malformed_article_stops_start_up_naming_the_file(
    make_app: object, tmp_path: object
) -> None:
    from pathlib import Path

    from spoc import StartupError

    folder = Path(str(tmp_path)) / "articles"
    folder.mkdir()
    (folder / "empty.txt").write_text("Only a title\n", "utf-8")
    with pytest.raises(StartupError, match=r"plugin 'healthcare'.*empty.txt"):
        make_app(  # type: ignore[operator]
            plugins=["generic", "healthcare"],
            plugin_settings={"healthcare": {"articles_dir": str(folder)}},
        )
