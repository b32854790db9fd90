from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.conftest import Org


def test_healthz_reports_database_ok(client: FlaskClient, org: Org) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_unknown_page_is_a_friendly_404(client: FlaskClient, org: Org) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert "This page does not exist" in response.get_data(as_text=True)


# --- numbers and JSON the web layer cannot use: a 4xx naming the field, never a 500 ----------

import base64  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
from importlib.metadata import EntryPoint  # noqa: E402
from typing import Any  # noqa: E402

from flask import Flask  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from spoc import Actor  # noqa: E402
from spoc.core.domain.models import Request  # noqa: E402
from spoc.core.platform.plugins import ENTRY_POINT_GROUP, installed_entry_points  # noqa: E402
from spoc.core.services import spoc_of  # noqa: E402
from tests.conftest import AppFactory, build_org, csrf_token, login  # noqa: E402

HUGE = str(2**64)
ALL_PLUGINS = ["generic", "healthcare", "projects", "events", "logistics"]


def _staff(make_app: AppFactory) -> tuple[Flask, FlaskClient, Org, str]:
    app = make_app(plugins=ALL_PLUGINS, api_limit="100000 per minute")
    spoc = spoc_of(app)
    org = build_org(spoc)
    client = app.test_client()
    login(client, spoc, org.ada)
    _, secret = spoc.tokens.create(Actor.system(), org.ada.email, "probe")
    return app, client, org, secret


def test_integers_beyond_64_bits_in_any_route_are_not_found(make_app: AppFactory) -> None:
    app, client, _, secret = _staff(make_app)
    checked = 0
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        url = re.sub(r"<[^>]+>", "x", re.sub(r"<int:[^>]+>", HUGE, rule.rule))
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        response = client.open(url, method=method, headers={"Authorization": f"Bearer {secret}"})
        # Not this route (404, or 405 where another route takes the path), never a 500.
        assert response.status_code in (400, 404, 405), (url, response.status_code)
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/console/queues/all?after=2026-01-01T00:00:00~" + HUGE, "after"),
        ("/console/subjects?after=" + HUGE, "after"),
        ("/console/queues/all?subject=" + HUGE, "subject"),
        ("/console/admin/outbox?before=" + HUGE, "before"),
        ("/console/admin/agents?after=" + HUGE, "after"),
    ],
)
def test_integers_beyond_64_bits_in_queries_are_refused_by_name(
    make_app: AppFactory, path: str, field: str
) -> None:
    _, client, _, _ = _staff(make_app)
    response = client.get(path)
    assert response.status_code == 400, path
    assert f"&#39;{field}&#39;" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("action", "data", "field"),
    [
        ("escalate", {"team": "specialists", "reason": "x", "answer_within_hours": "inf"}, None),
        ("escalate", {"team": "specialists", "reason": "x", "answer_within_hours": "nan"}, None),
        ("escalate", {"team": "specialists", "reason": "x", "answer_within_hours": "1e300"}, None),
        ("assign", {"agent_id": HUGE}, "agent_id"),
        ("reply", {"body": "hi", "version": HUGE}, "version"),
        ("link", {"subject": "#" + HUGE}, "subject"),
    ],
)
def test_console_forms_refuse_unusable_numbers_and_change_nothing(
    make_app: AppFactory, action: str, data: dict[str, str], field: str | None
) -> None:
    app, client, org, _ = _staff(make_app)
    rid = org.file()
    before = spoc_of(app).requests.get(rid, Actor.system()).version
    token = csrf_token(client, f"/console/requests/{rid}")
    response = client.post(f"/console/requests/{rid}/{action}", data={"csrf_token": token, **data})
    assert response.status_code in (303, 400), response.status_code
    if field is not None:
        assert response.status_code == 400
        assert f"&#39;{field}&#39;" in response.get_data(as_text=True)
    else:
        page = client.get(f"/console/requests/{rid}").get_data(as_text=True)
        assert "answer_within_hours" in page or "finite" in page
    assert spoc_of(app).requests.get(rid, Actor.system()).version == before


