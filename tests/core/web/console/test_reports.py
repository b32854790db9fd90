"""Console → Reports, its CSV and the API: the figures a manager decides by, charts with
their tables, nothing from fewer than three requests, nothing but counts for private types."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from importlib.metadata import EntryPoint

import pytest
from flask import Flask

from spoc import FrozenClock, Status
from spoc.core.platform.plugins import ENTRY_POINT_GROUP, installed_entry_points
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, Org, build_org, csrf_token, login
from tests.core.fake_plugins import confidential

FEWER = "fewer than 3"


@pytest.fixture
def reports_app(make_app: AppFactory) -> Flask:
    confidential.SEEN.clear()
    fake = EntryPoint("confidential", "tests.core.fake_plugins.confidential", ENTRY_POINT_GROUP)
    return make_app(
        plugins=["generic", "confidential"],
        plugin_entry_points=[*installed_entry_points(), fake],
    )


@pytest.fixture
def rorg(reports_app: Flask) -> Org:
    return build_org(spoc_of(reports_app))


def resolve_and_rate(org: Org, rid: int, rating: int, comment: str) -> None:
    dana = org.actor(org.dana)
    org.spoc.requests.post_message(rid, dana, "Done")
    org.spoc.requests.transition(rid, Status.RESOLVED, dana)
    org.spoc.requests.give_feedback(rid, org.requester(rid), rating, comment)


def secret(org: Org) -> int:
    return org.file(type_key="confidential.matter", fields={"summary": "About my diagnosis"})


def test_reports_page_shows_sections_charts_tables_and_comments(
    reports_app: Flask, rorg: Org
) -> None:
    for n in range(3):
        resolve_and_rate(rorg, rorg.file(), 4, f"Helpful {n}")
    client = reports_app.test_client()
    login(client, rorg.spoc, rorg.val)
    page = client.get("/console/reports")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for title in ("Volume", "Escalations", "Customer satisfaction", "SPOC load", "Knowledge"):
        assert title in html
    # Each chart is an SVG with a title and description, and its table is on the page.
    assert html.count("<svg") >= 4 and 'role="img"' in html and "<desc" in html
    assert '<th scope="col">Day</th>' in html
    assert "Helpful 2" in html and "<script" not in html.split("</main>")[0]
    assert "Confidential matters" in html  # the plugin's section
    assert confidential.SEEN and confidential.SEEN[0].period.days == 28


def test_hook_report_sections_is_shown_on_the_page_in_the_api_and_as_csv(
    reports_app: Flask, rorg: Org
) -> None:
    for _ in range(3):
        secret(rorg)
    client = reports_app.test_client()
    login(client, rorg.spoc, rorg.dana)
    csv_text = client.get("/console/reports/matters-by-week.csv").get_data(as_text=True)
    assert list(csv.reader(io.StringIO(csv_text))) == [["Week", "Filed"], ["this period", "3"]]
    _, token = rorg.spoc.tokens.create(rorg.actor(rorg.ada), rorg.dana.email, "bi")
    body = client.get(
        "/api/v1/reports/sections/confidential-matters",
        headers={"Authorization": f"Bearer {token}"},
    ).json
    assert body is not None
    (section,) = body["sections"]
    assert section["plugin"] == "confidential" and section["headlines"][0]["value"] == 3


def test_cells_under_three_read_fewer_than_three_in_html_csv_and_api(
    reports_app: Flask, rorg: Org
) -> None:
    resolve_and_rate(rorg, rorg.file(), 5, "Great")
    resolve_and_rate(rorg, rorg.file(), 1, "Slow")
    client = reports_app.test_client()
    login(client, rorg.spoc, rorg.val)
    html = client.get("/console/reports").get_data(as_text=True)
    assert FEWER in html
    assert "<strong>2</strong>" not in html
    table = client.get("/console/reports/csat-distribution.csv").get_data(as_text=True)
    assert list(csv.reader(io.StringIO(table)))[1] == ["5 of 5", FEWER]
    _, token = rorg.spoc.tokens.create(rorg.actor(rorg.ada), rorg.val.email, "bi")
    body = client.get("/api/v1/reports", headers={"Authorization": f"Bearer {token}"}).json
    assert body is not None
    volume = next(s for s in body["sections"] if s["key"] == "volume")
    assert volume["headlines"][0] == {"label": "New requests", "value": FEWER, "previous": FEWER}


def test_private_types_give_counts_only(reports_app: Flask, rorg: Org) -> None:
    rids = [secret(rorg) for _ in range(3)]
    for rid in rids:
        resolve_and_rate(rorg, rid, 2, "My diagnosis was late")
    client = reports_app.test_client()
    login(client, rorg.spoc, rorg.val)
    html = client.get("/console/reports?type=confidential.matter").get_data(as_text=True)
    assert "<strong>3</strong>" in html  # three filed, three rated: counts are there
    assert "diagnosis" not in html  # neither the comments nor the summaries
    export = client.get("/console/reports/requests.csv?type=confidential.matter")
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert len(rows) == 3 and all(r["owner"] == "" and r["team"] == "" for r in rows)
    assert "diagnosis" not in export.get_data(as_text=True)


def test_the_per_request_export_streams_one_row_per_request_with_clock_figures(
    reports_app: Flask, rorg: Org
) -> None:
    rid = rorg.file()
    clock = rorg.spoc.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(timedelta(minutes=30))
    resolve_and_rate(rorg, rid, 4, "")
    rorg.file()
    client = reports_app.test_client()
    login(client, rorg.spoc, rorg.dana)
    response = client.get("/console/reports/requests.csv")
    assert response.is_streamed and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["reference"] for r in rows] == ["REQ-00001", "REQ-00002"]
    assert rows[0]["first_response_seconds"] == "1800" and rows[0]["rating"] == "4"
    assert rows[0]["owner"] == "Dana Reyes" and rows[1]["resolved_at"] == ""


def test_bad_filters_name_the_field_and_show_no_figures(reports_app: Flask, rorg: Org) -> None:
    client = reports_app.test_client()
    login(client, rorg.spoc, rorg.val)
    page = client.get("/console/reports?from=yesterday&priority=P9")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "a date as YYYY-MM-DD" in html and "one of P1, P2, P3, P4" in html
    assert "New requests" not in html
    _, token = rorg.spoc.tokens.create(rorg.actor(rorg.ada), rorg.val.email, "bi")
    problem = client.get(
        "/api/v1/reports?from=2026-03-09&to=2026-03-01",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert problem.status_code == 422
    assert problem.json is not None and problem.json["errors"][0]["field"] == "query.from"


def test_specialists_may_not_read_reports(reports_app: Flask, rorg: Org) -> None:
    client = reports_app.test_client()
    login(client, rorg.spoc, rorg.kim)
    assert client.get("/console/reports").status_code == 403
    _, token = rorg.spoc.tokens.create(rorg.actor(rorg.ada), rorg.kim.email, "bi")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/reports", headers=headers).status_code == 403


def test_an_agent_turns_the_weekly_digest_on_and_off(reports_app: Flask, rorg: Org) -> None:
    client = reports_app.test_client()
    login(client, rorg.spoc, rorg.val)
    token = csrf_token(client, "/console/reports")
    client.post("/console/reports/digest", data={"csrf_token": token, "digest": "on"})
    assert rorg.spoc.reports.subscribed(rorg.val.id)
    assert "checked" in client.get("/console/reports").get_data(as_text=True)
    client.post("/console/reports/digest", data={"csrf_token": token})
    assert not rorg.spoc.reports.subscribed(rorg.val.id)
