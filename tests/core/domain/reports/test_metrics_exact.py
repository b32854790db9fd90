"""Exact figures: a constructed fortnight on a Mon-Fri 09:00-17:00 calendar (London), with
a pause, a breach, an escalation answered late, a reopen and ratings. Each metric is
compared with the value worked out by hand in the comments."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from spoc import Actor, FrozenClock, Status
from spoc.core.domain.reports.filters import ReportFilter
from spoc.core.kernel.reports import Figure, ReportPeriod, ReportSection
from spoc.testing import BUSINESS_CALENDARS
from tests.conftest import Org

H = 3600
SYSTEM = Actor.system("test")


@pytest.fixture
def spoc_app_settings() -> dict[str, Any]:
    return {"calendars": BUSINESS_CALENDARS}


@pytest.fixture(params=["read from the facts", "rolled up by the worker"])
def rolled(request: pytest.FixtureRequest) -> bool:
    """Each figure is checked twice: with every day still logged as changed (the report folds
    the facts) and after the worker's roll-up (the report sums the stored day rows)."""
    return bool(request.param == "rolled up by the worker")


def settle(org: Org, rolled: bool) -> None:
    if rolled:
        assert org.spoc.reports.roll_up(max_days=None) > 0


def figure(sections: list[ReportSection], key: str, label: str) -> Figure:
    section = next(s for s in sections if s.key == key)
    return next(h.figure for h in section.headlines if h.label == label)


def previous(sections: list[ReportSection], key: str, label: str) -> Figure | None:
    section = next(s for s in sections if s.key == key)
    return next(h.previous for h in section.headlines if h.label == label)


def rows(sections: list[ReportSection], table: str) -> list[list[Any]]:
    found = next(t for s in sections for t in s.tables if t.key == table)
    return [[c.value if isinstance(c, Figure) else c for c in row] for row in found.rows]


def build(org: Org) -> dict[str, int]:
    """Monday 2 March 2026, 09:00 London (= UTC): four requests, all P3 (first response
    4 business hours, resolution 24; an escalation's OLA 4)."""
    spoc, clock = org.spoc, org.spoc.clock
    assert isinstance(clock, FrozenClock)
    dana, kim = org.actor(org.dana), org.actor(org.kim)
    at = clock.now()

    def to(hours: float) -> None:  # move the clock to Monday 09:00 + hours
        clock.advance(at + timedelta(hours=hours) - clock.now())

    a, b, c, d = (org.file(), org.file(), org.file(), org.file())
    # C: resolved at 09:30 without a reply: first response and resolution 0.5 h, first
    # contact. Rated 4, no comment.
    to(0.5)
    spoc.requests.transition(c, Status.OPEN, dana)
    spoc.requests.transition(c, Status.RESOLVED, dana)
    spoc.requests.give_feedback(c, org.requester(c), 4)
    # A: answered at 10:00 (FR 1 h), waiting 11:00 Mon to 11:00 Tue (8 business hours
    # paused), resolved Tue 12:00: resolution 2 h + 1 h = 3 h. Rated 5 with a comment.
    to(1)
    spoc.requests.post_message(a, dana, "Here it is")
    to(2)
    spoc.requests.transition(a, Status.WAITING, dana)
    # B and D: nobody answers by 13:00 (FR due): the sweep at 13:30 breaches both.
    to(4.5)
    spoc.sweep()
    # B: answered 14:00 (FR 5 h) and escalated to the specialists (OLA 4 h: due Tue 10:00).
    to(5)
    spoc.requests.post_message(b, dana, "Looking into it")
    spoc.escalations.escalate(b, dana, team_key="specialists", reason="billing")
    # Tue 11:00: the sweep breaches the OLA and escalates to level 2 (the authority).
    to(26)
    spoc.sweep()
    spoc.requests.post_message(a, org.requester(a), "Thanks, one more thing")
    # Tue 11:30: the SPOC hands level 2 back (0.5 h with it); Tue 12:00 the specialist
    # hands level 1 back: Mon 14-17 + Tue 9-12 = 6 h, answered late.
    to(26.5)
    spoc.escalations.hand_back(b, dana)
    to(27)
    spoc.escalations.hand_back(b, kim)
    spoc.requests.transition(a, Status.RESOLVED, dana)
    spoc.requests.give_feedback(a, org.requester(a), 5, "Quick and kind")
    # B: resolved Tue 13:00, reopened Tue 14:00, resolved again Wed 10:00: resolution
    # Mon 9-17 (8) + Tue 9-13 (4) + Wed 9-10 (1) = 13 h. Rated 2 with a comment.
    to(28)
    spoc.requests.transition(b, Status.RESOLVED, dana)
    to(29)
    spoc.requests.transition(b, Status.OPEN, org.requester(b))
    to(49)
    spoc.requests.transition(b, Status.RESOLVED, dana)
    spoc.requests.give_feedback(b, org.requester(b), 2, "Took two tries")
    # D stays open, with Dana (the account's SPOC).
    return {"a": a, "b": b, "c": c, "d": d}


FORTNIGHT = ReportFilter(ReportPeriod(date(2026, 3, 2), date(2026, 3, 15)))