def _api(
    client: FlaskClient, secret: str, method: str, path: str, body: str
) -> tuple[int, dict[str, Any]]:
    response = client.open(
        f"/api/v1{path}",
        method=method,
        data=body,
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    return response.status_code, response.get_json()


def test_deeply_nested_json_is_refused_naming_the_body(make_app: AppFactory) -> None:
    _, client, _, secret = _staff(make_app)
    for depth in (40, 100_000):
        body = '{"fields":' + "[" * depth + "]" * depth + "}"
        status, problem = _api(client, secret, "POST", "/requests", body)
        assert status == 400 and problem["errors"][0]["field"] == "body"
        assert "nested deeper" in problem["detail"]


def test_text_holding_nul_in_any_json_body_is_refused_naming_its_path(
    make_app: AppFactory,
) -> None:
    # Any route's body, a plugin's too: no database stores NUL, PostgreSQL refuses it.
    _, client, _, secret = _staff(make_app)
    body = json.dumps({"type_key": "generic.question", "fields": {"summary": "Hi\u0000"}})
    status, problem = _api(client, secret, "POST", "/requests", body)
    assert status == 400 and "body.fields.summary" in problem["detail"]
    body = json.dumps({"fields": {"a\u0000": "x"}})
    status, problem = _api(client, secret, "POST", "/requests", body)
    assert status == 400 and "NUL" in problem["detail"]


def test_non_finite_json_numbers_are_refused(make_app: AppFactory) -> None:
    app, client, org, secret = _staff(make_app)
    reference = spoc_of(app).requests.reference(org.file())
    for value in ("Infinity", "NaN", "1e999", str(2**64)):
        body = '{"team": "specialists", "reason": "x", "answer_within_hours": ' + value + "}"
        status, problem = _api(client, secret, "POST", f"/requests/{reference}/escalations", body)
        assert status in (400, 422), (value, status)
        assert problem["errors"][0]["field"] in ("body", "body.answer_within_hours")


def test_cursors_beyond_64_bits_are_refused(make_app: AppFactory) -> None:
    _, client, _, secret = _staff(make_app)
    cursor = base64.urlsafe_b64encode(f"2026-01-01T00:00:00+00:00~{HUGE}".encode()).decode()
    headers = {"Authorization": f"Bearer {secret}"}
    for path in (f"/api/v1/requests?cursor={cursor}", f"/api/v1/contacts?cursor={HUGE}"):
        response = client.get(path, headers=headers)
        assert response.status_code in (400, 422), path
        assert response.mimetype == "application/problem+json"


def test_request_fields_hold_only_storable_numbers(make_app: AppFactory) -> None:
    eps = [
        *installed_entry_points(),
        EntryPoint("numbers", "tests.core.fake_plugins.numbers", ENTRY_POINT_GROUP),
    ]
    app = make_app(plugins=["generic", "numbers"], plugin_entry_points=eps)
    build_org(spoc_of(app))
    client = app.test_client()
    for field, value in (("amount", "inf"), ("amount", "nan"), ("units", HUGE)):
        data = {
            "csrf_token": csrf_token(client, "/new/numbers.order"),
            "requester_name": "Maria Anders",
            "requester_email": "maria@example.com",
            "summary": "An order",
            field: value,
        }
        response = client.post("/new/numbers.order", data=data)
        assert response.status_code in (400, 422), (field, value, response.status_code)
        page = response.get_data(as_text=True)
        assert "finite" in page or "out of range" in page, page
    with spoc_of(app).db.reader() as session:
        assert session.scalar(select(func.count()).select_from(Request)) == 0


def test_json_bodies_still_parse(make_app: AppFactory) -> None:
    _, client, _, secret = _staff(make_app)
    body = json.dumps({"type_key": "generic.question", "fields": {"summary": "Hi"}})
    response = client.post(
        "/api/v1/requests",
        data=body,
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )
    assert response.status_code in (201, 422), response.get_data(as_text=True)


# --- fuzzing every portal form and the console's request forms ------------------------------

from collections.abc import Callable  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FORM_EXAMPLES = 50  # per form; test_forms.py fuzzes three portal forms with 60
JUNK = st.one_of(
    st.text(max_size=60),
    st.integers().map(str),
    st.sampled_from(
        [
            "",
            " ",
            "-1",
            "0",
            HUGE,
            "-" + HUGE,
            "inf",
            "-inf",
            "nan",
            "1e309",
            "2026-02-30",
            "2026-02-30T25:61",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "#" + HUGE,
            "x" * 5000,
            "on",
        ]
    ),
)
FIELD_NAME = re.compile(r'name="([a-z_][a-z0-9_.]*)"')


def _field_names(html: str) -> list[str]:
    return sorted({n for n in FIELD_NAME.findall(html) if n != "csrf_token"})


def _fuzz_form(
    client: FlaskClient, url: str, names: list[str], seen: list[int], token: str
) -> Callable[[], None]:
    @settings(
        max_examples=FORM_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.dictionaries(st.sampled_from(names), JUNK, max_size=len(names)))
    def post(data: dict[str, str]) -> None:
        data = {k: v.replace("\x00", "") for k, v in data.items()}
        response = client.post(url, data={**data, "csrf_token": token})
        seen.append(response.status_code)
        assert response.status_code < 500, (url, data, response.status_code)

    return post


@pytest.mark.slow
def test_fuzzed_portal_and_console_forms_never_fail_on_our_side(make_app: AppFactory) -> None:
    app = make_app(
        plugins=ALL_PLUGINS,
        portal_submit_limit="1000000 per minute",
        portal_action_limit="1000000 per minute",
    )
    app.config["PROPAGATE_EXCEPTIONS"] = False  # count a crash as the 500 it would be
    spoc = spoc_of(app)
    org = build_org(spoc)
    seen: list[int] = []
    portal = app.test_client()
    token = csrf_token(portal, "/console/login")
    forms = 0
    for key in spoc.host.request_types.names():
        html = portal.get(f"/new/{key}").get_data(as_text=True)
        names = _field_names(html)
        if names:
            _fuzz_form(portal, f"/new/{key}", names, seen, token)()
            forms += 1
    staff = app.test_client()
    login(staff, spoc, org.ada)
    rid = org.file()
    page = staff.get(f"/console/requests/{rid}").get_data(as_text=True)
    actions = sorted(set(re.findall(rf'action="/console/requests/{rid}/([a-z_]+)"', page)))
    assert {"reply", "note", "escalate", "assign"} <= set(actions), actions
    names = [*_field_names(page), "version", "agent_id", "answer_within_hours"]
    token = csrf_token(staff, f"/console/requests/{rid}")
    for action in actions:
        _fuzz_form(staff, f"/console/requests/{rid}/{action}", names, seen, token)()
        forms += 1
    print(
        f"hypothesis: {len(seen)} form posts over {forms} forms (portal and console), "
        f"0 server errors; statuses {sorted(set(seen))}"
    )
    assert 500 not in seen
