"""Business calendars: when the organisation is open, and business-time arithmetic.

A calendar has a time zone, working hours per weekday (local wall-clock times, possibly several
intervals a day, e.g. 08:00-12:00 and 13:00-17:00), public holidays from the ``holidays``
package by country and subdivision, the organisation's own closure dates — or it is open round
the clock. All instants in and out are timezone-aware UTC.

Rules (see docs/decisions.md, "Business calendars"):

* Working hours are local wall-clock times, so a 09:00-17:00 day has 8 business hours also on a
  daylight-saving change day; round-the-clock time is real elapsed time.
* A start outside working hours counts from the next opening.
* Holidays and closures are local dates: the whole local day is closed.
* An interval boundary that falls in a DST gap (02:30 on a spring-forward night) is read as if
  the clocks had not yet changed (Python's ``fold=0``), i.e. one hour later on the wall.

Cost: ``add`` and ``elapsed`` walk day by day (never minute by minute) and stop after 366
closed days in a row, which only a calendar with no working hours at all can reach.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_data
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_CLOSED_DAYS = 366


class CalendarSpec(BaseModel):
    """A calendar as configured (``SPOC_CALENDARS`` is a JSON object of these, by name)."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = "UTC"
    hours: dict[Weekday, list[str]] = Field(
        default_factory=dict, description='Per weekday, intervals like "09:00-17:00".'
    )
    country: str | None = Field(default=None, description="ISO code for public holidays: GB, US")
    subdivision: str | None = Field(default=None, description="e.g. ENG for England, NY")
    closures: list[date] = Field(default_factory=list, description="The organisation's own")
    always_open: bool = False

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("hours")
    @classmethod
    def _intervals(cls, value: dict[Weekday, list[str]]) -> dict[Weekday, list[str]]:
        for day, texts in value.items():
            parsed = sorted(parse_interval(text, day) for text in texts)
            for (_, end), (start, _) in pairwise(parsed):
                if start < end:
                    raise ValueError(f"hours.{day}: intervals overlap")
        return value

    @model_validator(mode="after")
    def _holidays_exist(self) -> CalendarSpec:
        if self.subdivision and not self.country:
            raise ValueError("subdivision needs a country")
        if self.country:
            try:
                holiday_data.country_holidays(self.country, subdiv=self.subdivision)
            except NotImplementedError as exc:
                raise ValueError(f"country/subdivision: {exc}") from None
        return self


def parse_interval(text: str, day: str) -> tuple[time, time]:
    try:
        start_text, end_text = text.split("-")
        start = time.fromisoformat(start_text.strip())
        end = time.fromisoformat(end_text.strip())
    except ValueError:
        raise ValueError(f'hours.{day}: {text!r} is not like "09:00-17:00"') from None
    if end <= start and end != time(0):
        raise ValueError(f"hours.{day}: {text!r} ends before it starts")
    return start, end


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


class BusinessCalendar:
    def __init__(
        self,
        zone: ZoneInfo,
        hours: dict[int, list[tuple[time, time]]],
        holidays: Any = None,
        closures: frozenset[date] = frozenset(),
    ) -> None:
        self.zone = zone
        self.hours = hours
        self.holidays = holidays
        self.closures = closures
        if not any(hours.values()):
            raise ValueError("a business calendar needs working hours on at least one weekday")
        self.day_length = _usual_day(hours)

    @classmethod
    def from_spec(cls, spec: CalendarSpec) -> BusinessCalendar:
        hours = {
            WEEKDAYS.index(day): sorted(parse_interval(t, day) for t in texts)
            for day, texts in spec.hours.items()
        }
        holidays = (
            holiday_data.country_holidays(spec.country, subdiv=spec.subdivision)
            if spec.country
            else None
        )
        return cls(ZoneInfo(spec.timezone), hours, holidays, frozenset(spec.closures))

    # --- the day's opening intervals, as UTC instants -----------------------------------

    def is_closed_day(self, day: date) -> bool:
        return day in self.closures or (self.holidays is not None and day in self.holidays)

    def intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        return _intervals(self, day)

    def _local_day(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    # --- arithmetic -----------------------------------------------------------------------

    def is_open(self, instant: datetime) -> bool:
        instant = _utc(instant, "instant")
        return any(a <= instant < b for a, b in self.intervals(self._local_day(instant)))

    def next_open(self, instant: datetime) -> datetime:
        """``instant`` if open, else the next opening."""
        return self.add(instant, timedelta(0))

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of business time has passed since ``start``."""
        cursor = _utc(start, "start")
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        remaining = duration
        day = self._local_day(cursor) - timedelta(days=1)  # an interval may end after midnight
        closed_run = 0
        while True:
            opened = False
            for begin, end in self.intervals(day):
                opened = True
                if end <= cursor:
                    continue
                begin = max(begin, cursor)
                span = end - begin
                if remaining <= span:
                    return begin + remaining
                remaining -= span
                cursor = end
            closed_run = 0 if opened else closed_run + 1
            if closed_run > MAX_CLOSED_DAYS:
                raise ValueError("the calendar has no opening within a year")
            day += timedelta(days=1)

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time between two instants (zero if ``end`` is not after ``start``)."""
        start, end = _utc(start, "start"), _utc(end, "end")
        total = timedelta(0)
        if end <= start:
            return total
        day = self._local_day(start) - timedelta(days=1)
        last = self._local_day(end)
        while day <= last:
            for begin, finish in self.intervals(day):
                overlap = min(finish, end) - max(begin, start)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total


def _usual_day(hours: dict[int, list[tuple[time, time]]]) -> timedelta:
    """The length of a business day (``BusinessDays``): the most common length of an open
    weekday's working hours, the longer on a tie (Mon-Thu 8 h and Fri 6 h: 8 h)."""
    lengths = Counter(
        sum((_span(begin, end) for begin, end in spans), timedelta(0))
        for spans in hours.values()
        if spans
    )
    return max(lengths, key=lambda length: (lengths[length], length))


def _span(begin: time, end: time) -> timedelta:
    def wall(moment: time) -> timedelta:
        return timedelta(hours=moment.hour, minutes=moment.minute, seconds=moment.second)

    # An interval ending at 00:00 runs to midnight.
    return (wall(end) if end != time(0) else timedelta(days=1)) - wall(begin)


@lru_cache(maxsize=4096)
def _cached(
    zone: ZoneInfo, hours: tuple[tuple[time, time], ...], day: date
) -> tuple[tuple[datetime, datetime], ...]:
    result = []
    for begin, end in hours:
        a = datetime.combine(day, begin, tzinfo=zone).astimezone(UTC)
        end_day = day + timedelta(days=1) if end == time(0) else day
        b = datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)
        result.append((a, b))
    return tuple(result)


def _intervals(calendar: BusinessCalendar, day: date) -> list[tuple[datetime, datetime]]:
    if calendar.is_closed_day(day):
        return []
    hours = tuple(calendar.hours.get(day.weekday(), ()))
    return list(_cached(calendar.zone, hours, day)) if hours else []
