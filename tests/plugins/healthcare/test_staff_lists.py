"""A list shows only what its reader may read: patients' names and record numbers, private
requests in "All requests", contacts' addresses, a subject page's requests."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from spoc.core.domain.models import Agent
from tests.conftest import csrf_token, login
from tests.plugins.healthcare.conftest import Hospital


def _token(hospital_app: Flask, hospital: Hospital, agent: Agent) -> tuple[FlaskClient, dict]:  # type: ignore[type-arg]
    org = hospital.org
    _, secret = hospital.spoc.tokens.create(org.actor(org.ada), agent.email, "script")
    return hospital_app.test_client(), {"Authorization": f"Bearer {secret}"}


def test_the_subject_list_api_names_only_patients_in_ones_care(
    hospital_app: Flask, hospital: Hospital
) -> None:
    org = hospital.org
    client, headers = _token(hospital_app, hospital, org.sam)
    listed = client.get("/api/v1/subjects?limit=100", headers=headers)
    assert listed.status_code == 200
    by_id = {item["id"]: item for item in listed.json["items"]}  # type: ignore[index]
    maria, tom = by_id[hospital.patient.id], by_id[hospital.other.id]
    assert maria["name"] == "(restricted)" and maria["external_ref"] is None
    assert maria["spoc"]["name"] == "Dana Reyes"  # whom to ask
    assert "MRN-1" not in listed.get_data(as_text=True)
    assert tom["name"] == "Tom Bright" and tom["external_ref"] == "MRN-2"  # Sam's patient
    assert by_id[org.account.id]["name"] == "Northwind Traders"  # not private
    # An admin who is not in the patient's care would need a reason to open the record: the
    # list does not name the patient to them either.
    admin, admin_headers = _token(hospital_app, hospital, org.ada)
    body = admin.get("/api/v1/subjects?limit=100", headers=admin_headers).get_data(as_text=True)
    assert "Maria Anders" not in body and "MRN-1" not in body
    dana, dana_headers = _token(hospital_app, hospital, org.dana)
    body = dana.get("/api/v1/subjects?limit=100", headers=dana_headers).get_data(as_text=True)
    assert "Maria Anders" in body and "MRN-1" in body  # her SPOC


def test_the_console_subject_list_hides_patients_from_strangers(
    hospital_app: Flask, hospital: Hospital
) -> None:
    org = hospital.org
    for agent, sees in ((org.sam, False), (org.lee, True), (org.val, False), (org.ada, False)):
        client = hospital_app.test_client()
        login(client, hospital.spoc, agent)
        page = client.get("/console/subjects").get_data(as_text=True)
        assert ("MRN-1" in page) is sees, agent.name
        assert ("Maria Anders" in page) is sees, agent.name


def test_a_viewers_all_requests_queue_masks_private_requests(
    hospital_app: Flask, hospital: Hospital
) -> None:
    request = hospital.book(reason="Chest pain")
    hospital.org.file(requester={"name": "Ola Berg", "email": "ola@example.com"})  # readable
    viewer = hospital_app.test_client()
    login(viewer, hospital.spoc, hospital.org.val)
    page = viewer.get("/console/queues/all").get_data(as_text=True)
    assert hospital.spoc.requests.reference(request.id) in page
    # The summary of a private type is its title, which the type filter lists anyway: what
    # matters is that no row carries it, nor the requester's name.
    assert f"<td>{request.summary}" not in page and "Maria Anders" not in page
    assert "<td>(restricted)" in page and "<td>Where is my invoice?" in page
    assert "<td>Ola Berg</td>" in page
    # Admins see the queue masked the same way: the single read would ask them for a reason.
    admin = hospital_app.test_client()
    login(admin, hospital.spoc, hospital.org.ada)
    page = admin.get("/console/queues/all").get_data(as_text=True)
    assert f"<td>{request.summary}" not in page and "Maria Anders" not in page


def test_viewers_and_specialists_read_no_contacts(hospital_app: Flask, hospital: Hospital) -> None:
    hospital.book(reason="Chest pain")
    for agent, status in (
        (hospital.org.val, 403),
        (hospital.org.kim, 403),
        (hospital.org.dana, 200),
    ):
        client, headers = _token(hospital_app, hospital, agent)
        listed = client.get("/api/v1/contacts", headers=headers)
        assert listed.status_code == status, agent.name
        if status == 403:
            assert "maria@example.com" not in listed.get_data(as_text=True)


def test_a_specialists_subject_page_lists_only_requests_they_can_open(
    hospital_app: Flask, hospital: Hospital
) -> None:
    org = hospital.org
    escalated = hospital.book(reason="Chest pain")
    hidden = hospital.file(
        "healthcare.billing", {"question": "Why two invoices?", "invoice_ref": "INV-7"}
    )
    hospital.spoc.escalations.escalate(
        escalated.id, org.actor(org.dana), team_key="clinical", reason="Clinical review"
    )
    kim = hospital_app.test_client()
    login(kim, hospital.spoc, org.kim)
    kim.post(
        "/console/break-glass",
        data={
            "csrf_token": csrf_token(kim),
            "target": f"subject:{hospital.patient.id}",
            "reason": "Reviewing the escalation",
        },
    )
    page = kim.get(f"/console/subjects/{hospital.patient.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert hospital.spoc.requests.reference(escalated.id) in text
    assert hospital.spoc.requests.reference(hidden.id) not in text
    assert kim.get(f"/console/requests/{hidden.id}").status_code == 404


def test_the_request_list_api_masks_private_requests_as_the_console_queue_does(
    hospital_app: Flask, hospital: Hospital
) -> None:
    # The console's queues and GET /requests are one definition: a private request its
    # reader is not responsible for shows no summary in either.
    request = hospital.book(reason="Chest pain")
    reference = hospital.spoc.requests.reference(request.id)
    org = hospital.org
    for agent, masked in ((org.val, True), (org.ada, True), (org.sam, True), (org.dana, False)):
        client, headers = _token(hospital_app, hospital, agent)
        listed = client.get("/api/v1/requests?queue=visible", headers=headers)
        assert listed.status_code == 200, agent.name
        (item,) = [i for i in listed.json["items"] if i["reference"] == reference]  # type: ignore[index]
        assert (item["summary"] == "(restricted)") is masked, agent.name
        assert item["fields"] == {}