def test_each_metric_equals_the_hand_computed_value(org: Org, rolled: bool) -> None:
    build(org)
    settle(org, rolled)
    report = org.spoc.reports.report(SYSTEM, FORTNIGHT)

    def value(key: str, label: str) -> float | None:
        return figure(report, key, label).value

    # Volume: four filed on Monday; C resolved Mon, A Tue, B Wed; D open since Mon 09:00
    # (now Wed 10:00: between one and three days old).
    assert value("volume", "New requests") == 4
    assert value("volume", "Resolved") == 3
    assert value("volume", "Backlog now (open requests)") == 1
    assert rows(report, "volume-by-day")[:3] == [
        ["2026-03-02", 4, 1],
        ["2026-03-03", 0, 1],
        ["2026-03-04", 0, 1],
    ]
    assert rows(report, "volume-by-week") == [["2026-W10", 4, 3], ["2026-W11", 0, 0]]
    assert [r[1] for r in rows(report, "backlog-by-age")] == [0, 1, 0, 0, 0]
    # First response (P4: target 8 business hours): C 0.5 h, A 1 h, B 5 h. Nearest rank:
    # median = 2nd of 3, p90 = 3rd. All within 8 h. D was breached by Tuesday's sweep.
    assert value("times", "First response: median") == 1 * H
    assert value("times", "First response: 90th percentile") == 5 * H
    assert value("times", "First response: within target") == 100.0
    assert value("times", "First response: breaches") == 1
    # Resolution (P4: 40 h): C 0.5 h; A 2 + 1 = 3 h (the 8 h waiting excluded); B Mon 8 h
    # + Tue 9-13 4 h + (reopened 14:00) Tue 14-17 3 h + Wed 9-10 1 h = 16 h.
    assert value("times", "Resolution: median") == 3 * H
    assert value("times", "Resolution: 90th percentile") == 16 * H
    assert value("times", "Resolution: within target") == 100.0
    assert value("times", "Resolution: breaches") == 0
    assert rows(report, "times-by-priority")[3] == ["P4", 1 * H, 100.0, 3 * H, 100.0]
    # Escalations: 1 of 4 requests; level 1 answered late (6 h against an OLA of 4),
    # level 2 in 0.5 h: 1 of 2 within OLA; time with specialists 6 + 0.5 h on B.
    assert value("escalations", "Escalation rate") == 25.0
    assert value("escalations", "Answered within OLA") == 50.0
    assert value("escalations", "Time with specialists: median") == 6.5 * H
    assert value("escalations", "Hand-back time: median") == 0.5 * H
    assert value("escalations", "Hand-back time: 90th percentile") == 6 * H
    assert value("escalations", "Answered late (OLA breaches)") == 1
    assert rows(report, "escalations-by-level-team") == [
        ["Level 1", "Specialist support", 1, 0.0],
        ["Level 2", "Management team", 1, 100.0],
    ]
    # Reopens and first contact, of the three resolved: B reopened; A (one reply) and C
    # (none) resolved at first contact, B not (escalated, reopened).
    assert value("quality", "Reopen rate") == pytest.approx(100 / 3)
    assert value("quality", "First-contact resolution") == pytest.approx(200 / 3)
    assert rows(report, "channel-mix")[0] == ["portal", 4, 100.0]
    # Load: D is open with Dana; nobody away.
    assert rows(report, "load-by-spoc") == [["Dana Reyes", 1, 0, 0]]
    assert rows(report, "away-now") == []
    # CSAT: 5, 4 and 2: average 11/3; three ratings for three resolutions.
    assert value("csat", "Average rating (1 to 5)") == pytest.approx(11 / 3)
    assert value("csat", "Response rate") == 100.0
    assert [r[1] for r in rows(report, "csat-distribution")] == [1, 1, 0, 1, 0]
    assert rows(report, "csat-comments") == [
        ["REQ-00002", "Where is my invoice?", "2 of 5", "Took two tries"],
        ["REQ-00001", "Where is my invoice?", "5 of 5", "Quick and kind"],
    ]
    # Knowledge: no article read or answered, four requests filed.
    assert value("knowledge", "Deflection (answered ÷ answered + filed)") == 0.0


def test_the_previous_period_is_the_same_length_just_before(org: Org, rolled: bool) -> None:
    build(org)
    settle(org, rolled)
    week_after = ReportFilter(ReportPeriod(date(2026, 3, 9), date(2026, 3, 15)))
    report = org.spoc.reports.report(SYSTEM, week_after)
    assert figure(report, "volume", "New requests").value == 0
    assert previous(report, "volume", "New requests") == Figure.count(4)
    earlier = previous(report, "times", "Resolution: median")
    assert earlier is not None and earlier.value == 3 * H


def test_narrowing_by_owner_and_channel(org: Org, rolled: bool) -> None:
    build(org)
    settle(org, rolled)
    by_lee = ReportFilter(FORTNIGHT.period, agent_id=org.lee.id)
    assert figure(org.spoc.reports.report(SYSTEM, by_lee), "volume", "New requests").value == 0
    by_email = ReportFilter(FORTNIGHT.period, channel="email")
    assert figure(org.spoc.reports.report(SYSTEM, by_email), "volume", "New requests").value == 0
    by_dana = ReportFilter(FORTNIGHT.period, agent_id=org.dana.id, priority="P4")
    assert figure(org.spoc.reports.report(SYSTEM, by_dana), "volume", "New requests").value == 4
