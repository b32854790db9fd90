"""Portfolios, projects and workstreams onboarded without Python: the CSV import, the console
form and the batch API write the plugin's rows in the subject's own transaction."""

from __future__ import annotations

import io

from flask import Flask
from sqlalchemy import func, select

from spoc import Subject
from spoc.plugins.projects.models import Period, Person, Portfolio, Project, Workstream
from spoc.testing import issue_api_token
from tests.conftest import csrf_token, login
from tests.plugins.projects.conftest import Office


def _csv(*lines: str) -> io.StringIO:
    return io.StringIO("\n".join(lines) + "\n")


def _count(office: Office, model: type) -> int:
    with office.spoc.db.reader() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_hook_structures_of_the_projects_plugin(office: Office) -> None:
    keys = office.spoc.host.structures.names()
    assert keys == ["projects.portfolio", "projects.project", "projects.workstream"]


def test_a_csv_of_projects_creates_their_rows_and_sponsor_and_a_rerun_creates_nothing_twice(
    office: Office,
) -> None:
    admin = office.org.actor(office.org.ada)
    pid = office.portfolio.id
    lines = [
        "name,external_ref,spoc,portfolio_id,reporting_starts,cadence,sponsor_name,sponsor_email",
        f"Cassini,DX-3,dana@example.org,{pid},2026-03-01,monthly,Ann Lee,ann@example.com",
        f"Dawn,DX-4,sam@example.org,{pid},2026-03-02,weekly,Bo Ray,bo@example.com",
    ]
    before = _count(office, Project)
    for _ in range(2):
        report = office.spoc.onboarding.import_csv(
            admin, "projects.project", _csv(*lines), dry_run=False
        )
        assert report.ok, report.errors
    assert _count(office, Project) == before + 2
    with office.spoc.db.reader() as session:
        sponsors = list(session.scalars(select(Person.email).where(Person.role == "sponsor")))
    assert sponsors.count("ann@example.com") == 1 and sponsors.count("bo@example.com") == 1
    office.spoc.sweep()  # the first period opens at the next pass, as for add_project
    with office.spoc.db.reader() as session:
        cassini = session.scalar(select(Subject).where(Subject.external_ref == "DX-3"))
        assert cassini is not None
        labels = list(session.scalars(select(Period.label).where(Period.project_id == cassini.id)))
    assert labels == ["2026-03"]


def test_project_errors_name_the_line_and_field_and_nothing_is_written(office: Office) -> None:
    admin = office.org.actor(office.org.ada)
    pid = office.portfolio.id
    stream = _csv(
        "name,external_ref,portfolio_id,reporting_starts,sponsor_name,sponsor_email",
        f"Cassini,DX-3,{pid},2026-03-01,Ann Lee,ann@example.com",
        "Dawn,DX-4,999999,2026-03-02,Bo Ray,bo@example.com",
        f"Eos,DX-5,{pid},2026-03-02,,",
        f"Apollo,DX-1,{pid},2026-03-01,,",
    )
    before = _count(office, Project)
    report = office.spoc.onboarding.import_csv(admin, "projects.project", stream, dry_run=False)
    assert [(e.line, e.field) for e in report.errors] == [
        (3, "attributes.portfolio_id"),
        (4, "details.sponsor_email"),
    ]
    assert _count(office, Project) == before
    # Apollo (line 5) exists: no sponsor needed, and it is updated.
    assert report.updated == 1


def test_a_workstream_imported_names_an_existing_project_and_gets_its_row(office: Office) -> None:
    admin = office.org.actor(office.org.ada)
    stream = _csv(
        "name,external_ref,project_id,lead_name,lead_email",
        f"Payments,WS-9,{office.apollo.id},Ed Wu,ed@example.com",
        f"Nowhere,WS-10,{office.portfolio.id},Al Bo,al@example.com",
    )
    report = office.spoc.onboarding.import_csv(admin, "projects.workstream", stream, dry_run=True)
    assert [(e.line, e.field) for e in report.errors] == [(3, "attributes.project_id")]
    ok = _csv(
        "name,external_ref,project_id,lead_name,lead_email",
        f"Payments,WS-9,{office.apollo.id},Ed Wu,ed@example.com",
    )
    before = _count(office, Workstream)
    assert office.spoc.onboarding.import_csv(admin, "projects.workstream", ok, dry_run=False).ok
    assert _count(office, Workstream) == before + 1


def test_a_portfolio_saved_in_the_console_form_has_its_row(
    office: Office, office_app: Flask
) -> None:
    client = office_app.test_client()
    login(client, office.spoc, office.org.dana)
    page = client.get("/console/subjects/new/projects.project").get_data(as_text=True)
    assert 'name="sponsor_email"' in page  # the structure's fields join the kind's form
    before = _count(office, Portfolio)
    saved = client.post(
        "/console/subjects/new/projects.portfolio",
        data={"csrf_token": csrf_token(client), "subject_name": "Facilities", "code": "FAC"},
    )
    assert saved.status_code == 303
    assert _count(office, Portfolio) == before + 1


def test_the_batch_api_creates_a_project_with_its_row_and_names_detail_errors(
    office: Office, office_app: Flask
) -> None:
    headers = issue_api_token(office.spoc, office.org.ada).headers
    client = office_app.test_client()
    item = {
        "kind": "projects.project",
        "name": "Juno",
        "external_ref": "DX-7",
        "spoc": "dana@example.org",
        "attributes": {"portfolio_id": office.portfolio.id, "reporting_starts": "2026-03-01"},
        "details": {"sponsor_name": "Cy Moss"},
    }
    refused = client.post("/api/v1/subjects", json=[item], headers=headers)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == ["body.0.details.sponsor_email"]
    before = _count(office, Project)
    item["details"] = {"sponsor_name": "Cy Moss", "sponsor_email": "cy@example.com"}
    done = client.post("/api/v1/subjects", json=[item], headers=headers)
    assert done.status_code == 200, done.get_json()
    assert _count(office, Project) == before + 1
