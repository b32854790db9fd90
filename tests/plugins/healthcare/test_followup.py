"""Post-discharge follow-up: opened by the API or the CLI, first contact due within two
business days of the discharge, two failed calls escalate."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask

from spoc import Actor
from spoc.core.domain.models import Escalation, SlaClock
from tests.conftest import AppFactory
from tests.plugins.healthcare.conftest import BUSINESS, Hospital, make_hospital, run_cli

FRIDAY_3PM = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
CONTACT = {"name": "Maria Anders", "email": "maria@example.com"}


def first_response(hospital: Hospital, request_id: int) -> SlaClock:
    with hospital.spoc.db.reader() as session:
        return session.query(SlaClock).filter_by(request_id=request_id, kind="first_response").one()


def discharge(hospital: Hospital, at: datetime) -> tuple[int, bool]:
    from spoc.plugins.healthcare.patients import Discharge, record_discharge

    body = Discharge.model_validate(
        {"patient_id": hospital.patient.id, "discharged_at": at, "contact": CONTACT}
    )
    request, created = record_discharge(hospital.spoc, Actor.system("test"), body)
    return request.id, created


def test_first_contact_is_due_two_business_days_after_the_discharge(
    make_app: AppFactory, clock: object
) -> None:
    from spoc import FrozenClock

    assert isinstance(clock, FrozenClock)
    clock.set(FRIDAY_3PM)
    hospital = make_hospital(make_app(plugins=["generic", "healthcare"], calendars=BUSINESS))
    request_id, created = discharge(hospital, FRIDAY_3PM)
    assert created
    # Friday 15:00 + 16 business hours (09:00-17:00, weekend closed) = Tuesday 15:00.
    assert first_response(hospital, request_id).due_at == datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def test_a_discharge_recorded_late_still_counts_from_the_discharge(
    make_app: AppFactory, clock: object
) -> None:
    from spoc import FrozenClock

    assert isinstance(clock, FrozenClock)
    clock.set(datetime(2026, 3, 9, 10, 0, tzinfo=UTC))  # recorded on Monday morning
    hospital = make_hospital(make_app(plugins=["generic", "healthcare"], calendars=BUSINESS))
    request_id, _ = discharge(hospital, FRIDAY_3PM)
    clock_row = first_response(hospital, request_id)
    assert clock_row.started_at == FRIDAY_3PM
    assert clock_row.due_at == datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def test_the_same_discharge_twice_opens_one_follow_up(hospital: Hospital) -> None:
    at = hospital.spoc.clock.now()
    first, created = discharge(hospital, at)
    again, created_again = discharge(hospital, at)
    assert created and not created_again and first == again


def test_the_hospital_records_discharges_through_the_api(
    hospital_app: Flask, hospital: Hospital
) -> None:
    _, secret = hospital.spoc.tokens.create(
        hospital.org.actor(hospital.org.ada), hospital.org.ada.email, "ADT feed"
    )
    client = hospital_app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    body = {
        "record_number": "MRN-1",
        "discharged_at": "2026-03-02T08:00:00+00:00",
        "disposition": "home_with_care",
        "contact": CONTACT,
    }
    created = client.post("/api/v1/healthcare/discharges", json=body, headers=headers)
    assert created.status_code == 201, created.json
    assert created.json["reference"].startswith("REQ-")  # type: ignore[index]
    replay = client.post("/api/v1/healthcare/discharges", json=body, headers=headers)
    assert replay.status_code == 200 and replay.json["created"] is False  # type: ignore[index]
    bad = client.post(
        "/api/v1/healthcare/discharges",
        json={**body, "discharged_at": "2099-01-01T00:00:00+00:00"},
        headers=headers,
    )
    assert bad.status_code == 422
    assert "clocks_from" in bad.get_data(as_text=True)
    unknown = client.post(
        "/api/v1/healthcare/discharges", json={**body, "record_number": "MRN-404"}, headers=headers
    )
    assert unknown.status_code == 422
    assert client.post("/api/v1/healthcare/discharges", json=body).status_code == 401


def test_the_cli_records_a_discharge(hospital_app: Flask, hospital: Hospital) -> None:
    result = run_cli(
        hospital,
        *[
            "healthcare",
            "discharge",
            "--record-number",
            "MRN-1",
            "--at",
            "2026-03-02T08:00:00+00:00",
            "--contact-name",
            "Maria Anders",
            "--contact-email",
            "maria@example.com",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Follow-up opened REQ-" in result.output


def test_two_failed_calls_escalate_once_to_the_clinical_team(hospital: Hospital) -> None:
    from spoc.plugins.healthcare import settings_of
    from spoc.plugins.healthcare.records import record_attempt

    request_id, _ = discharge(hospital, hospital.spoc.clock.now())
    dana = hospital.org.actor(hospital.org.dana)
    settings = settings_of(hospital.spoc)
    assert record_attempt(hospital.spoc, settings, request_id, dana, "no_answer", "") == 1
    assert hospital.get(request_id).escalation_level == 0
    assert record_attempt(hospital.spoc, settings, request_id, dana, "left_message", "") == 2
    assert record_attempt(hospital.spoc, settings, request_id, dana, "no_answer", "") == 3
    with hospital.spoc.db.reader() as session:
        triggers = [e.trigger for e in session.query(Escalation).filter_by(request_id=request_id)]
    assert triggers == ["plugin:healthcare:followup_unreachable"]


def test_reaching_the_patient_meets_the_first_contact_clock(hospital: Hospital) -> None:
    from spoc.plugins.healthcare import settings_of
    from spoc.plugins.healthcare.records import record_attempt

    request_id, _ = discharge(hospital, hospital.spoc.clock.now())
    dana = hospital.org.actor(hospital.org.dana)
    record_attempt(hospital.spoc, settings_of(hospital.spoc), request_id, dana, "reached", "fine")
    assert first_response(hospital, request_id).state == "met"


def test_new_symptoms_go_to_the_clinical_team_at_once(hospital: Hospital) -> None:
    from spoc.plugins.healthcare import settings_of
    from spoc.plugins.healthcare.records import record_attempt

    request_id, _ = discharge(hospital, hospital.spoc.clock.now())
    dana = hospital.org.actor(hospital.org.dana)
    record_attempt(
        hospital.spoc, settings_of(hospital.spoc), request_id, dana, "new_symptoms", "fever"
    )
    assert hospital.get(request_id).escalation_level == 1


def test_a_missed_escalation_still_happens_on_a_later_failed_call(hospital: Hospital) -> None:
    """The escalation is part of the call's own write; if it could not happen at the second
    failure (the request was already at the top level and then handed back), a later failure
    still escalates — once."""
    from spoc.plugins.healthcare import settings_of
    from spoc.plugins.healthcare.records import record_attempt

    request_id, _ = discharge(hospital, hospital.spoc.clock.now())
    dana = hospital.org.actor(hospital.org.dana)
    settings = settings_of(hospital.spoc)
    for team in ("specialists", "desk"):
        hospital.spoc.escalations.escalate(request_id, dana, team_key=team, reason="busy")
    record_attempt(hospital.spoc, settings, request_id, dana, "no_answer", "")
    record_attempt(hospital.spoc, settings, request_id, dana, "no_answer", "")
    assert hospital.get(request_id).escalation_level == 2  # no room: nothing recorded
    hospital.spoc.escalations.hand_back(request_id, dana)
    record_attempt(hospital.spoc, settings, request_id, dana, "no_answer", "")
    record_attempt(hospital.spoc, settings, request_id, dana, "wrong_number", "")
    with hospital.spoc.db.reader() as session:
        triggers = [e.trigger for e in session.query(Escalation).filter_by(request_id=request_id)]
    assert triggers.count("plugin:healthcare:followup_unreachable") == 1


def test_two_feeds_recording_the_same_discharge_at_once_open_one_follow_up(
    hospital: Hospital,
) -> None:
    import threading

    at = hospital.spoc.clock.now()
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def feed() -> None:
        try:
            results.append(discharge(hospital, at))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=feed) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({request_id for request_id, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, True]
