"""Attachments through the surfaces: the portal form's file field, tracking-page, console and
API replies, and downloads only for those who may read the request (404 for anyone else)."""

from __future__ import annotations

import base64
import io
import json
import re
from importlib.metadata import EntryPoint

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from spoc import Actor
from spoc.core.domain.attachments import Upload
from spoc.core.domain.models import Attachment, Request
from spoc.core.platform.plugins import ENTRY_POINT_GROUP, installed_entry_points
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, Org, build_org, csrf_token, login
from tests.core.fake_plugins import records

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
INCIDENT = {
    "summary": "The printer is on strike",
    "description": "Error 42 since this morning",
    "impact": "low",
    "urgency": "medium",
    "requester_name": "Maria Anders",
    "requester_email": "maria@example.com",
}


def _count(org: Org, model: type) -> int:
    with org.spoc.db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _file_links(page: str) -> list[str]:
    return re.findall(r'href="([^"]*/files/\d+)"', page)


def _assert_download(response, data: bytes, content_type: str, name: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.status_code
    assert response.data == data
    assert response.mimetype == content_type
    assert response.headers["Content-Disposition"] == f"attachment; filename={name}"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def _file_incident(client: FlaskClient, *files: tuple[bytes, str]) -> object:
    token = csrf_token(client, "/new/generic.incident")
    form: dict[str, object] = {**INCIDENT, "csrf_token": token}
    form["attachments"] = [(io.BytesIO(data), name) for data, name in files]
    return client.post("/new/generic.incident", data=form, content_type="multipart/form-data")


def test_the_portal_form_has_a_file_field_and_files_the_request_with_it(
    app: Flask, org: Org
) -> None:
    client = app.test_client()
    page = client.get("/new/generic.incident").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert re.search(r'<input type="file" id="f-attachments" name="attachments" multiple', page)
    response = _file_incident(client, (PNG, "error.png"))
    assert response.status_code == 303, response.get_data(as_text=True)  # type: ignore[attr-defined]
    tracking = response.headers["Location"]  # type: ignore[attr-defined]
    page = client.get(tracking).get_data(as_text=True)
    assert "error.png" in page
    [link] = _file_links(page)
    _assert_download(client.get(link), PNG, "image/png", "error.png")
    with org.spoc.db.reader() as session:
        request = session.scalars(select(Request)).one()
        assert request.fields["attachments"] == ["error.png"]
        assert session.scalar(select(Attachment.message_id)) is None


def test_the_portal_refuses_a_wrong_type_at_the_file_field_and_files_nothing(
    app: Flask, org: Org
) -> None:
    client = app.test_client()
    response = _file_incident(client, (b"<html><script>x()</script></html>", "cute.png"))
    assert response.status_code == 422  # type: ignore[attr-defined]
    page = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert 'id="f-attachments-error"' in page
    assert "cute.png: this type of file is not accepted" in page
    assert _count(org, Request) == 0 and _count(org, Attachment) == 0


def test_the_portal_refuses_a_file_too_big(make_app: AppFactory) -> None:
    app = make_app(attachments_max_file_mb=0.001)
    org = build_org(spoc_of(app))
    response = _file_incident(app.test_client(), (b"a" * 2000, "log.txt"))
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "log.txt: larger than 0.001 MB" in response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert _count(org, Request) == 0


def _filed_with_link(org: Org) -> tuple[int, str]:
    request, token = org.spoc.requests.create_with_tracking_link(
        type_key="generic.question",
        fields={"summary": "Parcel arrived broken"},
        requester={"name": "Maria Anders", "email": "maria@example.com"},
        subject_id=org.account.id,
    )
    return request.id, token


def test_a_tracking_page_reply_carries_files(app: Flask, org: Org) -> None:
    _, token = _filed_with_link(org)
    client = app.test_client()
    csrf = csrf_token(client, f"/track/{token}")
    response = client.post(
        f"/track/{token}/reply",
        data={
            "csrf_token": csrf,
            "body": "Photos of the box",
            "attachments": [(io.BytesIO(PNG), "box.png")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    page = client.get(f"/track/{token}").get_data(as_text=True)
    [link] = _file_links(page)
    _assert_download(client.get(link), PNG, "image/png", "box.png")


def test_the_requester_and_the_owner_read_a_file_a_specialist_outside_the_teams_gets_404(
    app: Flask, org: Org
) -> None:
    request_id, token = _filed_with_link(org)
    maria = org.requester(request_id)
    org.spoc.requests.post_message(
        request_id, maria, "The label", attachments=[Upload("label.pdf", PDF)]
    )
    with org.spoc.db.reader() as session:
        file_id = session.scalars(select(Attachment.id)).one()
    requester = app.test_client()
    _assert_download(
        requester.get(f"/track/{token}/files/{file_id}"), PDF, "application/pdf", "label.pdf"
    )
    owner = app.test_client()
    login(owner, org.spoc, org.dana)
    page = owner.get(f"/console/requests/{request_id}").get_data(as_text=True)
    assert f"/console/requests/{request_id}/files/{file_id}" in page
    _assert_download(
        owner.get(f"/console/requests/{request_id}/files/{file_id}"),
        PDF,
        "application/pdf",
        "label.pdf",
    )
    outsider = app.test_client()
    login(outsider, org.spoc, org.kim)  # a specialist; the request is not escalated to them
    assert outsider.get(f"/console/requests/{request_id}/files/{file_id}").status_code == 404
    # Another request's file through this request's link is not found either.
    other, other_token = _filed_with_link(org)
    assert requester.get(f"/track/{other_token}/files/{file_id}").status_code == 404
    assert owner.get(f"/console/requests/{other}/files/{file_id}").status_code == 404


def test_a_console_note_with_a_file_is_never_served_to_the_requester(app: Flask, org: Org) -> None:
    request_id, token = _filed_with_link(org)
    owner = app.test_client()
    login(owner, org.spoc, org.dana)
    csrf = csrf_token(owner, f"/console/requests/{request_id}")
    version = org.spoc.requests.get(request_id, Actor.system()).version
    response = owner.post(
        f"/console/requests/{request_id}/note",
        data={
            "csrf_token": csrf,
            "version": str(version),
            "body": "Scan of their ID",
            "attachments": [(io.BytesIO(PNG), "id.png")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    with org.spoc.db.reader() as session:
        file_id = session.scalars(select(Attachment.id)).one()
    assert owner.get(f"/console/requests/{request_id}/files/{file_id}").status_code == 200
    requester = app.test_client()
    assert "id.png" not in requester.get(f"/track/{token}").get_data(as_text=True)
    assert requester.get(f"/track/{token}/files/{file_id}").status_code == 404


def _bearer(org: Org, who: str) -> dict[str, str]:
    _, secret = org.spoc.tokens.create(Actor.system(), getattr(org, who).email, f"{who} token")
    return {"Authorization": f"Bearer {secret}"}


def test_api_files_a_request_and_a_message_with_multipart(app: Flask, org: Org) -> None:
    client = app.test_client()
    dana = _bearer(org, "dana")
    body = {
        "type": "generic.incident",
        "fields": {
            "summary": "VPN down",
            "description": "Since 9",
            "impact": "low",
            "urgency": "low",
        },
        "requester": {"name": "Maria Anders", "email": "maria@example.com"},
    }
    created = client.post(
        "/api/v1/requests",
        data={"body": json.dumps(body), "attachments": [(io.BytesIO(PNG), "vpn.png")]},
        content_type="multipart/form-data",
        headers=dana,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    reference = created.get_json()["reference"]
    assert created.get_json()["fields"]["attachments"] == ["vpn.png"]
    reply = client.post(
        f"/api/v1/requests/{reference}/messages",
        data={
            "body": json.dumps({"body": "The log"}),
            "attachments": [(io.BytesIO(b"line one\nline two\n"), "vpn.log")],
        },
        content_type="multipart/form-data",
        headers=dana,
    )
    assert reply.status_code == 201, reply.get_data(as_text=True)
    timeline = client.get(f"/api/v1/requests/{reference}/timeline", headers=dana).get_json()
    files = [a for e in timeline["items"] for a in e["attachments"]]
    assert [(f["filename"], f["content_type"]) for f in files] == [
        ("vpn.png", "image/png"),
        ("vpn.log", "text/plain"),
    ]
    log = client.get(files[1]["href"], headers=dana)
    assert log.status_code == 200 and log.data == b"line one\nline two\n"
    assert log.headers["Content-Disposition"] == "attachment; filename=vpn.log"
    kim = _bearer(org, "kim")
    assert client.get(files[1]["href"], headers=kim).status_code == 404


def test_api_refuses_a_wrong_type_naming_the_field(app: Flask, org: Org) -> None:
    client = app.test_client()
    dana = _bearer(org, "dana")
    request_id = org.file()
    reference = org.spoc.requests.reference(request_id)
    refused = client.post(
        f"/api/v1/requests/{reference}/messages",
        data={
            "body": json.dumps({"body": "Run this"}),
            "attachments": [(io.BytesIO(b"MZ\x90\x00\x03" + b"\x00" * 100), "tool.exe")],
        },
        content_type="multipart/form-data",
        headers=dana,
    )
    assert refused.status_code == 422
    errors = refused.get_json()["errors"]
    assert any(
        e["field"] == "attachments"
        and "tool.exe: this type of file is not accepted" in e["message"]
        for e in errors
    ), errors
    assert _count(org, Attachment) == 0


def test_a_json_body_over_2_mb_is_still_refused(app: Flask, org: Org) -> None:
    client = app.test_client()
    response = client.post(
        "/api/v1/requests",
        data=b"{" + b" " * (3 * 1024 * 1024) + b"}",
        content_type="application/json",
        headers=_bearer(org, "dana"),
    )
    assert response.status_code == 413


@pytest.fixture
def records_app(make_app: AppFactory) -> Flask:
    records.READS.clear()
    fake = EntryPoint("records", "tests.core.fake_plugins.records", ENTRY_POINT_GROUP)
    return make_app(
        plugins=["generic", "records"], plugin_entry_points=[*installed_entry_points(), fake]
    )


def test_a_staff_download_is_reported_like_a_read_of_the_request(records_app: Flask) -> None:
    org = build_org(spoc_of(records_app))
    request_id = org.file()
    org.spoc.requests.post_message(
        request_id, org.actor(org.dana), "x", attachments=[Upload("a.pdf", PDF)]
    )
    with org.spoc.db.reader() as session:
        file_id = session.scalars(select(Attachment.id)).one()
    records.READS.clear()
    owner = records_app.test_client()
    login(owner, org.spoc, org.dana)
    assert owner.get(f"/console/requests/{request_id}/files/{file_id}").status_code == 200
    assert [(r.what, r.channel, r.request_id, r.own) for r in records.READS] == [
        ("attachment", "console", request_id, True)
    ]
    # A reader the plugin asks for a reason gets the break-glass form, not the file.
    stranger = records_app.test_client()
    login(stranger, org.spoc, org.ada)  # an admin, not responsible for this request
    assert stranger.get(f"/console/requests/{request_id}/files/{file_id}").status_code == 403
