"""Every API endpoint, and every way to be refused."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from spoc import Actor, Status
from spoc.core.domain.models import Contact, Request
from tests.conftest import AppFactory, Org

NEW = {
    "type": "generic.question",
    "fields": {"summary": "Where is my invoice?"},
    "requester": {"name": "Maria Anders", "email": "maria@example.com"},
}


@pytest.fixture
def api(app: Flask, org: Org) -> tuple[FlaskClient, Org, dict[str, dict[str, str]]]:
    tokens = {}
    for who in ("dana", "kim", "val", "ada"):
        _, secret = org.spoc.tokens.create(Actor.system(), getattr(org, who).email, f"{who} token")
        tokens[who] = {"Authorization": f"Bearer {secret}"}
    return app.test_client(), org, tokens


def count(org: Org, model: type) -> int:
    with org.spoc.db.reader() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"]
    return body


def test_create_get_list_and_timeline(api) -> None:  # type: ignore[no-untyped-def]
    client, org, tokens = api
    created = client.post(
        "/api/v1/requests", json={**NEW, "subject_id": org.account.id}, headers=tokens["dana"]
    )
    assert created.status_code == 201
    assert created.headers["ETag"] == '"1"'
    body = created.get_json()
    assert (body["reference"], body["status"], body["owner_agent_id"]) == (
        "REQ-00001",
        "new",
        org.dana.id,
    )
    assert client.get("/api/v1/requests/REQ-00001", headers=tokens["dana"]).get_json() == body
    listed = client.get("/api/v1/requests?status=new&limit=10", headers=tokens["dana"]).get_json()
    assert [r["reference"] for r in listed["items"]] == ["REQ-00001"]
    timeline = client.get("/api/v1/requests/REQ-00001/timeline", headers=tokens["dana"]).get_json()
    assert [e["kind"] for e in timeline["items"]] == ["created", "assigned"]


def test_list_pages_with_a_cursor(api) -> None:  # type: ignore[no-untyped-def]
    client, org, tokens = api
    for i in range(5):
        org.file(fields={"summary": f"Question {i}"})
    first = client.get("/api/v1/requests?limit=2", headers=tokens["ada"]).get_json()
    second = client.get(
        f"/api/v1/requests?limit=2&cursor={first['next_cursor']}", headers=tokens["ada"]
    ).get_json()
    third = client.get(
        f"/api/v1/requests?limit=2&cursor={second['next_cursor']}", headers=tokens["ada"]
    ).get_json()
    refs = [r["reference"] for page in (first, second, third) for r in page["items"]]
    assert refs == [f"REQ-{i:05d}" for i in range(1, 6)]
    assert third["next_cursor"] is None
    # A cursor the list did not make: refused naming the field, like any bad query value.
    body = problem(client.get("/api/v1/requests?cursor=garbage", headers=tokens["ada"]), 422)
    assert body["errors"][0]["field"] == "query.cursor"


def test_validation_errors_name_the_fields_and_create_nothing(api) -> None:  # type: ignore[no-untyped-def]
    client, org, tokens = api
    bad = {**NEW, "fields": {"summary": "x"}, "requester": {"name": "", "email": "nope"}}
    body = problem(client.post("/api/v1/requests", json=bad, headers=tokens["dana"]), 422)
    fields = {e["field"] for e in body["errors"]}
    assert {"body.requester.name", "body.requester.email"} <= fields
    body = problem(
        client.post(
            "/api/v1/requests", json={**NEW, "fields": {"summary": "x"}}, headers=tokens["dana"]
        ),
        422,
    )
    assert body["errors"] == [
        {"field": "fields.summary", "message": "String should have at least 3 characters"}
    ]
    problem(client.post("/api/v1/requests", data="not json", headers=tokens["dana"]), 400)
    assert count(org, Request) == 0 and count(org, Contact) == 0


def test_transition_and_message_with_versions(api) -> None:  # type: ignore[no-untyped-def]
    client, org, tokens = api
    rid = org.file()
    ref = f"REQ-{rid:05d}"
    reply = client.post(
        f"/api/v1/requests/{ref}/messages",
        json={"body": "On it"},
        headers={**tokens["dana"], "If-Match": '"1"'},
    )
    assert reply.status_code == 201 and reply.get_json()["status"] == "open"
    stale = client.post(
        f"/api/v1/requests/{ref}/transitions",
        json={"to": "waiting"},
        headers={**tokens["dana"], "If-Match": '"1"'},
    )
    assert problem(stale, 409)["current_version"] == 2
    moved = client.post(
        f"/api/v1/requests/{ref}/transitions",
        json={"to": "waiting", "reason": "asked"},
        headers={**tokens["dana"], "If-Match": '"2"'},
    )
    assert moved.get_json()["status"] == "waiting"
    # Closing an unanswered request is the system's housekeeping, not a move people have.
    refused = problem(
        client.post(
            f"/api/v1/requests/{ref}/transitions", json={"to": "closed"}, headers=tokens["dana"]
        ),
        409,
    )
    assert "allowed from waiting: open, resolved, cancelled" in refused["detail"]
    problem(
        client.post(
            f"/api/v1/requests/{ref}/transitions",
            json={"to": "open"},
            headers={**tokens["dana"], "If-Match": "three"},
        ),
        400,
    )


def test_escalate_and_hand_back(api) -> None:  # type: ignore[no-untyped-def]
    client, org, tokens = api
    ref = f"REQ-{org.file():05d}"
    escalated = client.post(
        f"/api/v1/requests/{ref}/escalations",
        json={"team": "specialists", "reason": "ledger", "answer_within_hours": 2},
        headers=tokens["dana"],
    )
    assert escalated.status_code == 201 and escalated.get_json()["level"] == 1
    note = client.post(
        f"/api/v1/requests/{ref}/messages",
        json={"body": "fixed", "internal": True},
        headers=tokens["kim"],
    )
    assert note.status_code == 201
    back = client.post(
        f"/api/v1/requests/{ref}/hand-back", json={"note": "done"}, headers=tokens["kim"]
    )
    assert back.status_code == 200 and back.get_json()["handed_back_at"]
    problem(
        client.post(
            f"/api/v1/requests/{ref}/escalations",
            json={"team": "nope", "reason": "x"},
            headers=tokens["dana"],
        ),
        422,
    )


def test_directory_endpoints(api) -> None:  # type: ignore[no-untyped-def]
    client, org, tokens = api
    org.file()
    h = tokens["ada"]
    contacts = client.get("/api/v1/contacts", headers=h).get_json()
    assert [c["email"] for c in contacts["items"]] == ["maria@example.com"]
    assert (
        client.get(f"/api/v1/contacts/{contacts['items'][0]['id']}", headers=h).get_json()["name"]
        == "Maria Anders"
    )
    problem(client.get("/api/v1/contacts/999", headers=h), 404)
    subjects = client.get("/api/v1/subjects", headers=h).get_json()["items"]
    assert subjects[0]["spoc"]["name"] == "Dana Reyes"
    assert [d["name"] for d in subjects[0]["deputies"]] == ["Lee Chen", "Sam Patel"]
    assert (
        client.get(f"/api/v1/subjects/{org.account.id}", headers=h).get_json()["name"]
        == "Northwind Traders"
    )
    problem(client.get("/api/v1/subjects/x", headers=h), 404)
    teams = {t["key"]: t for t in client.get("/api/v1/teams", headers=h).get_json()["items"]}
    assert teams["specialists"]["member_ids"] == [org.kim.id]
    agents = client.get("/api/v1/agents?limit=2", headers=h).get_json()
    assert len(agents["items"]) == 2 and isinstance(agents["next_cursor"], str)
    rest = client.get(f"/api/v1/agents?cursor={agents['next_cursor']}", headers=h).get_json()
    assert min(a["id"] for a in rest["items"]) > agents["items"][-1]["id"]


def test_request_types_carry_the_forms_json_schema(api) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = api
    types = client.get("/api/v1/request-types").get_json()["items"]
    assert [t["key"] for t in types] == [
        "generic.question",
        "generic.incident",
        "generic.service_request",
    ]
    incident = client.get("/api/v1/request-types/generic.incident").get_json()
    assert incident["fields_schema"]["required"] == ["summary", "description", "impact", "urgency"]
    problem(client.get("/api/v1/request-types/generic.nope"), 404)


def test_refusals(api) -> None:  # type: ignore[no-untyped-def]
    client, org, tokens = api
    rid = org.file()
    ref = f"REQ-{rid:05d}"
    problem(client.get("/api/v1/requests"), 401)
    problem(client.get("/api/v1/requests", headers={"Authorization": "Bearer spoc_nonsense"}), 401)
    revoked_id, revoked = org.spoc.tokens.create(Actor.system(), org.dana.email, "old")
    org.spoc.tokens.revoke(Actor.system(), revoked_id.id)
    problem(client.get("/api/v1/requests", headers={"Authorization": f"Bearer {revoked}"}), 401)
    # A viewer reads but never writes.
    assert client.get(f"/api/v1/requests/{ref}", headers=tokens["val"]).status_code == 200
    problem(
        client.post(f"/api/v1/requests/{ref}/messages", json={"body": "hi"}, headers=tokens["val"]),
        403,
    )
    problem(client.post("/api/v1/requests", json=NEW, headers=tokens["val"]), 403)
    # A specialist cannot see requests outside their teams: 404, not 403.
    problem(client.get(f"/api/v1/requests/{ref}", headers=tokens["kim"]), 404)
    assert org.spoc.requests.get(rid, Actor.system()).version == 1


def test_requester_tracking_token_works_for_their_request_only(api) -> None:  # type: ignore[no-untyped-def]
    client, org, _ = api
    mine, token = org.spoc.requests.create_with_tracking_link(
        type_key="generic.question",
        fields={"summary": "Mine"},
        requester={"name": "M", "email": "m@example.com"},
    )
    other = org.file()
    h = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/requests/REQ-{mine.id:05d}", headers=h).status_code == 200
    reply = client.post(
        f"/api/v1/requests/REQ-{mine.id:05d}/messages", json={"body": "More info"}, headers=h
    )
    assert reply.status_code == 201
    problem(
        client.post(
            f"/api/v1/requests/REQ-{mine.id:05d}/messages",
            json={"body": "x", "internal": True},
            headers=h,
        ),
        403,
    )
    problem(client.get(f"/api/v1/requests/REQ-{other:05d}", headers=h), 404)
    problem(
        client.post(
            f"/api/v1/requests/REQ-{other:05d}/transitions", json={"to": "cancelled"}, headers=h
        ),
        404,
    )
    problem(client.get("/api/v1/requests", headers=h), 401)
    cancelled = client.post(
        f"/api/v1/requests/REQ-{mine.id:05d}/transitions", json={"to": "cancelled"}, headers=h
    )
    assert cancelled.get_json()["status"] == "cancelled"
    assert org.spoc.requests.get(other, Actor.system()).status is Status.NEW


def test_a_retried_create_with_the_same_idempotency_key_creates_nothing(api) -> None:  # type: ignore[no-untyped-def]
    client, org, tokens = api
    h = {**tokens["dana"], "Idempotency-Key": "order-42-attempt"}
    first = client.post("/api/v1/requests", json=NEW, headers=h)
    again = client.post("/api/v1/requests", json=NEW, headers=h)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert count(org, Request) == 1
    different = client.post(
        "/api/v1/requests", json={**NEW, "fields": {"summary": "Other"}}, headers=h
    )
    problem(different, 422)
    ref = first.get_json()["reference"]
    m = {**tokens["dana"], "Idempotency-Key": "reply-1"}
    client.post(f"/api/v1/requests/{ref}/messages", json={"body": "Hello"}, headers=m)
    client.post(f"/api/v1/requests/{ref}/messages", json={"body": "Hello"}, headers=m)
    kinds = [e.kind for e in org.spoc.requests.timeline(1, Actor.system())]
    assert kinds.count("message") == 1


def test_rate_limited_with_retry_after(make_app: AppFactory) -> None:
    app = make_app(api_limit="3 per minute")
    client = app.test_client()
    codes = [client.get("/api/v1/request-types").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.get("/api/v1/request-types")
    assert int(response.headers["Retry-After"]) > 0


def test_token_cli_and_console_page(api, app: Flask) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from spoc.core.cli import main
    from tests.conftest import csrf_token, login

    _, org, _ = api
    env = {
        "SPOC_ENV": "test",
        "SPOC_DATABASE_URL": org.spoc.db.url,
        "SPOC_PLUGINS": "generic",
        "SPOC_CALENDARS": '{"default": {"always_open": true}}',
    }
    runner = CliRunner()
    created = runner.invoke(main, ["token", "create", "lee@example.org", "--name", "EHR"], env=env)
    assert created.exit_code == 0 and "spoc_" in created.output, created.output
    assert "EHR" in runner.invoke(main, ["token", "list"], env=env).output
    assert (
        runner.invoke(
            main, ["token", "create", "ghost@example.org", "--name", "x"], env=env
        ).exit_code
        == 1
    )
    console = app.test_client()
    login(console, org.spoc, org.ada)
    page = console.post(
        "/console/admin/tokens",
        data={
            "csrf_token": csrf_token(console, "/console/absences"),
            "agent": "sam@example.org",
            "name": "Carrier",
        },
    )
    assert "shown only once" in page.get_data(as_text=True)
    assert "spoc_" in page.get_data(as_text=True)
    lee = app.test_client()
    login(lee, org.spoc, org.lee)
    assert lee.get("/console/admin/tokens").status_code == 403
