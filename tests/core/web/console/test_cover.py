"""The console's "who is away, and who covers" page."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from tests.conftest import Org, login


def test_every_role_sees_who_is_away_and_who_covers(app: Flask, org: Org) -> None:
    org.file()
    today = org.spoc.requests.today()
    org.spoc.directory.add_absence(org.dana.id, today, today + timedelta(days=2))
    org.spoc.sweep()
    viewer = app.test_client()
    login(viewer, org.spoc, org.val)
    page = viewer.get("/console/cover")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Dana Reyes" in html and "Lee Chen (1)" in html
    assert 'href="/console/cover"' in html  # in the navigation
