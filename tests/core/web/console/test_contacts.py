"""The console's contact page: admins export or erase a contact, behind a typed reason."""

from __future__ import annotations

import json

from flask import Flask
from sqlalchemy import select

from spoc.core.domain.models import AdminAuditEntry, Contact
from tests.conftest import Org, csrf_token, login


def test_an_admin_exports_and_erases_a_contact_from_the_console(app: Flask, org: Org) -> None:
    org.file(fields={"summary": "Private words 4411"})
    client = app.test_client()
    login(client, org.spoc, org.ada)
    page = client.get("/console/admin/contacts?email=maria@example.com")
    assert page.status_code == 200
    assert "Maria Anders" in page.get_data(as_text=True)
    token = csrf_token(client)
    exported = client.post(
        "/console/admin/contacts/export", data={"csrf_token": token, "email": "maria@example.com"}
    )
    assert exported.status_code == 200
    assert "attachment" in exported.headers["Content-Disposition"]
    assert exported.headers["Cache-Control"] == "no-store"
    assert json.loads(exported.data)["requests"][0]["fields"]["summary"] == "Private words 4411"
    form = {"csrf_token": token, "email": "maria@example.com", "reason": "too short"}
    unconfirmed = client.post("/console/admin/contacts/erase", data={**form, "confirm": "erase"})
    assert unconfirmed.status_code == 422 and "reason" in unconfirmed.get_data(as_text=True)
    form["reason"] = "Erasure asked for by mail on 1 March"
    assert client.post("/console/admin/contacts/erase", data=form).status_code == 422
    erased = client.post("/console/admin/contacts/erase", data={**form, "confirm": "erase"})
    assert erased.status_code == 303
    with org.spoc.db.reader() as session:
        names = list(session.scalars(select(Contact.name)))
        actions = list(session.scalars(select(AdminAuditEntry.action).order_by(AdminAuditEntry.id)))
    assert names == ["Anonymised"]
    assert actions[-2:] == ["contact.exported", "contact.erased"]


def test_only_admins_open_the_contact_page(app: Flask, org: Org) -> None:
    org.file()
    for agent in (org.dana, org.kim, org.val):
        client = app.test_client()
        login(client, org.spoc, agent)
        token = csrf_token(client)
        page = client.get("/console/admin/contacts?email=maria@example.com")
        assert page.status_code == 403
        assert "maria@example.com" not in page.get_data(as_text=True)
        refused = client.post(
            "/console/admin/contacts/export",
            data={"csrf_token": token, "email": "maria@example.com"},
        )
        assert refused.status_code == 403
    with org.spoc.db.reader() as session:
        assert (
            session.scalar(
                select(AdminAuditEntry.id).where(AdminAuditEntry.action.like("contact.%"))
            )
            is None
        )
