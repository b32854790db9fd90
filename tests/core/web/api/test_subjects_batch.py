"""`POST /api/v1/subjects`: a batch checked whole before any is written, idempotent by
(kind, external_ref), errors named ``body.<index>.<field>``."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from spoc.core.domain.models import Subject
from spoc.testing import issue_api_token
from tests.conftest import Org


def _count(org: Org) -> int:
    with org.spoc.db.reader() as session:
        return session.scalar(select(func.count(Subject.id))) or 0


def test_a_batch_is_checked_whole_then_written_and_a_resend_updates(app: Flask, org: Org) -> None:
    headers = issue_api_token(org.spoc, org.ada).headers
    client = app.test_client()
    items = [
        {
            "kind": "generic.account",
            "name": "Contoso",
            "external_ref": "CT-1",
            "spoc": "dana@example.org",
            "deputies": ["lee@example.org"],
        },
        {"kind": "generic.account", "name": "", "external_ref": "CT-2", "spoc": "ghost@x.org"},
    ]
    refused = client.post("/api/v1/subjects", json=items, headers=headers)
    assert refused.status_code == 422
    fields = [e["field"] for e in refused.get_json()["errors"]]
    assert fields == ["body.1.name", "body.1.spoc"]
    assert _count(org) == 1
    items[1].update(name="Litware", spoc=None)
    dry = client.post("/api/v1/subjects?dry_run=true", json=items, headers=headers)
    assert dry.get_json() == {"dry_run": True, "created": 2, "updated": 0} and _count(org) == 1
    done = client.post("/api/v1/subjects", json=items, headers=headers)
    assert done.status_code == 200 and done.get_json()["created"] == 2
    again = client.post("/api/v1/subjects", json=items, headers=headers)
    assert again.get_json()["updated"] == 2 and _count(org) == 3


def test_only_admins_send_a_batch(app: Flask, org: Org) -> None:
    headers = issue_api_token(org.spoc, org.dana).headers
    items = [{"kind": "generic.account", "name": "Contoso", "external_ref": "CT-1"}]
    refused = app.test_client().post("/api/v1/subjects", json=items, headers=headers)
    assert refused.status_code == 403 and _count(org) == 1
    unknown = [{"kind": "nope.kind", "name": "X", "external_ref": "X-1"}]
    admin = issue_api_token(org.spoc, org.ada).headers
    bad = app.test_client().post("/api/v1/subjects", json=unknown, headers=admin)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "body.0.kind"
