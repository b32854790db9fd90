"""SLA durations as people say them: business days of the calendar's own length, business
hours of open time, and a plain timedelta refused at start-up saying which to use."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from spoc import (
    BusinessDays,
    BusinessHours,
    PluginContractError,
    Priority,
    SlaPolicy,
    StartupError,
)
from spoc.core.domain.models import SlaClock
from spoc.core.domain.sla import AlwaysOpen
from spoc.core.kernel.calendar import BusinessCalendar
from spoc.core.services import spoc_of
from tests.conftest import START, AppFactory, Org, build_org
from tests.core.platform.test_plugins import start

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
NINE_TO_FIVE = {"default": {"timezone": "UTC", "hours": {d: ["09:00-17:00"] for d in WEEKDAYS}}}


def due(org: Org, rid: int, kind: str) -> datetime:
    with org.spoc.db.reader() as session:
        clock = session.scalar(
            select(SlaClock).where(SlaClock.request_id == rid, SlaClock.kind == kind)
        )
        assert clock is not None
        return clock.due_at


def office(make_app: AppFactory, resolution: object) -> Org:
    overrides = {"generic.question": {"resolution": {"P4": resolution}}}
    return build_org(spoc_of(make_app(calendars=NINE_TO_FIVE, sla_overrides=overrides)))


def test_five_business_days_are_a_working_week_not_three(make_app: AppFactory) -> None:
    org = office(make_app, {"business_days": 5})
    rid = org.file()  # Monday 09:00
    assert due(org, rid, "resolution") == datetime(2026, 3, 6, 17, 0, tzinfo=UTC)  # Friday


def test_business_hours_count_only_open_time(make_app: AppFactory) -> None:
    org = office(make_app, {"business_hours": 10})
    rid = org.file()
    assert due(org, rid, "resolution") == datetime(2026, 3, 3, 11, 0, tzinfo=UTC)  # Tuesday


def test_iso_hours_in_an_override_still_mean_business_hours(make_app: AppFactory) -> None:
    org = office(make_app, "PT2H30M")
    rid = org.file()
    assert due(org, rid, "resolution") == START + timedelta(hours=2, minutes=30)


@pytest.mark.parametrize("ambiguous", ["P5D", "P1W", 432000])
def test_an_override_in_days_or_bare_seconds_is_refused_saying_which_to_use(
    make_app: AppFactory, ambiguous: object
) -> None:
    with pytest.raises(StartupError) as caught:
        office(make_app, ambiguous)
    message = str(caught.value)
    assert "SPOC_SLA_OVERRIDES for 'generic.question'" in message
    assert '{"business_days": n}' in message and '{"business_hours": n}' in message


def test_a_plain_timedelta_in_a_plugins_sla_stops_startup_naming_plugin_and_what_to_use() -> None:
    with pytest.raises(PluginContractError) as caught:
        start(["generic", "calendar_days"], "calendar_days")
    message = str(caught.value)
    assert message.startswith(
        "plugin 'calendar_days': spoc_request_types: SLA target first_response[P3] is a plain "
        "timedelta (4:00:00)"
    )
    assert "say BusinessHours(4) for 4 hours of open time, or BusinessDays(n)" in message


def test_a_plain_timedelta_target_is_refused_when_the_policy_is_built() -> None:
    with pytest.raises(TypeError, match=r"resolution\[P1\] is a plain timedelta \(5 days"):
        SlaPolicy(first_response={}, resolution={Priority.P1: timedelta(days=5)})


@pytest.mark.parametrize(
    "build",
    [lambda: BusinessHours(0), lambda: BusinessDays(-1), lambda: BusinessDays(float("inf"))],
)
def test_a_business_duration_is_positive_and_finite(build: object) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        build()  # type: ignore[operator]


def test_an_escalation_may_be_answered_within_business_days(make_app: AppFactory) -> None:
    org = build_org(spoc_of(make_app(calendars=NINE_TO_FIVE)))
    rid = org.file()
    org.spoc.escalations.escalate(
        rid,
        org.actor(org.dana),
        team_key="specialists",
        reason="ledger",
        answer_within=BusinessDays(2),
    )
    assert due(org, rid, "escalation") == datetime(2026, 3, 3, 17, 0, tzinfo=UTC)  # Tuesday


def test_an_escalation_answer_time_as_a_timedelta_is_refused(org: Org) -> None:
    rid = org.file()
    with pytest.raises(TypeError, match=r"answer_within is a plain timedelta"):
        org.spoc.escalations.escalate(
            rid,
            org.actor(org.dana),
            team_key="specialists",
            reason="ledger",
            answer_within=timedelta(hours=2),  # type: ignore[arg-type]
        )


def test_a_business_day_is_the_calendars_usual_working_day() -> None:
    london = ZoneInfo("Europe/London")
    week = {d: [(time(9), time(17))] for d in range(4)} | {4: [(time(9), time(15))]}
    assert BusinessCalendar(london, week).day_length == timedelta(hours=8)  # Friday is short
    split = {d: [(time(8), time(12)), (time(13), time(17))] for d in range(5)}
    assert BusinessCalendar(london, split).day_length == timedelta(hours=8)
    tie = {0: [(time(9), time(13))], 1: [(time(9), time(17))]}
    assert BusinessCalendar(london, tie).day_length == timedelta(hours=8)  # the longer on a tie
    nights = {d: [(time(18), time(0))] for d in range(7)}
    assert BusinessCalendar(london, nights).day_length == timedelta(hours=6)
    assert AlwaysOpen().day_length == timedelta(days=1)
    assert BusinessDays(1.5).on(timedelta(hours=8)) == timedelta(hours=12)
