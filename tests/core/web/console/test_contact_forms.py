"""Contacts created, edited and imported from the admin's contact directory, with a form
generated from the contact model: errors name the field, nothing changes until it is valid."""

from __future__ import annotations

import io

from flask import Flask
from sqlalchemy import func, select

from spoc.core.domain.models import AdminAuditEntry, Contact
from tests.conftest import Org, csrf_token, login


def _contacts(org: Org) -> list[tuple[str, str, str | None]]:
    with org.spoc.db.reader() as session:
        rows = session.execute(
            select(Contact.email, Contact.name, Contact.phone).order_by(Contact.id)
        )
        return [(e, n, p) for e, n, p in rows]


def test_an_admin_creates_then_edits_a_contact_and_errors_name_the_field(
    app: Flask, org: Org
) -> None:
    client = app.test_client()
    login(client, org.spoc, org.ada)
    directory = client.get("/console/admin/contacts").get_data(as_text=True)
    assert (
        "/console/admin/contacts/new" in directory and "/console/admin/contacts/import" in directory
    )
    form = client.get("/console/admin/contacts/new").get_data(as_text=True)
    assert 'name="email"' in form and 'name="language"' in form and 'name="phone"' in form
    token = csrf_token(client)
    refused = client.post(
        "/console/admin/contacts/new",
        data={"csrf_token": token, "name": "Maria Anders", "email": "maria@"},
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'href="#f-email"' in page and 'value="Maria Anders"' in page
    assert _contacts(org) == []
    saved = client.post(
        "/console/admin/contacts/new",
        data={
            "csrf_token": token,
            "name": "Maria Anders",
            "email": "maria@example.com",
            "phone": "+49 30 1",
        },
    )
    assert saved.status_code == 303
    [(email, _, _)] = _contacts(org)
    with org.spoc.db.reader() as session:
        contact_id = session.scalar(select(Contact.id))
    found = client.get(f"/console/admin/contacts?email={email}").get_data(as_text=True)
    edit = f"/console/admin/contacts/{contact_id}/edit"
    assert edit in found
    assert 'value="+49 30 1"' in client.get(edit).get_data(as_text=True)
    changed = client.post(
        edit, data={"csrf_token": token, "name": "Maria Berg", "email": email, "phone": ""}
    )
    assert changed.status_code == 303
    assert _contacts(org) == [("maria@example.com", "Maria Berg", None)]
    with org.spoc.db.reader() as session:
        entries = session.scalar(
            select(func.count(AdminAuditEntry.id)).where(AdminAuditEntry.action == "contact.saved")
        )
    assert entries == 2


def test_agents_and_viewers_cannot_reach_the_contact_forms(app: Flask, org: Org) -> None:
    for agent in (org.dana, org.val, org.kim):
        client = app.test_client()
        login(client, org.spoc, agent)
        for url in ("/console/admin/contacts/new", "/console/admin/contacts/import"):
            assert client.get(url).status_code == 403


def test_the_upload_lists_errors_by_line_then_imports(app: Flask, org: Org) -> None:
    client = app.test_client()
    login(client, org.spoc, org.ada)
    token = csrf_token(client, "/console/admin/contacts/import")

    def send(body: bytes, mode: str) -> tuple[int, str]:
        response = client.post(
            "/console/admin/contacts/import",
            data={"csrf_token": token, "mode": mode, "file": (io.BytesIO(body), "contacts.csv")},
            content_type="multipart/form-data",
        )
        return response.status_code, response.get_data(as_text=True)

    status, page = send(b"name,email\nMaria,maria@example.com\n,ana@example.com\n", "dry-run")
    assert status == 422 and '<td class="mono">3</td><td>name</td>' in page
    status, page = send(b"name,email\nMaria,maria@example.com\nAna,ana@example.com\n", "import")
    assert status == 200 and "created 2, updated 0" in page
    assert len(_contacts(org)) == 2
