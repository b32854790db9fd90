"""The projects section of Reports: the RAG trend of periods, overdue updates, escalations."""

from __future__ import annotations

from datetime import UTC, datetime

from spoc import Actor
from tests.plugins.projects.conftest import Office

ESCALATES = datetime(2026, 4, 3, 16, 0, tzinfo=UTC)


def test_a_missing_update_shows_as_overdue_and_escalated(office: Office) -> None:
    office.update(office.backend, "2026-03", "green")
    office.update(office.fitout, "2026-03", "green")
    office.clock.set(ESCALATES)
    office.spoc.sweep()
    office.spoc.sweep()
    spoc = office.spoc
    chosen = spoc.reports.parse({"from": "2026-03-01", "to": "2026-04-03"})
    sections = spoc.reports.report(Actor.system(), chosen)
    portfolio = next(s for s in sections if s.key == "projects-portfolio")
    trend, causes = portfolio.tables
    assert [row[0] for row in causes.rows] == ["update missing"]
    assert causes.rows[0][1].value == 1  # type: ignore[union-attr]
    assert trend.rows, "the March period is in the trend"
