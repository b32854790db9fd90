"""Escalation by exception: Red, or Amber two periods running, goes to the sponsor; a risk
scoring 15 or more within 30 days of happening goes onto the steering committee's agenda."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask

from spoc import FrozenClock
from tests.conftest import AppFactory
from tests.plugins.projects.conftest import (
    BUSINESS,
    PLUGINS,
    Office,
    escalations,
    make_office,
    team_key,
)

APRIL_2 = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)


def sponsor_escalations(office: Office, label: str) -> list[object]:
    period = office.period(office.apollo, label)
    return [
        e
        for e in escalations(office, period.report_request_id)
        if e.trigger == "plugin:projects:sponsor"
    ]


def test_amber_two_periods_running_escalates_to_the_sponsor_once(office: Office) -> None:
    office.update(office.backend, "2026-03", "amber")
    office.update(office.frontend, "2026-03", "green")
    office.spoc.sweep()
    assert sponsor_escalations(office, "2026-03") == []  # one Amber period is not a trend
    office.clock.set(APRIL_2)
    office.spoc.sweep()  # opens April
    office.update(office.backend, "2026-04", "amber")
    office.spoc.sweep()
    # Frontend has not reported April yet: Amber may mean "not reported"; wait for the deadline.
    assert sponsor_escalations(office, "2026-04") == []
    office.update(office.frontend, "2026-04", "green")
    office.spoc.sweep()
    office.spoc.sweep()
    found = sponsor_escalations(office, "2026-04")
    assert len(found) == 1
    assert team_key(office, found[0].to_team_id) == "sponsors"  # type: ignore[attr-defined]
    assert "Amber for 2 periods running (2026-03, 2026-04)" in found[0].reason  # type: ignore[attr-defined]


def test_amber_that_turns_green_before_the_deadline_is_not_escalated(office: Office) -> None:
    office.update(office.backend, "2026-03", "amber")
    office.update(office.frontend, "2026-03", "amber")
    office.clock.set(APRIL_2)
    office.spoc.sweep()
    office.update(office.backend, "2026-04", "amber")
    office.update(office.backend, "2026-04", "green")
    office.update(office.frontend, "2026-04", "green")
    office.clock.set(datetime(2026, 5, 8, 12, 0, tzinfo=UTC))  # long after April's deadline
    office.spoc.sweep()
    office.spoc.sweep()
    assert sponsor_escalations(office, "2026-04") == []


def test_red_escalates_to_the_sponsor_even_when_the_manager_overrides_it(office: Office) -> None:
    from spoc.plugins.projects.rollup import override

    org = office.org
    office.update(office.backend, "2026-03", "red")
    period = office.period(office.apollo, "2026-03")
    override(office.spoc, org.actor(org.dana), period.id, "green", "Fixed this morning, verified.")
    office.spoc.sweep()
    office.spoc.sweep()
    found = sponsor_escalations(office, "2026-03")
    assert len(found) == 1 and "Apollo is Red for 2026-03" in found[0].reason  # type: ignore[attr-defined]


def risk(office: Office, score: tuple[int, int], days: int) -> int:
    return office.spoc.requests.create(
        type_key="projects.risk",
        fields={
            "summary": f"Risk {score} in {days} days",
            "cause": "A supplier is small",
            "event": "It goes bankrupt",
            "effect": "No parts",
            "probability": score[0],
            "impact": score[1],
            "proximity": (office.clock.now() + timedelta(days=days)).date().isoformat(),
            "owner": "Ivo Marsh",
        },
        requester={"name": "Ivo Marsh", "email": "ivo@example.com"},
        subject_id=office.backend.id,
    ).id


def agenda(office: Office) -> list[int]:
    from spoc.plugins.projects.models import AgendaItem

    with office.spoc.db.reader() as session:
        return [a.request_id for a in session.query(AgendaItem).order_by(AgendaItem.id)]


def test_a_high_risk_within_thirty_days_goes_onto_the_steering_committees_agenda(
    office: Office,
) -> None:
    near = risk(office, (4, 4), 20)  # 16, in 20 days
    far = risk(office, (5, 3), 60)  # 15, in 60 days
    small = risk(office, (3, 4), 5)  # 12: below the threshold
    office.spoc.sweep()
    assert agenda(office) == [near]
    steering = escalations(office, near)
    assert [team_key(office, e.to_team_id) for e in steering] == ["steering_committee"]
    assert steering[0].trigger == "plugin:projects:steering"
    office.clock.set(office.clock.now() + timedelta(days=29))  # 31 days before the far one
    office.spoc.sweep()
    assert agenda(office) == [near]
    office.clock.set(office.clock.now() + timedelta(days=2))
    office.spoc.sweep()
    office.spoc.sweep()
    assert agenda(office) == [near, far]
    # The small risk may breach its SLA, but never reaches the committee.
    assert all(e.trigger != "plugin:projects:steering" for e in escalations(office, small))
    assert [e.trigger for e in escalations(office, near)].count("plugin:projects:steering") == 1


def test_the_agenda_thresholds_are_settings(make_app: AppFactory, clock: FrozenClock) -> None:
    app: Flask = make_app(
        plugins=PLUGINS,
        calendars=BUSINESS,
        plugin_settings={"projects": {"agenda_min_score": 12, "agenda_proximity_days": 7}},
    )
    office = make_office(app, clock)
    small = risk(office, (3, 4), 5)
    later = risk(office, (5, 5), 20)
    office.spoc.sweep()
    assert agenda(office) == [small]
    assert later not in agenda(office)


def test_a_change_beyond_tolerance_goes_to_the_board_and_a_late_decision_to_the_sponsor(
    office: Office,
) -> None:
    change = office.spoc.requests.create(
        type_key="projects.change_request",
        fields={
            "summary": "Add a mobile app",
            "description": "Customers ask for it",
            "impact_days": 45,
            "impact_cost": 80000,
            "recommendation": "Do it in phase 2",
        },
        requester={"name": "Grace Okafor", "email": "grace@example.com"},
        subject_id=office.apollo.id,
    )
    assert [e.trigger for e in escalations(office, change.id)] == [
        "plugin:projects:beyond_tolerance"
    ]
    decision = office.spoc.requests.create(
        type_key="projects.decision",
        fields={
            "summary": "Pick the vendor",
            "owner": "Ivo Marsh",
            "decider": "Grace Okafor",
            "needed_by": "2026-03-04",
        },
        requester={"name": "Ivo Marsh", "email": "ivo@example.com"},
        subject_id=office.apollo.id,
    )
    office.spoc.sweep()
    assert escalations(office, decision.id) == []
    office.clock.set(datetime(2026, 3, 5, 0, 30, tzinfo=UTC))
    office.spoc.sweep()
    late = escalations(office, decision.id)
    assert [team_key(office, e.to_team_id) for e in late] == ["sponsors"]
