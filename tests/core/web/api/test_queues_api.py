"""``GET /requests?queue=<name>``: the console's queues over the API, with the same rules."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from spoc import Actor
from spoc.testing import issue_api_token
from tests.conftest import Org


@pytest.fixture
def api(app: Flask, org: Org) -> tuple[FlaskClient, dict[str, dict[str, str]]]:
    tokens = {
        who: issue_api_token(org.spoc, getattr(org, who)).headers
        for who in ("dana", "kim", "val", "ada")
    }
    return app.test_client(), tokens


def _refs(client: FlaskClient, path: str, headers: dict[str, str]) -> list[str]:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [r["reference"] for r in response.get_json()["items"]]


def test_the_api_lists_the_consoles_queues(api, org: Org) -> None:  # type: ignore[no-untyped-def]
    client, tokens = api
    system = Actor.system()
    mine = org.file()  # about dana's account: hers
    escalated = org.file(subject_id=None)  # the desk's
    org.spoc.escalations.escalate(escalated, system, team_key="specialists", reason="help")
    ref = org.spoc.requests.reference
    assert _refs(client, "/api/v1/requests?queue=mine", tokens["dana"]) == [ref(mine)]
    assert _refs(client, "/api/v1/requests?queue=escalations", tokens["kim"]) == [ref(escalated)]
    assert set(_refs(client, "/api/v1/requests", tokens["dana"])) == {ref(mine), ref(escalated)}
    assert _refs(client, "/api/v1/requests?queue=all&status=closed", tokens["val"]) == []


def test_a_queue_the_caller_may_not_use_is_refused(api) -> None:  # type: ignore[no-untyped-def]
    client, tokens = api
    for who, path, status in (
        ("val", "/api/v1/requests?queue=triage", 403),
        ("dana", "/api/v1/requests?queue=all", 403),
        ("kim", "/api/v1/requests", 403),  # specialists list their own queues
        ("kim", "/api/v1/requests?queue=visible", 403),
        ("kim", "/api/v1/requests?queue=escalations", 200),
    ):
        response = client.get(path, headers=tokens[who])
        assert response.status_code == status, (who, path)
    unknown = client.get("/api/v1/requests?queue=nope", headers=tokens["ada"])
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"][0]["field"] == "query.queue"


def test_a_cursor_from_another_list_is_refused_naming_it(api, org: Org) -> None:  # type: ignore[no-untyped-def]
    client, tokens = api
    for _ in range(3):
        org.spoc.requests.assign(org.file(), Actor.system(), agent_id=org.ada.id)
    h = tokens["ada"]
    mine = client.get("/api/v1/requests?queue=mine&limit=1", headers=h).get_json()
    agents = client.get("/api/v1/agents?limit=1", headers=h).get_json()
    for path in (
        f"/api/v1/requests?queue=all&cursor={mine['next_cursor']}",
        f"/api/v1/requests?cursor={mine['next_cursor']}",
        f"/api/v1/contacts?cursor={agents['next_cursor']}",
        f"/api/v1/audit?cursor={agents['next_cursor']}",
        f"/api/v1/requests?queue=mine&cursor={mine['next_cursor'][:-2]}",
    ):
        refused = client.get(path, headers=h)
        assert refused.status_code == 422, path
        assert refused.mimetype == "application/problem+json"
        assert refused.get_json()["errors"][0]["field"] == "query.cursor", path


def test_the_openapi_document_gives_cursors_as_strings(app: Flask) -> None:
    schemas = app.test_client().get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    for page in ("RequestPage", "ContactPage", "SubjectPage", "AgentPage", "AuditPage"):
        cursor = schemas[page]["properties"]["next_cursor"]
        assert {"type": "string"} in cursor["anyOf"], page
