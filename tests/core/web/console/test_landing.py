"""Signing in lands every role on a page it may see, with the console's navigation."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.conftest import PASSWORD, Org, csrf_token, give_password


@pytest.mark.parametrize(
    ("who", "queue"),
    [("val", None), ("kim", "mine"), ("dana", "mine"), ("ada", "mine")],
)
def test_each_role_lands_on_a_page_it_may_see(
    app: Flask, org: Org, who: str, queue: str | None
) -> None:
    agent = getattr(org, who)
    give_password(org.spoc, agent)
    client = app.test_client()
    token = csrf_token(client, "/console/login")
    landed = client.post(
        "/console/login",
        data={"csrf_token": token, "email": agent.email, "password": PASSWORD},
        follow_redirects=True,
    )
    assert landed.status_code == 200
    # A viewer has queues to read but none to work: they land on Reports.
    assert landed.request.path == (f"/console/queues/{queue}" if queue else "/console/reports")
    page = landed.get_data(as_text=True)
    assert 'aria-label="Main"' in page and "Subjects" in page and "Sign out" in page


def test_a_refused_console_page_keeps_the_navigation(app: Flask, org: Org) -> None:
    give_password(org.spoc, org.val)
    client = app.test_client()
    token = csrf_token(client, "/console/login")
    client.post(
        "/console/login", data={"csrf_token": token, "email": org.val.email, "password": PASSWORD}
    )
    missing = client.get("/console/queues/mine")
    assert missing.status_code == 404
    page = missing.get_data(as_text=True)
    assert "Back to your queues" in page and "Sign out" in page
