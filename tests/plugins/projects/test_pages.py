"""What the manager sees: the portfolio page and the project page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from flask import Flask

from tests.conftest import login
from tests.plugins.projects.conftest import Office
from tests.plugins.projects.test_reports import busy_month


def test_the_portfolio_page_shows_rag_trend_overdue_updates_and_escalations(
    office_app: Flask, office: Office
) -> None:
    office.update(office.backend, "2026-03", "red")
    office.clock.set(datetime(2026, 4, 3, 16, 0, tzinfo=UTC))  # a day after March's deadline
    office.spoc.sweep()
    office.spoc.sweep()
    client = office_app.test_client()
    login(client, office.spoc, office.org.dana)
    html = client.get(f"/p/projects/portfolios/{office.portfolio.id}").get_data(as_text=True)
    assert "Digital transformation" in html and "Apollo" in html and "Borealis" in html
    assert 'class="rag rag-red">Red' in html
    assert "Overdue updates" in html and "Frontend" in html and "Fit-out" in html
    assert "level 1" in html  # the escalated chases and the sponsor escalation
    listing = client.get("/p/projects/").get_data(as_text=True)
    assert "Digital transformation" in listing


def test_the_project_page_shows_workstreams_slips_heat_map_and_decision_log(
    office_app: Flask, office: Office
) -> None:
    busy_month(office)
    client = office_app.test_client()
    login(client, office.spoc, office.org.dana)
    page = client.get(f"/p/projects/projects/{office.apollo.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Backend" in html and "Frontend" in html and "(no update)" in html
    assert "Go-live" in html and "19 days" in html  # slipping against its baseline
    assert "Risk heat map" in html and "Supplier may fail" in html
    assert "Pick the vendor" in html  # the decision log
    assert "Frontend reported by phone." in html  # the override's justification, shown
    assert "computed" in html
    assert client.get("/p/projects/projects/999999").status_code == 404


def test_portfolios_and_their_projects_page_by_keyset(
    office_app: Flask, office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spoc.plugins.projects import views
    from spoc.plugins.projects.structure import add_portfolio, add_project

    for i in range(3):
        add_portfolio(office.spoc, f"Portfolio {i}", manager_id=office.org.dana.id)
        add_project(
            office.spoc,
            f"Project {i}",
            portfolio_id=office.portfolio.id,
            manager_id=office.org.dana.id,
            sponsor=("Grace Okafor", "grace@example.com"),
            reporting_starts=date(2026, 3, 1),
        )
    monkeypatch.setattr(views, "PAGE", 2)
    client = office_app.test_client()
    login(client, office.spoc, office.org.dana)

    def walk(url: str, row: str, more: str) -> list[str]:
        """The rows of every page, each page's counted once (a card may link twice)."""
        seen: list[str] = []
        for _ in range(20):
            html = client.get(url).get_data(as_text=True)
            seen += dict.fromkeys(re.findall(row, html))
            found = re.search(rf'<a href="([^"]+)">{more}', html)
            if found is None:
                return seen
            url = found.group(1).replace("&amp;", "&")
        raise AssertionError("the walk does not end")

    portfolios = walk("/p/projects/", r"/p/projects/portfolios/(\d+)", "More portfolios")
    assert len(portfolios) == 4 and portfolios == sorted(portfolios, key=int)
    projects = walk(
        f"/p/projects/portfolios/{office.portfolio.id}",
        r"/p/projects/projects/(\d+)\"",
        "More projects",
    )
    assert len(projects) == 5 and len(set(projects)) == 5  # each on one page only
    assert client.get("/p/projects/?after=42").status_code == 400  # an old bare id
