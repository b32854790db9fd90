"""Business-time arithmetic with exact expected instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from spoc.core.kernel.calendar import BusinessCalendar, CalendarSpec

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_9_5 = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def calendar(**spec: object) -> BusinessCalendar:
    return BusinessCalendar.from_spec(CalendarSpec.model_validate({"hours": WEEKDAYS_9_5, **spec}))


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone).astimezone(UTC)  # type: ignore[misc]


LON = calendar(timezone="Europe/London", country="GB", subdivision="ENG")
NYC = calendar(timezone="America/New_York", country="US", subdivision="NY")


def test_friday_afternoon_plus_two_hours_is_monday_morning() -> None:
    assert LON.add(local(LONDON, 2026, 3, 6, 16, 0), timedelta(hours=2)) == local(
        LONDON, 2026, 3, 9, 10, 0
    )


def test_filed_at_23_00_counts_from_the_next_opening() -> None:
    assert LON.add(local(LONDON, 2026, 3, 3, 23, 0), timedelta(hours=1)) == local(
        LONDON, 2026, 3, 4, 10, 0
    )
    assert LON.next_open(local(LONDON, 2026, 3, 7, 12, 0)) == local(LONDON, 2026, 3, 9, 9, 0)


def test_public_holiday_is_skipped() -> None:
    # Good Friday 3 April and Easter Monday 6 April 2026 are bank holidays in England.
    assert LON.add(local(LONDON, 2026, 4, 2, 16, 0), timedelta(hours=2)) == local(
        LONDON, 2026, 4, 7, 10, 0
    )
    # Independence Day 2026 is a Saturday; observed on Friday 3 July in New York.
    assert NYC.add(local(NEW_YORK, 2026, 7, 2, 16, 0), timedelta(hours=2)) == local(
        NEW_YORK, 2026, 7, 6, 10, 0
    )


def test_organisation_closure_dates() -> None:
    cal = calendar(timezone="Europe/London", closures=["2026-03-04"])
    assert cal.add(local(LONDON, 2026, 3, 3, 16, 0), timedelta(hours=2)) == local(
        LONDON, 2026, 3, 5, 10, 0
    )


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        (LONDON, date(2026, 3, 29)),
        (LONDON, date(2026, 10, 25)),
        (NEW_YORK, date(2026, 3, 8)),
        (NEW_YORK, date(2026, 11, 1)),
    ],
)
def test_dst_change_keeps_wall_clock_hours(zone: ZoneInfo, day: date) -> None:
    cal = BusinessCalendar.from_spec(
        CalendarSpec(
            timezone=zone.key,
            hours={d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        )
    )
    start = datetime(day.year, day.month, day.day, 9, 0, tzinfo=zone)
    due = cal.add(start, timedelta(hours=8))
    assert due.astimezone(zone).replace(tzinfo=None) == datetime(
        day.year, day.month, day.day, 17, 0
    )
    assert cal.elapsed(start, due) == timedelta(hours=8)
    # Across the change night: Saturday 16:00 + 2h = Sunday 10:00 local.
    before = datetime(day.year, day.month, day.day, 16, 0, tzinfo=zone) - timedelta(days=1)
    after = cal.add(before, timedelta(hours=2))
    assert after.astimezone(zone).replace(tzinfo=None) == datetime(
        day.year, day.month, day.day, 10, 0
    )


def test_round_the_clock_across_spring_forward_is_real_time() -> None:
    from spoc.core.domain.sla import AlwaysOpen

    start = local(LONDON, 2026, 3, 29, 0, 30)
    due = AlwaysOpen().add(start, timedelta(hours=8))
    assert due.astimezone(LONDON).hour == 9  # 8 real hours, but the wall clock jumped
    assert due - start == timedelta(hours=8)


def test_a_pause_across_the_weekend_counts_only_business_time() -> None:
    assert LON.elapsed(
        local(LONDON, 2026, 3, 6, 15, 0), local(LONDON, 2026, 3, 9, 11, 0)
    ) == timedelta(hours=4)


def test_lunch_break_days() -> None:
    cal = calendar(timezone="Europe/London", hours={"mon": ["08:00-12:00", "13:00-17:00"]})
    assert cal.add(local(LONDON, 2026, 3, 2, 11, 0), timedelta(hours=2)) == local(
        LONDON, 2026, 3, 2, 14, 0
    )
    assert cal.elapsed(
        local(LONDON, 2026, 3, 2, 11, 0), local(LONDON, 2026, 3, 2, 14, 0)
    ) == timedelta(hours=2)


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"hours": {"mon": ["9-17"]}}, "hours.mon"),
        ({"hours": {"mon": ["17:00-09:00"]}}, "ends before it starts"),
        ({"hours": {"mon": ["09:00-13:00", "12:00-17:00"]}}, "overlap"),
        ({"timezone": "Mars/Base"}, "unknown time zone"),
        ({"country": "XX"}, "country"),
        ({"hours": {"funday": ["09:00-17:00"]}}, "hours.funday"),
    ],
)
def test_bad_specs_name_the_problem(spec: dict, field: str) -> None:
    with pytest.raises(ValidationError, match=field.replace(".", r"\.")):
        CalendarSpec.model_validate(spec)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        LON.add(datetime(2026, 3, 2, 9, 0), timedelta(hours=1))


def test_a_calendar_without_hours_is_refused() -> None:
    with pytest.raises(ValueError, match="working hours"):
        BusinessCalendar.from_spec(CalendarSpec(hours={}))


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
durations = st.integers(min_value=0, max_value=60 * 60 * 80).map(lambda s: timedelta(seconds=s))


@settings(max_examples=200, deadline=None)
@given(start=instants, duration=durations, more=durations)
def test_add_and_elapsed_agree_and_add_is_monotonic(
    start: datetime, duration: timedelta, more: timedelta
) -> None:
    due = LON.add(start, duration)
    assert LON.elapsed(start, due) == duration
    assert LON.add(start, duration + more) >= due
