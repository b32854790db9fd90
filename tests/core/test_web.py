from __future__ import annotations

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
