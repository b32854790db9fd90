"""GET /api/v1/audit: the admin audit trail for admins, newest first, keyset-paged."""

from __future__ import annotations

from flask import Flask

from tests.conftest import Org


def _headers(org: Org, email: str) -> dict[str, str]:
    _, secret = org.spoc.tokens.create(org.actor(org.ada), email, "audit script")
    return {"Authorization": f"Bearer {secret}"}


def test_admins_page_through_the_audit_trail(app: Flask, org: Org) -> None:
    for n in range(5):
        org.spoc.directory.set_subject_people(
            org.actor(org.dana), org.account.id, org.dana.id, [org.lee.id] if n % 2 else []
        )
    client = app.test_client()
    headers = _headers(org, org.ada.email)
    first = client.get("/api/v1/audit?action=subject.people&limit=3", headers=headers)
    assert first.status_code == 200
    body = first.json
    assert body is not None and len(body["items"]) == 3
    assert all(i["action"] == "subject.people" for i in body["items"])
    ids = [i["id"] for i in body["items"]]
    assert ids == sorted(ids, reverse=True)
    rest = client.get(
        f"/api/v1/audit?action=subject.people&limit=3&cursor={body['next_cursor']}",
        headers=headers,
    ).json
    assert rest is not None and len(rest["items"]) == 2 and rest["next_cursor"] is None
    assert "/audit" in client.get("/api/v1/openapi.json").get_data(as_text=True)


def test_only_admins_read_the_audit_trail_and_bad_filters_are_named(app: Flask, org: Org) -> None:
    client = app.test_client()
    refused = client.get("/api/v1/audit", headers=_headers(org, org.dana.email))
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"
    admin = _headers(org, org.ada.email)
    for query, field in (
        ("action=nope", "query.action"),
        ("since=2026-12-01T00:00:00", "query.since"),
        ("cursor=99999999999999999999999", "query.cursor"),
    ):
        bad = client.get(f"/api/v1/audit?{query}", headers=admin)
        assert bad.status_code == 422, query
        assert field in bad.get_data(as_text=True), query
