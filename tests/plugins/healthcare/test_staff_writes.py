"""A change is a read: writes to a patient's request through the API and the console run the
same guard as reads, are in the access log as what they were, and a refused caller changes
nothing and sees nothing."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from spoc.core.domain.audit import AuditAction
from spoc.core.domain.models import AdminAuditEntry, Message
from spoc.plugins.healthcare.models import AccessEntry
from tests.conftest import csrf_token, login
from tests.plugins.healthcare.conftest import Hospital

SECRET = "Stage-4 melanoma biopsy"


def _messages(hospital: Hospital, request_id: int) -> int:
    with hospital.spoc.db.reader() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Message).where(Message.request_id == request_id)
            )
            or 0
        )


def _log(hospital: Hospital) -> list[tuple[str, str, str, bool]]:
    with hospital.spoc.db.reader() as session:
        rows = session.scalars(select(AccessEntry).order_by(AccessEntry.id))
        return [(r.agent_name, r.what, r.channel, r.break_glass) for r in rows]


def _api(hospital_app: Flask, hospital: Hospital) -> tuple[FlaskClient, dict[str, str]]:
    org = hospital.org
    _, secret = hospital.spoc.tokens.create(org.actor(org.ada), org.sam.email, "Sam's script")
    return hospital_app.test_client(), {"Authorization": f"Bearer {secret}"}


def test_a_stranger_posting_a_message_by_api_sees_and_changes_nothing(
    hospital_app: Flask, hospital: Hospital
) -> None:
    request = hospital.book(reason=SECRET)
    client, headers = _api(hospital_app, hospital)
    url = f"/api/v1/requests/{hospital.spoc.requests.reference(request.id)}/messages"
    before = _messages(hospital, request.id)
    refused = client.post(url, json={"body": "Hello", "internal": True}, headers=headers)
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"
    assert SECRET not in refused.get_data(as_text=True)
    assert _messages(hospital, request.id) == before
    assert hospital.get(request.id).version == request.version
    # A one-character reason is refused as the console refuses it, naming the header.
    short = client.post(url, json={"body": "Hello"}, headers={**headers, "SPOC-Access-Reason": "x"})
    assert short.status_code == 422
    assert "SPOC-Access-Reason" in short.get_data(as_text=True)
    assert SECRET not in short.get_data(as_text=True)
    assert _messages(hospital, request.id) == before
    assert _log(hospital) == []
    allowed = client.post(
        url,
        json={"body": "Hello", "internal": True},
        headers={**headers, "SPOC-Access-Reason": "  Patient called, navigator away  "},
    )
    assert allowed.status_code == 201
    assert _messages(hospital, request.id) == before + 1
    assert _log(hospital) == [("Sam Patel", "change:note", "api", True)]
    with hospital.spoc.db.reader() as session:
        glass = session.scalars(
            select(AdminAuditEntry.summary).where(AdminAuditEntry.action == AuditAction.BREAK_GLASS)
        ).all()
    assert glass == [f"Break-glass on request {request.id}: Patient called, navigator away"]


def test_a_stranger_changing_the_status_by_api_sees_and_changes_nothing(
    hospital_app: Flask, hospital: Hospital
) -> None:
    request = hospital.book(reason=SECRET)
    client, headers = _api(hospital_app, hospital)
    url = f"/api/v1/requests/{hospital.spoc.requests.reference(request.id)}/transitions"
    refused = client.post(url, json={"to": "waiting"}, headers=headers)
    assert refused.status_code == 403
    assert SECRET not in refused.get_data(as_text=True)
    assert hospital.get(request.id).status == request.status
    allowed = client.post(
        url,
        json={"to": "waiting"},
        headers={**headers, "SPOC-Access-Reason": "Clinic asked us to start"},
    )
    assert allowed.status_code == 200, allowed.json
    assert hospital.get(request.id).status.value == "waiting"
    assert _log(hospital) == [("Sam Patel", "change:transition", "api", True)]


def test_a_stranger_escalating_by_api_is_refused_first(
    hospital_app: Flask, hospital: Hospital
) -> None:
    request = hospital.book(reason=SECRET)
    client, headers = _api(hospital_app, hospital)
    url = f"/api/v1/requests/{hospital.spoc.requests.reference(request.id)}/escalations"
    refused = client.post(url, json={"team": "clinical", "reason": "Look"}, headers=headers)
    assert refused.status_code == 403
    assert hospital.get(request.id).escalation_level == request.escalation_level


def test_console_actions_on_a_patients_request_need_a_reason_from_strangers(
    hospital_app: Flask, hospital: Hospital
) -> None:
    request = hospital.book(reason=SECRET)
    stranger = hospital_app.test_client()
    login(stranger, hospital.spoc, hospital.org.sam)
    token = csrf_token(stranger)
    base = f"/console/requests/{request.id}"
    before = _messages(hospital, request.id)
    for action, form in (
        ("reply", {"body": "We will call you"}),
        ("note", {"body": "Called"}),
        ("status", {"target": "waiting"}),
        ("priority", {"priority": "P1", "reason": "Worse"}),
        ("escalate", {"team": "clinical", "reason": "Look"}),
    ):
        refused = stranger.post(
            f"{base}/{action}", data={"csrf_token": token, "version": "1", **form}
        )
        assert refused.status_code == 403, action
        page = refused.get_data(as_text=True)
        assert SECRET not in page and f'value="{base}"' in page
    after = hospital.get(request.id)
    assert _messages(hospital, request.id) == before and after.version == request.version
    assert _log(hospital) == []
    stranger.post(
        "/console/break-glass",
        data={"csrf_token": token, "target": f"request:{request.id}", "reason": "Covering Dana"},
    )
    done = stranger.post(
        f"{base}/note", data={"csrf_token": token, "version": "1", "body": "Called"}
    )
    assert done.status_code == 303
    assert _messages(hospital, request.id) == before + 1
    assert _log(hospital) == [("Sam Patel", "change:note", "console", True)]


def test_the_navigator_acts_on_their_patient_without_a_reason(
    hospital_app: Flask, hospital: Hospital
) -> None:
    request = hospital.book(reason=SECRET)
    navigator = hospital_app.test_client()
    login(navigator, hospital.spoc, hospital.org.dana)
    token = csrf_token(navigator)
    done = navigator.post(
        f"/console/requests/{request.id}/note",
        data={"csrf_token": token, "version": "1", "body": "Called back"},
    )
    assert done.status_code == 303
    assert _log(hospital) == [("Dana Reyes", "change:note", "console", False)]
