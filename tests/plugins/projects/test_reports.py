"""Published status reports: immutable, versioned, valid against the published JSON Schema,
shared with a sponsor by an unguessable link that expires."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from jsonschema import Draft202012Validator, FormatChecker

from spoc import PermissionDenied
from tests.conftest import csrf_token, login
from tests.plugins.projects.conftest import Office, mails_to


def milestone(name: str, baseline: str, forecast: str) -> str:
    return f"{name} | {baseline} | {forecast} |"


def busy_month(office: Office) -> None:
    """Backend reports with a slipping milestone, Frontend does not report, a risk and a
    decision are open, and the manager overrides the rollup."""
    from spoc.plugins.projects.rollup import override

    office.update(
        office.backend,
        "2026-03",
        "amber",
        milestones=milestone("Go-live", "2026-06-01", "2026-06-20"),
        blockers="Test data — late",
    )
    office.spoc.requests.create(
        type_key="projects.risk",
        fields={
            "summary": "Supplier may fail",
            "cause": "Small supplier",
            "event": "Bankruptcy",
            "effect": "No parts",
            "probability": 4,
            "impact": 4,
            "proximity": "2026-03-20",
            "owner": "Ivo Marsh",
        },
        requester={"name": "Ivo Marsh", "email": "ivo@example.com"},
        subject_id=office.apollo.id,
    )
    office.spoc.requests.create(
        type_key="projects.decision",
        fields={"summary": "Pick the vendor", "owner": "Ivo", "needed_by": "2026-03-10"},
        requester={"name": "Ivo Marsh", "email": "ivo@example.com"},
        subject_id=office.apollo.id,
    )
    office.spoc.sweep()
    period = office.period(office.apollo, "2026-03")
    org = office.org
    override(office.spoc, org.actor(org.dana), period.id, "green", "Frontend reported by phone.")


def publish(office: Office) -> Any:
    from spoc.plugins.projects.reports import publish as publish_report

    period = office.period(office.apollo, "2026-03")
    return publish_report(office.spoc, office.org.actor(office.org.dana), period.id)


def test_a_published_report_never_changes_and_a_new_publication_is_a_new_version(
    office: Office,
) -> None:
    from spoc.plugins.projects.models import Report

    busy_month(office)
    first = publish(office)
    frozen = json.loads(first.content)
    assert frozen["version"] == 1
    assert frozen["rag"] == {
        "computed": "amber",
        "override": "green",
        "justification": "Frontend reported by phone.",
        "reported": "green",
    }
    assert [w["missing"] for w in frozen["workstreams"]] == [False, True]
    assert frozen["milestones_slipping"][0]["slip_days"] == 19
    office.update(office.frontend, "2026-03", "red")  # the world moves on
    with office.spoc.db.reader() as session:
        again = session.get(Report, first.id)
        assert again is not None
        assert again.content == first.content and again.sha256 == first.sha256
    second = publish(office)
    assert second.version == 2 and second.id != first.id
    assert json.loads(second.content)["rag"]["computed"] == "red"
    with office.spoc.db.transaction() as session:
        row = session.get(Report, first.id)
        assert row is not None
        row.content = "{}"
        with pytest.raises(ValueError, match="never changes"):
            session.flush()
        session.rollback()
    events = office.timeline(office.period(office.apollo, "2026-03").report_request_id)
    assert [e.summary for e in events if e.kind == "projects.report_published"] == [
        "Status report for 2026-03 published"
    ] * 2


def test_only_the_manager_publishes(office: Office) -> None:
    from spoc.plugins.projects.reports import publish as publish_report

    period = office.period(office.apollo, "2026-03")
    with pytest.raises(PermissionDenied):
        publish_report(office.spoc, office.org.actor(office.org.sam), period.id)


def test_the_report_validates_against_the_schema_the_plugin_serves(
    office_app: Flask, office: Office
) -> None:
    busy_month(office)
    report = publish(office)
    client = office_app.test_client()
    served = client.get("/p/projects/schema/status-report.json")
    assert served.status_code == 200 and served.mimetype == "application/schema+json"
    schema = served.get_json()
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    content = json.loads(report.content)
    assert list(validator.iter_errors(content)) == []
    assert content["$schema"].endswith("/p/projects/schema/status-report.json")
    broken = {**content, "rag": {**content["rag"], "reported": "purple"}}
    assert list(validator.iter_errors(broken))


def test_a_sponsor_reads_the_report_by_link_until_it_expires(
    office_app: Flask, office: Office
) -> None:
    from spoc.plugins.projects.reports import share

    busy_month(office)
    report = publish(office)
    url, _ = share(office.spoc, office.org.actor(office.org.dana), report.id)
    path = url.removeprefix("http://127.0.0.1:5000")
    client = office_app.test_client()
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Apollo: status report 2026-03" in html and "Frontend reported by phone." in html
    pdf = client.get(f"{path}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get(f"{path}/json").get_json()["version"] == 1
    [mail] = [m for m in mails_to(office, "grace@example.com") if "Status report" in m.subject]
    assert url in mail.body_text
    assert client.get(path[:-3] + "abc").status_code == 404
    assert client.get("/p/projects/shared/not-a-token").status_code == 404
    office.clock.set(office.clock.now() + timedelta(days=31))
    assert client.get(path).status_code == 404
    assert client.get(f"{path}/pdf").status_code == 404


def test_staff_pages_need_sign_in_and_changes_need_the_manager(
    office_app: Flask, office: Office
) -> None:
    busy_month(office)
    report = publish(office)
    period = office.period(office.apollo, "2026-03")
    client = office_app.test_client()
    for path in (
        "/p/projects/",
        f"/p/projects/portfolios/{office.portfolio.id}",
        f"/p/projects/projects/{office.apollo.id}",
        f"/p/projects/reports/{report.id}",
        f"/p/projects/reports/{report.id}/pdf",
    ):
        anonymous = client.get(path)
        assert anonymous.status_code == 303, path
        assert anonymous.headers["Location"].startswith("/console/login")
    login(client, office.spoc, office.org.val)  # a viewer reads, but does not change
    assert client.get(f"/p/projects/projects/{office.apollo.id}").status_code == 200
    assert client.get(f"/p/projects/reports/{report.id}/pdf").data.startswith(b"%PDF")
    token = csrf_token(client, f"/p/projects/reports/{report.id}")
    refused = client.post(
        f"/p/projects/projects/{office.apollo.id}/override",
        data={"csrf_token": token, "period_id": period.id, "rag": "red", "justification": "x" * 20},
    )
    assert refused.status_code == 403
    other = office_app.test_client()
    login(other, office.spoc, office.org.sam)  # manages Borealis, not Apollo
    token = csrf_token(other, f"/p/projects/projects/{office.apollo.id}")
    other.post(
        f"/p/projects/projects/{office.apollo.id}/override",
        data={"csrf_token": token, "period_id": period.id, "rag": "red", "justification": "x" * 20},
    )
    assert office.period(office.apollo, "2026-03").override_rag == "green"


def test_forms_carry_and_need_a_csrf_token(office_app: Flask, office: Office) -> None:
    client = office_app.test_client()
    login(client, office.spoc, office.org.dana)
    period = office.period(office.apollo, "2026-03")
    page = client.get(f"/p/projects/projects/{office.apollo.id}").get_data(as_text=True)
    assert page.count('name="csrf_token"') >= 3  # override, publish, sign out
    forged = client.post(
        f"/p/projects/projects/{office.apollo.id}/override",
        data={"period_id": period.id, "rag": "red", "justification": "Forged from elsewhere"},
    )
    assert forged.status_code == 400
    assert office.period(office.apollo, "2026-03").override_rag is None
    token = csrf_token(client, f"/p/projects/projects/{office.apollo.id}")
    done = client.post(
        f"/p/projects/projects/{office.apollo.id}/override",
        data={"csrf_token": token, "period_id": period.id, "rag": "red", "justification": "Real."},
    )
    assert done.status_code == 303
    assert office.period(office.apollo, "2026-03").override_rag is None  # too short: refused
    published = client.post(
        f"/p/projects/projects/{office.apollo.id}/publish",
        data={"csrf_token": token, "period_id": period.id},
    )
    assert published.status_code == 303 and "/p/projects/reports/" in published.headers["Location"]
