"""`POST /api/v1/contacts`: a batch checked whole before any is written, found by email,
errors named ``body.<index>.<field>``; admins only."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from spoc.core.domain.models import Contact
from spoc.testing import issue_api_token
from tests.conftest import Org


def _count(org: Org) -> int:
    with org.spoc.db.reader() as session:
        return session.scalar(select(func.count(Contact.id))) or 0


def test_a_batch_is_checked_whole_then_written_and_a_resend_updates(app: Flask, org: Org) -> None:
    headers = issue_api_token(org.spoc, org.ada).headers
    client = app.test_client()
    items = [
        {"name": "Maria Anders", "email": "maria@example.com", "language": "de"},
        {"name": "", "email": "ana@"},
    ]
    refused = client.post("/api/v1/contacts", json=items, headers=headers)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == ["body.1.name", "body.1.email"]
    assert _count(org) == 0
    items[1] = {"name": "Ana Trujillo", "email": "ana@example.com"}
    dry = client.post("/api/v1/contacts?dry_run=true", json=items, headers=headers)
    assert dry.get_json() == {"dry_run": True, "created": 2, "updated": 0} and _count(org) == 0
    done = client.post("/api/v1/contacts", json=items, headers=headers)
    assert done.get_json() == {"dry_run": False, "created": 2, "updated": 0}
    again = client.post("/api/v1/contacts", json=items, headers=headers)
    assert again.get_json() == {"dry_run": False, "created": 0, "updated": 2}
    assert _count(org) == 2


def test_an_agent_may_not_import_contacts(app: Flask, org: Org) -> None:
    headers = issue_api_token(org.spoc, org.dana).headers
    items = [{"name": "Maria Anders", "email": "maria@example.com"}]
    refused = app.test_client().post("/api/v1/contacts", json=items, headers=headers)
    assert refused.status_code == 403 and _count(org) == 0
