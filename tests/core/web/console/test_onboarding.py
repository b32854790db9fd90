"""Subjects created, edited and imported from the console."""

from __future__ import annotations

import io

from flask import Flask
from sqlalchemy import func, select

from spoc.core.domain.models import AdminAuditEntry, Subject
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, Org, build_org, csrf_token, login

PATIENT = "healthcare.patient"


def _patients(org: Org) -> int:
    with org.spoc.db.reader() as session:
        return session.scalar(select(func.count(Subject.id)).where(Subject.kind == PATIENT)) or 0


def test_a_subject_with_a_bad_attribute_is_refused_naming_the_field(
    make_app: AppFactory,
) -> None:
    app = make_app(plugins=["generic", "healthcare"])
    org = build_org(spoc_of(app))
    client = app.test_client()
    login(client, org.spoc, org.dana)
    form = client.get("/console/subjects/new/healthcare.patient").get_data(as_text=True)
    assert 'name="date_of_birth"' in form and 'type="date"' in form  # from PatientDetails
    token = csrf_token(client)
    data = {
        "csrf_token": token,
        "subject_name": "Maria Lopez",
        "external_ref": "MRN-7",
        "spoc": "dana@example.org",
        "date_of_birth": "1980-02-30",
    }
    refused = client.post("/console/subjects/new/healthcare.patient", data=data)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'href="#f-date_of_birth"' in page and 'id="f-date_of_birth-error"' in page
    assert 'value="Maria Lopez"' in page  # what was typed stays
    assert _patients(org) == 0
    saved = client.post(
        "/console/subjects/new/healthcare.patient", data={**data, "date_of_birth": "1980-02-03"}
    )
    assert saved.status_code == 303
    with org.spoc.db.reader() as session:
        patient = session.scalar(select(Subject).where(Subject.kind == PATIENT))
        assert patient is not None and patient.spoc_agent_id == org.dana.id
        assert patient.attributes["date_of_birth"] == "1980-02-03"
        audited = session.scalar(
            select(AdminAuditEntry.action).where(
                AdminAuditEntry.target_kind == "subject", AdminAuditEntry.target_id == patient.id
            )
        )
    assert audited == "subject.people"


def test_an_agent_edits_a_subject_and_its_people_audited(app: Flask, org: Org) -> None:
    client = app.test_client()
    login(client, org.spoc, org.dana)
    edit = f"/console/subjects/{org.account.id}/edit"
    form = client.get(edit).get_data(as_text=True)
    assert 'value="Northwind Traders"' in form
    posted = client.post(
        edit,
        data={
            "csrf_token": csrf_token(client),
            "subject_name": "Northwind Ltd",
            "external_ref": "NW-1",
            "spoc": "lee@example.org",
            "deputy1": "dana@example.org",
        },
    )
    assert posted.status_code == 303
    with org.spoc.db.reader() as session:
        subject = session.get(Subject, org.account.id)
        assert subject is not None and subject.name == "Northwind Ltd"
        assert subject.spoc_agent_id == org.lee.id
        entry = session.scalar(
            select(AdminAuditEntry).where(AdminAuditEntry.action == "subject.people")
        )
        assert entry is not None and entry.before["spoc"] == org.dana.id


def test_viewers_and_specialists_cannot_create_or_edit(app: Flask, org: Org) -> None:
    for agent in (org.val, org.kim):
        client = app.test_client()
        login(client, org.spoc, agent)
        assert client.get("/console/subjects/new/generic.account").status_code == 403
        assert client.get(f"/console/subjects/{org.account.id}/edit").status_code == 403
        assert client.get("/console/subjects/import").status_code == 403


def test_the_upload_dry_run_lists_errors_by_line_then_imports(app: Flask, org: Org) -> None:
    client = app.test_client()
    login(client, org.spoc, org.ada)
    token = csrf_token(client, "/console/subjects/import")
    body = b"name,external_ref,spoc\nContoso,CT-1,dana@example.org\n,CT-2,\nLitware,CT-3,x@y.z\n"

    def send(mode: str) -> str:
        response = client.post(
            "/console/subjects/import",
            data={
                "csrf_token": token,
                "kind": "generic.account",
                "mode": mode,
                "file": (io.BytesIO(body), "subjects.csv"),
            },
            content_type="multipart/form-data",
        )
        return str(response.status_code) + response.get_data(as_text=True)

    dry = send("dry-run")
    assert dry.startswith("422")
    assert '<td class="mono">3</td><td>name</td>' in dry
    assert '<td class="mono">4</td><td>spoc</td>' in dry
    body = b"name,external_ref,spoc\nContoso,CT-1,dana@example.org\nLitware,CT-3,\n"
    done = send("import")
    assert done.startswith("200") and "created 2, updated 0" in done
    with org.spoc.db.reader() as session:
        assert session.scalar(select(func.count(Subject.id))) == 3
