"""Plugin surfaces for regulated records: triage at intake, staff-read reporting with
break-glass reasons, exports, portal panels and plugin pages."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest
from flask import Flask

from spoc import Actor, PermissionDenied, Priority
from spoc.core.domain.models import Escalation, Request
from spoc.core.platform.plugins import ENTRY_POINT_GROUP, installed_entry_points
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, Org, build_org, csrf_token, login
from tests.core.fake_plugins import records


@pytest.fixture
def records_app(make_app: AppFactory) -> Flask:
    records.READS.clear()
    fake = EntryPoint("records", "tests.core.fake_plugins.records", ENTRY_POINT_GROUP)
    return make_app(
        plugins=["generic", "records"], plugin_entry_points=[*installed_entry_points(), fake]
    )


@pytest.fixture
def rorg(records_app: Flask) -> Org:
    return build_org(spoc_of(records_app))


def fire(org: Org) -> int:
    return org.file(fields={"summary": "The kitchen is on fire"})


def test_hook_triage_request_raises_priority_notifies_and_escalates_in_the_same_write(
    records_app: Flask, rorg: Org
) -> None:
    spoc = rorg.spoc
    request_id = fire(rorg)
    found = spoc.requests.get(request_id, Actor.system())
    assert found.priority is Priority.P1
    assert found.escalation_level == 1
    # One transaction: the row is inserted (version 1), then escalated (version 2).
    assert found.version == 2
    with spoc.db.reader() as session:
        escalation = session.query(Escalation).filter_by(request_id=request_id).one()
    assert escalation.trigger == "plugin:records:fire"
    assert escalation.to_team_id == rorg.specialists.id
    events = spoc.requests.timeline(request_id, rorg.requester(request_id))
    notice = [e for e in events if e.kind == "notice"]
    assert [e.summary for e in notice] == ["Leave the building and call the fire brigade now."]
    created = events[0]
    assert "set by plugin records: the word 'on fire'" in created.data["priority_reason"]


def test_a_calm_request_gets_no_triage(records_app: Flask, rorg: Org) -> None:
    found = rorg.spoc.requests.get(rorg.file(), Actor.system())
    assert found.priority is Priority.P4
    assert found.escalation_level == 0


def test_the_requester_sees_the_notice_first_on_the_tracking_page(records_app: Flask) -> None:
    client = records_app.test_client()
    org = build_org(spoc_of(records_app))
    del org
    token = csrf_token(client, "/new/generic.question")
    response = client.post(
        "/new/generic.question",
        data={
            "csrf_token": token,
            "summary": "Smoke: the server room is on fire",
            "requester_name": "Maria Anders",
            "requester_email": "maria@example.com",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'role="alert"' in page
    assert page.index("call the fire brigade") < page.index("We have your request")


def test_hook_staff_access_reports_reads_and_asks_strangers_for_a_reason(
    records_app: Flask, rorg: Org
) -> None:
    request_id = rorg.file()
    client = records_app.test_client()
    login(client, rorg.spoc, rorg.dana)  # the subject's SPOC: hers
    assert client.get(f"/console/requests/{request_id}").status_code == 200
    assert records.READS[-1].own is True
    assert records.READS[-1].what == "request"
    assert records.READS[-1].channel == "console"

    stranger = records_app.test_client()
    login(stranger, rorg.spoc, rorg.ada)  # an admin, but not responsible
    page = stranger.get(f"/console/requests/{request_id}")
    assert page.status_code == 403
    assert page.mimetype == "text/html"  # a form to fill in, not text to read
    assert "This record is not yours." in page.get_data(as_text=True)
    reads = len(records.READS)
    token = csrf_token(stranger, "/console/queues/mine")
    too_short = stranger.post(
        "/console/break-glass",
        data={"csrf_token": token, "target": f"request:{request_id}", "reason": "because"},
    )
    assert too_short.status_code == 400
    given = stranger.post(
        "/console/break-glass",
        data={
            "csrf_token": token,
            "target": f"request:{request_id}",
            "reason": "Covering the desk tonight",
            "next": f"/console/requests/{request_id}",
        },
    )
    assert given.status_code == 303
    assert given.headers["Location"] == f"/console/requests/{request_id}"
    assert stranger.get(given.headers["Location"]).status_code == 200
    assert len(records.READS) == reads + 1
    assert records.READS[-1].reason == "Covering the desk tonight"
    assert records.READS[-1].own is False


def test_staff_access_over_the_api_takes_the_reason_in_a_header(
    records_app: Flask, rorg: Org
) -> None:
    request_id = rorg.file()
    _, secret = rorg.spoc.tokens.create(rorg.actor(rorg.ada), rorg.ada.email, "script")
    client = records_app.test_client()
    reference = rorg.spoc.requests.reference(request_id)
    headers = {"Authorization": f"Bearer {secret}"}
    refused = client.get(f"/api/v1/requests/{reference}", headers=headers)
    assert refused.status_code == 403
    assert refused.json is not None and refused.json["reason_required"] is True
    headers["SPOC-Access-Reason"] = "Audit of last week's complaints"
    assert client.get(f"/api/v1/requests/{reference}", headers=headers).status_code == 200
    assert records.READS[-1].channel == "api"
    assert records.READS[-1].reason == "Audit of last week's complaints"


def test_hook_request_exports_are_served_to_staff_requesters_and_the_api(
    records_app: Flask, rorg: Org
) -> None:
    spoc = rorg.spoc
    request, tracking = spoc.requests.create_with_tracking_link(
        type_key="generic.question",
        fields={"summary": "Where is my invoice?"},
        requester={"name": "Maria Anders", "email": "maria@example.com"},
        subject_id=rorg.account.id,
    )
    client = records_app.test_client()
    login(client, spoc, rorg.dana)
    page = client.get(f"/console/requests/{request.id}").get_data(as_text=True)
    assert "Summary as text" in page and "Internal sheet" in page
    got = client.get(f"/console/requests/{request.id}/exports/summary.txt")
    assert got.status_code == 200
    assert got.get_data(as_text=True) == f"Request {request.id}: Where is my invoice?"
    assert got.headers["Content-Disposition"] == f'attachment; filename="{request.id}.txt"'
    assert client.get(f"/console/requests/{request.id}/exports/nope").status_code == 404

    requester = records_app.test_client()
    track = requester.get(f"/track/{tracking}").get_data(as_text=True)
    assert "Summary as text" in track and "Internal sheet" not in track
    assert requester.get(f"/track/{tracking}/exports/summary.txt").status_code == 200
    assert requester.get(f"/track/{tracking}/exports/internal").status_code == 404
    assert requester.get("/track/not-a-token/exports/summary.txt").status_code == 404

    reference = spoc.requests.reference(request.id)
    as_requester = {"Authorization": f"Bearer {tracking}"}
    listed = requester.get(f"/api/v1/requests/{reference}/exports", headers=as_requester)
    assert [i["key"] for i in listed.json["items"]] == ["summary.txt"]  # type: ignore[index]
    one = requester.get(f"/api/v1/requests/{reference}/exports/summary.txt", headers=as_requester)
    assert one.status_code == 200 and one.mimetype == "text/plain"
    hidden = requester.get(f"/api/v1/requests/{reference}/exports/internal", headers=as_requester)
    assert hidden.status_code == 404


def test_hook_portal_panels_are_escaped_on_the_tracking_page(records_app: Flask, rorg: Org) -> None:
    _, tracking = rorg.spoc.requests.create_with_tracking_link(
        type_key="generic.question",
        fields={"summary": "Where is my invoice?"},
        requester={"name": "Maria Anders", "email": "maria@example.com"},
    )
    page = records_app.test_client().get(f"/track/{tracking}").get_data(as_text=True)
    assert "Progress" in page
    assert "&lt;b&gt;P4&lt;/b&gt; step 2 of 3" in page


def test_hook_blueprints_mount_plugin_pages_behind_sign_in(records_app: Flask, rorg: Org) -> None:
    client = records_app.test_client()
    anonymous = client.get("/p/records/hello")
    assert anonymous.status_code == 303
    assert anonymous.headers["Location"].startswith("/console/login")
    login(client, rorg.spoc, rorg.dana)
    assert client.get("/p/records/hello").get_data(as_text=True) == "Hello Dana Reyes"


def test_hook_request_filed_runs_inside_the_intake_transaction(
    records_app: Flask, rorg: Org
) -> None:
    records.FILED.clear()
    request_id = rorg.file()
    assert [request_id] == records.FILED
    with pytest.raises(RuntimeError):
        rorg.file(fields={"summary": "please explode"})
    with rorg.spoc.db.reader() as session:
        assert session.query(Request).count() == 1  # the failed intake left nothing behind


def test_record_event_writes_plugin_rows_and_the_timeline_together(
    records_app: Flask, rorg: Org
) -> None:
    spoc = rorg.spoc
    request_id = rorg.file()
    seen: list[int] = []
    spoc.requests.record_event(
        request_id,
        rorg.actor(rorg.dana),
        kind="records.checked",
        summary="Checked the file",
        apply=lambda session, request: seen.append(request.version),
    )
    assert seen == [1]
    assert spoc.requests.get(request_id, Actor.system()).version == 2
    assert spoc.requests.timeline(request_id, rorg.actor(rorg.dana))[-1].kind == "records.checked"
    with pytest.raises(PermissionDenied):
        spoc.requests.record_event(
            request_id, rorg.actor(rorg.val), kind="records.checked", summary="Looked"
        )

    def fail(session: object, request: object) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        spoc.requests.record_event(
            request_id, rorg.actor(rorg.dana), kind="records.x", summary="x", apply=fail
        )
    assert spoc.requests.get(request_id, Actor.system()).version == 2


def test_record_event_refuses_a_kind_the_timeline_cannot_store(
    records_app: Flask, rorg: Org
) -> None:
    request_id = rorg.file()
    with pytest.raises(ValueError, match="at most 32 characters"):
        rorg.spoc.requests.record_event(
            request_id, rorg.actor(rorg.dana), kind="records." + "x" * 30, summary="Too long"
        )
    with pytest.raises(ValueError, match="namespaced"):
        rorg.spoc.requests.record_event(
            request_id, rorg.actor(rorg.dana), kind="checked", summary="No plugin name"
        )


def test_hook_form_defaults_prefill_the_form_opened_from_an_intake_link(
    records_app: Flask, rorg: Org
) -> None:
    client = records_app.test_client()
    token = rorg.spoc.links.create_intake_link(rorg.account.id)
    page = client.get(f"/new/generic.question?intake={token}").get_data(as_text=True)
    assert 'value="About Northwind Traders"' in page
    assert "not_a_field" not in page and "ignored" not in page
    # Without an intake link there is no subject, and nothing is pre-filled.
    plain = client.get("/new/generic.question").get_data(as_text=True)
    assert "About Northwind Traders" not in plain


def test_record_event_applies_a_returned_verdict_once_in_the_same_write(
    records_app: Flask, rorg: Org
) -> None:
    from spoc import Triage

    spoc = rorg.spoc
    request_id = rorg.file()
    dana = rorg.actor(rorg.dana)

    def second_failure(session: object, request: object) -> Triage:
        return Triage(
            "two calls failed",
            priority=Priority.P2,
            escalate_to="specialists",
            cause="unreachable",
        )

    for _ in range(2):
        spoc.requests.record_event(
            request_id, dana, kind="records.call", summary="No answer", apply=second_failure
        )
    found = spoc.requests.get(request_id, Actor.system())
    assert found.priority is Priority.P2
    assert found.escalation_level == 1  # once per cause, however often it is returned
    assert found.version == 3
    with spoc.db.reader() as session:
        triggers = [e.trigger for e in session.query(Escalation).filter_by(request_id=request_id)]
    assert triggers == ["plugin:records:unreachable"]


def test_post_message_runs_the_plugins_change_in_the_same_write(
    records_app: Flask, rorg: Org
) -> None:
    request_id = rorg.file()
    seen: list[int] = []
    rorg.spoc.requests.post_message(
        request_id,
        Actor.system("tracking"),
        "Your parcel is on its way.",
        apply=lambda session, request: seen.append(request.id),
    )
    assert seen == [request_id]

    def fail(session: object, request: object) -> None:
        raise RuntimeError("the plugin's row could not be written")

    with pytest.raises(RuntimeError):
        rorg.spoc.requests.post_message(request_id, Actor.system("t"), "Again", apply=fail)
    messages = [e.kind for e in rorg.spoc.requests.timeline(request_id, rorg.actor(rorg.dana))]
    assert messages.count("message") == 1  # the failed one left nothing
