"""Red flags and the emergency urgency: notice at once, P1, escalated to the clinical team."""

from __future__ import annotations

import pytest
from flask import Flask

from spoc import Priority, ValidationFailed
from spoc.core.domain.models import Escalation
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, csrf_token
from tests.plugins.healthcare.conftest import Hospital, make_hospital


def notices(hospital: Hospital, request_id: int) -> list[str]:
    events = hospital.spoc.requests.timeline(request_id, hospital.org.requester(request_id))
    return [e.summary for e in events if e.kind == "notice"]


def escalations(hospital: Hospital, request_id: int) -> list[Escalation]:
    with hospital.spoc.db.reader() as session:
        return list(session.query(Escalation).filter_by(request_id=request_id))


def assert_emergency(hospital: Hospital, request_id: int) -> None:
    found = hospital.get(request_id)
    assert found.priority is Priority.P1
    assert found.escalation_level == 1
    (escalation,) = escalations(hospital, request_id)
    assert escalation.trigger == "plugin:healthcare:red_flag"
    with hospital.spoc.db.reader() as session:
        from spoc.core.domain.models import Team

        assert session.get(Team, escalation.to_team_id).key == "clinical"  # type: ignore[union-attr]
    (notice,) = notices(hospital, request_id)
    assert "emergency number" in notice


@pytest.mark.parametrize(
    "reason",
    [
        "I have chest pain since this morning",
        "CHEST  PAIN when I climb stairs",
        "I can\u2019t breathe properly at night",  # a curly apostrophe, as phones type it
        "sometimes I feel suicidal",
    ],
)
def test_a_red_flag_phrase_makes_it_an_emergency(hospital: Hospital, reason: str) -> None:
    assert_emergency(hospital, hospital.book(reason=reason).id)


def test_red_flags_are_found_in_any_text_field_and_any_request_type(hospital: Hospital) -> None:
    billing = hospital.file(
        "healthcare.billing",
        {"invoice_ref": "INV-9", "question": "The bill made me so upset I feel suicidal"},
    )
    assert_emergency(hospital, billing.id)


def test_the_emergency_urgency_alone_makes_it_an_emergency(hospital: Hospital) -> None:
    assert_emergency(hospital, hospital.book(urgency="emergency").id)


def test_words_that_only_contain_a_flag_do_not_match(hospital: Hospital) -> None:
    calm = hospital.book(reason="Strokes of the brush: art therapy booking")
    assert hospital.get(calm.id).priority is Priority.P3
    assert notices(hospital, calm.id) == []
    assert escalations(hospital, calm.id) == []


def test_red_flags_and_notices_are_configured_per_language(make_app: AppFactory) -> None:
    app = make_app(
        plugins=["generic", "healthcare"],
        plugin_settings={
            "healthcare": {
                "red_flags": {"en": ["chest pain"], "es": ["dolor de pecho"]},
                "emergency_notices": {"en": "Call 112 now.", "es": "Llame al 112 ahora."},
            }
        },
    )
    hospital = make_hospital(app)
    spanish = hospital.book(reason="Tengo dolor de pecho", language="es")
    assert notices(hospital, spanish.id) == ["Llame al 112 ahora."]
    # The organisation replaced the list: a default phrase is no longer a red flag.
    replaced = hospital.book(reason="I feel suicidal")
    assert notices(hospital, replaced.id) == []


def test_an_empty_red_flag_phrase_stops_start_up(make_app: AppFactory) -> None:
    from spoc import StartupError

    with pytest.raises(StartupError, match="healthcare"):
        make_app(
            plugins=["generic", "healthcare"],
            plugin_settings={"healthcare": {"red_flags": {"en": [" "]}}},
        )


def test_the_patient_sees_the_emergency_notice_at_once_in_the_portal(hospital_app: Flask) -> None:
    hospital = make_hospital(hospital_app)
    client = hospital_app.test_client()
    link = hospital.spoc.links.create_intake_link(hospital.patient.id)
    assert client.get(f"/s/{link}", follow_redirects=True).status_code == 200
    token = csrf_token(client, "/new/healthcare.appointment")
    response = client.post(
        "/new/healthcare.appointment",
        data={
            "csrf_token": token,
            "action": "book",
            "service": "Cardiology",
            "urgency": "routine",
            "reason": "chest pain and my left arm is numb",
            "language": "en",
            "requester_name": "Maria Anders",
            "requester_email": "maria@example.com",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'role="alert"' in page
    assert page.index("emergency number") < page.index("We have your request")


def test_a_bill_far_above_the_estimate_tells_the_patient_of_their_dispute_right(
    hospital: Hospital,
) -> None:
    over = hospital.file(
        "healthcare.billing",
        {
            "invoice_ref": "INV-1",
            "amount_billed": 1650,
            "good_faith_estimate": 1200,
            "question": "Why is it so much more?",
        },
    )
    (notice,) = notices(hospital, over.id)
    assert "450.00 above the good-faith estimate" in notice and "dispute" in notice
    assert hospital.get(over.id).priority is Priority.P3
    within = hospital.file(
        "healthcare.billing",
        {
            "invoice_ref": "INV-2",
            "amount_billed": 1500,
            "good_faith_estimate": 1200,
            "question": "Why?",
        },
    )
    assert notices(hospital, within.id) == []


def test_patient_attributes_are_validated(hospital: Hospital) -> None:
    with pytest.raises(ValidationFailed) as caught:
        hospital.spoc.directory.add_subject(
            kind="healthcare.patient",
            name="No Birthday",
            spoc_agent_id=None,
            attributes={"preferred_channel": "pigeon"},
        )
    assert set(caught.value.errors) >= {"attributes.date_of_birth", "attributes.preferred_channel"}
    stored = hospital.spoc.directory.subject(hospital.patient.id)
    assert stored is not None and stored.attributes["record_number"] == "MRN-1"
    assert stored.attributes["no_details_in_messages"] is True  # the safe default


def test_team_settings_reach_the_request_types(make_app: AppFactory) -> None:
    app = make_app(
        plugins=["generic", "healthcare"],
        plugin_settings={"healthcare": {"clinical_team": "nurses", "billing_team": "finance"}},
        teams=["nurses", "finance"],  # the deployment's own teams (SPOC_TEAMS)
    )
    types = spoc_of(app).host.request_types
    appointment, billing = types.get("healthcare.appointment"), types.get("healthcare.billing")
    assert appointment is not None and appointment.specialist_team == "nurses"
    assert billing is not None and billing.specialist_team == "finance"
