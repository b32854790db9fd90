"""The rollup: worst of the workstreams, worst of the projects, a missing update as Amber, and
a manager's override kept beside the computed value — every change on the audit timeline."""

from __future__ import annotations

import pytest

from spoc import PermissionDenied, ValidationFailed
from tests.plugins.projects.conftest import Office


def portfolio_rag(office: Office) -> str | None:
    from spoc.plugins.projects.models import Portfolio

    with office.spoc.db.reader() as session:
        row = session.get(Portfolio, office.portfolio.id)
        assert row is not None
        return row.rag


def test_a_project_is_the_worst_of_its_workstreams_and_a_missing_update_is_amber(
    office: Office,
) -> None:
    office.update(office.backend, "2026-03", "green")
    # Frontend has not reported: Amber, never Green.
    assert office.period(office.apollo, "2026-03").computed_rag == "amber"
    office.update(office.frontend, "2026-03", "green")
    assert office.period(office.apollo, "2026-03").computed_rag == "green"
    office.update(office.frontend, "2026-03", "red", blockers="Vendor gone")
    period = office.period(office.apollo, "2026-03")
    assert period.computed_rag == "red"
    summaries = [e.summary for e in office.timeline(period.report_request_id)]
    assert any("Frontend Amber (no update) → Green" in s for s in summaries)
    assert any("Frontend Green → Red" in s and "project Green → Red" in s for s in summaries)


def test_a_portfolio_is_the_worst_of_its_projects(office: Office) -> None:
    # Borealis's only workstream has not reported: Amber.
    office.update(office.backend, "2026-03", "green")
    office.update(office.frontend, "2026-03", "green")
    assert portfolio_rag(office) == "amber"
    office.update(office.fitout, "2026-03", "green")
    assert portfolio_rag(office) == "green"
    office.update(office.backend, "2026-03", "red")
    assert portfolio_rag(office) == "red"
    timeline = office.timeline(office.period(office.apollo, "2026-03").report_request_id)
    assert "portfolio Green → Red" in timeline[-1].summary


def test_an_override_needs_a_written_justification_and_keeps_the_computed_value(
    office: Office,
) -> None:
    from spoc.plugins.projects.rollup import override

    org = office.org
    office.update(office.backend, "2026-03", "red")
    office.update(office.frontend, "2026-03", "green")
    period = office.period(office.apollo, "2026-03")
    with pytest.raises(ValidationFailed):
        override(office.spoc, org.actor(org.dana), period.id, "amber", "trust me")
    with pytest.raises(PermissionDenied):  # Sam manages another project
        override(office.spoc, org.actor(org.sam), period.id, "amber", "The vendor is back now.")
    with pytest.raises(PermissionDenied):
        override(office.spoc, org.actor(org.val), period.id, "amber", "The vendor is back now.")
    # Lee deputises for Dana on Apollo.
    override(
        office.spoc, org.actor(org.lee), period.id, "amber", "The vendor is back since Friday."
    )
    period = office.period(office.apollo, "2026-03")
    assert (period.computed_rag, period.override_rag) == ("red", "amber")
    assert period.effective_rag == "amber"
    assert period.override_justification == "The vendor is back since Friday."
    events = office.timeline(period.report_request_id)
    audit = [e for e in events if e.kind == "projects.rag_override"]
    assert len(audit) == 1 and audit[0].actor_name == "Lee Chen"
    assert "reported Amber, computed Red" in audit[0].summary
    assert "The vendor is back since Friday." in audit[0].summary
    # A later update changes the computed value; the override stays beside it.
    office.update(office.backend, "2026-03", "green")
    period = office.period(office.apollo, "2026-03")
    assert (period.computed_rag, period.override_rag) == ("green", "amber")


def test_an_override_is_rolled_up_by_the_sweep_if_the_process_stops_right_after_it(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The override and the mark that its rollup is due commit together."""
    from spoc.plugins.projects.rollup import override

    office.update(office.backend, "2026-03", "red")
    office.update(office.frontend, "2026-03", "green")
    office.update(office.fitout, "2026-03", "green")
    assert portfolio_rag(office) == "red"
    period = office.period(office.apollo, "2026-03")
    assert period.rollup_stale is False
    record_event = office.spoc.requests.record_event

    def then_stop(*args: object, **kwargs: object) -> object:
        record_event(*args, **kwargs)  # type: ignore[arg-type]
        raise SystemExit("the worker stopped")

    monkeypatch.setattr(office.spoc.requests, "record_event", then_stop)
    org = office.org
    with pytest.raises(SystemExit):
        override(office.spoc, org.actor(org.dana), period.id, "amber", "Red is fixed since Monday.")
    monkeypatch.undo()
    period = office.period(office.apollo, "2026-03")
    assert (period.override_rag, period.rollup_stale) == ("amber", True)
    assert portfolio_rag(office) == "red"  # not rolled up yet
    office.spoc.sweep()
    assert office.period(office.apollo, "2026-03").rollup_stale is False
    assert portfolio_rag(office) == "amber"
