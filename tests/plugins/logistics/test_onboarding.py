"""Customer accounts and their verified contacts onboarded without Python: accounts through
the subjects' path, contacts as items under an account, by line, found again by email."""

from __future__ import annotations

import io

from flask import Flask
from sqlalchemy import select

from spoc import Actor
from spoc.plugins.logistics.models import VerifiedContact
from spoc.plugins.logistics.tracking import is_verified
from tests.conftest import csrf_token, login
from tests.plugins.logistics.conftest import Tower


def _csv(*lines: str) -> io.StringIO:
    return io.StringIO("\n".join(lines) + "\n")


def _contacts(tower: Tower) -> list[tuple[str, str]]:
    with tower.spoc.db.reader() as session:
        rows = session.execute(
            select(VerifiedContact.email, VerifiedContact.method).order_by(VerifiedContact.email)
        )
        return [(e, m) for e, m in rows]


def test_hook_structures_of_the_logistics_plugin(tower: Tower) -> None:
    assert tower.spoc.host.structures.names() == ["logistics.account_contact"]


def test_accounts_then_their_contacts_import_and_a_rerun_changes_nothing(tower: Tower) -> None:
    system = Actor.system("import")
    accounts = _csv("name,external_ref,spoc", "Globex Foods BV,GLOBEX,dana@example.org")
    assert tower.spoc.onboarding.import_csv(system, "logistics.account", accounts, dry_run=False).ok
    lines = [
        "parent,email,method",
        "ACME,Petra@Acme.example,call-back on the number on file",
        "GLOBEX,ops@globex.example,signed letter",
    ]
    for _ in range(2):
        report = tower.spoc.structures.import_csv(
            system, "logistics.account_contact", _csv(*lines), dry_run=False
        )
        assert report.ok, report.errors
    assert report.updated == 2
    assert _contacts(tower) == [
        ("ops@globex.example", "signed letter"),
        ("petra@acme.example", "call-back on the number on file"),
    ]
    with tower.spoc.db.reader() as session:
        assert is_verified(session, tower.account.id, "petra@acme.example")


def test_contact_errors_are_listed_by_line_and_nothing_is_verified(tower: Tower) -> None:
    stream = _csv(
        "parent,email,method",
        "ACME,petra@acme.example,call-back",
        "ACME,nobody,call-back",
        "ACME,x@acme.example,",
        "WHO,y@acme.example,call-back",
    )
    report = tower.spoc.structures.import_csv(
        Actor.system(), "logistics.account_contact", stream, dry_run=False
    )
    assert [(e.line, e.field) for e in report.errors] == [
        (3, "email"),
        (4, "method"),
        (5, "parent"),
    ]
    assert _contacts(tower) == []


def test_an_agent_verifies_a_contact_from_the_account_page_and_a_viewer_cannot(
    tower: Tower, logistics_app: Flask
) -> None:
    client = logistics_app.test_client()
    url = f"/console/subjects/{tower.account.id}/structures/logistics.account_contact"
    login(client, tower.spoc, tower.viewer)
    data = {"csrf_token": csrf_token(client), "email": "petra@acme.example", "method": "ID check"}
    assert client.post(url, data=data).status_code in (302, 303, 403)
    assert _contacts(tower) == []
    client = logistics_app.test_client()
    login(client, tower.spoc, tower.dana)
    data["csrf_token"] = csrf_token(client)
    refused = client.post(url, data={**data, "method": "x"})
    assert refused.status_code == 422 and 'href="#f-method"' in refused.get_data(as_text=True)
    assert client.post(url, data=data).status_code == 303
    assert _contacts(tower) == [("petra@acme.example", "ID check")]
    page = client.get(f"/console/subjects/{tower.account.id}").get_data(as_text=True)
    assert "petra@acme.example (ID check)" in page
