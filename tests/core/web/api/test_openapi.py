"""The OpenAPI document is generated, valid, complete — and the live app keeps its word."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from openapi_spec_validator import validate
from werkzeug.serving import make_server

from spoc import Actor, create_app
from spoc.core.services import spoc_of
from spoc.core.web.api.base import REGISTRY
from tests.conftest import TEST_CALENDARS, AppFactory, build_org


def test_the_document_validates_and_lists_every_operation(app: Flask) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    listed = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    assert listed == {(op.path, op.method) for op in REGISTRY.operations}


def test_the_reference_page_lists_operations(app: Flask) -> None:
    html = app.test_client().get("/api/v1/docs").get_data(as_text=True)
    assert "/requests/{reference}/messages" in html and "Idempotency-Key" in html


def test_hook_api_routes_mount_plugin_endpoints_and_document_them(make_app: AppFactory) -> None:
    app = make_app(plugins=["generic", "facilities"])
    spoc = spoc_of(app)
    org = build_org(spoc)
    _, secret = spoc.tokens.create(Actor.system(), org.ada.email, "t")
    building = spoc.directory.add_subject(
        kind="facilities.building", name="HQ", spoc_agent_id=org.dana.id
    )
    spoc.requests.create(
        type_key="facilities.repair",
        fields={"summary": "Tap", "location": "Kitchen"},
        requester={"name": "R", "email": "r@example.com"},
        subject_id=building.id,
    )
    client = app.test_client()
    response = client.get(
        "/api/v1/facilities/work-orders", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200
    assert [o["reference"] for o in response.get_json()["items"]] == ["REQ-00001"]
    assert client.get("/api/v1/facilities/work-orders").status_code == 401
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert "/facilities/work-orders" in document["paths"]
    assert "WorkOrderList" in document["components"]["schemas"]


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The app served on 127.0.0.1 from a migrated database with demo-like data."""
    app = create_app(
        env="test",
        database_url=f"sqlite:///{tmp_path / 'live.sqlite'}",
        plugins=["generic"],
        calendars=TEST_CALENDARS,
        api_limit="100000 per minute",
    )
    spoc = spoc_of(app)
    spoc.upgrade_database()
    org = build_org(spoc)
    for i in range(3):
        org.file(fields={"summary": f"Question {i}"})
    _, secret = spoc.tokens.create(Actor.system(), org.ada.email, "schemathesis")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", secret
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        spoc.db.dispose()


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_contract_violation(
    live: tuple[str, str], tmp_path: Path
) -> None:
    base, secret = live
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{base}/api/v1/openapi.json",
        "--url",
        f"{base}/api/v1",
        "--header",
        f"Authorization: Bearer {secret}",
        "--max-examples",
        "10",
        "--checks",
        "not_a_server_error,status_code_conformance,"
        "content_type_conformance,response_schema_conformance",
        "--seed",
        "1",
        "--request-timeout",
        "10",
        "--no-color",
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
        cwd=tmp_path,  # its report folder stays out of the work tree
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


# --- every API error is problem+json and documented -------------------------------------------


def _problem(response: Any) -> dict[str, Any]:
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    body = response.get_json()
    assert {"type", "title", "status"} <= set(body) and body["status"] == response.status_code
    return dict(body)


def test_every_operation_documents_its_errors_as_problem_details(app: Flask) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert "reason_required" in document["components"]["schemas"]["Problem"]["properties"]
    for path, operations in document["paths"].items():
        for method, spec in operations.items():
            codes = set(spec["responses"])
            assert {"400", "414", "429", "500"} <= codes, (method, path)
            if "security" in spec:
                assert {"401", "403"} <= codes, (method, path)
                assert "reason" in spec["responses"]["403"]["description"]
            if "requestBody" in spec:
                assert "413" in codes, (method, path)
            for code, answer in spec["responses"].items():
                if int(code) >= 400:
                    assert answer["content"] == problem, (method, path, code)


def test_api_errors_are_problem_details_not_pages(make_app: AppFactory) -> None:
    app = make_app(api_limit="100000 per minute")
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer a crash as production would

    @app.get("/api/v1/crash-for-the-test")
    def crash() -> str:
        raise RuntimeError("boom")

    spoc = spoc_of(app)
    org = build_org(spoc)
    _, admin = spoc.tokens.create(Actor.system(), org.ada.email, "t")
    _, specialist = spoc.tokens.create(Actor.system(), org.kim.email, "t")
    client = app.test_client()
    auth = {"Authorization": f"Bearer {admin}"}
    assert _problem(client.get("/api/v1/crash-for-the-test"))["status"] == 500
    assert "boom" not in client.get("/api/v1/crash-for-the-test").get_data(as_text=True)
    big = client.post(
        "/api/v1/requests",
        data=b"{" + b" " * (3 * 1024 * 1024) + b"}",
        headers={**auth, "Content-Type": "application/json"},
    )
    assert _problem(big)["status"] == 413
    assert _problem(client.get("/api/v1/requests?q=" + "x" * 3000, headers=auth))["status"] == 414
    forbidden = client.get("/api/v1/contacts", headers={"Authorization": f"Bearer {specialist}"})
    assert _problem(forbidden)["status"] == 403
    assert _problem(client.delete("/api/v1/requests", headers=auth))["status"] == 405
    assert _problem(client.get("/api/v1/requests?limit=x\x00", headers=auth))["status"] == 400
    # Outside the API the same errors are pages.
    assert client.get("/" + "x" * 3000).mimetype == "text/html"
