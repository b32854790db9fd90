from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import Org


def test_home_lists_request_types_by_group(client: FlaskClient, org: Org) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<h2 id="g-1">General</h2>' in html
    assert "Report something broken" in html
    assert "Plugins enabled: generic" in html


def test_healthz_reports_database_ok(client: FlaskClient, org: Org) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
