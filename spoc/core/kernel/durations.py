"""Business time as people say it: "two business days", "four business hours".

A plain :class:`~datetime.timedelta` is ambiguous as business time: ``timedelta(days=5)`` is
120 hours, which on a 09:00-17:00 calendar is fifteen business days, not five. SLA policies and
escalation answer times therefore take one of these instead, and refuse a ``timedelta`` with a
message saying which to use. They are resolved to business time on a calendar only when a
clock starts, because a business day is as long as that calendar's working day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta


def _positive(value: float, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{what} must be a number, not {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be positive, not {value!r}")


@dataclass(frozen=True)
class BusinessHours:
    """``hours`` (and ``minutes``) of open time on the calendar: ``BusinessHours(4)``,
    ``BusinessHours(minutes=30)``. On a round-the-clock calendar that is real time."""

    hours: float = 0
    minutes: float = 0

    def __post_init__(self) -> None:
        _positive(self.hours + self.minutes, "business hours")
        if self.hours < 0 or self.minutes < 0:
            raise ValueError("business hours and minutes must not be negative")

    def on(self, day_length: timedelta) -> timedelta:
        """The business time this is; a business hour is an hour whatever the day length."""
        return timedelta(hours=self.hours, minutes=self.minutes)


@dataclass(frozen=True)
class BusinessDays:
    """``days`` working days of the calendar: ``BusinessDays(5)`` is a working week.

    A business day is the calendar's own day length (8 hours on 09:00-17:00, 24 on a
    round-the-clock calendar; see :attr:`BusinessCalendar.day_length`)."""

    days: float

    def __post_init__(self) -> None:
        _positive(self.days, "business days")

    def on(self, day_length: timedelta) -> timedelta:
        return self.days * day_length


BusinessDuration = BusinessHours | BusinessDays
"""What an SLA target or an escalation answer time is."""


def business_duration(value: object, what: str) -> BusinessDuration:
    """``value`` if it is a business duration; a ``timedelta`` is refused saying which to use."""
    if isinstance(value, BusinessHours | BusinessDays):
        return value
    if isinstance(value, timedelta):
        hours = value.total_seconds() / 3600
        raise TypeError(
            f"{what} is a plain timedelta ({value}), which would count every day as 24 business "
            f"hours; say BusinessHours({hours:g}) for {hours:g} hours of open time, or "
            "BusinessDays(n) for n working days of the calendar"
        )
    raise TypeError(f"{what} must be BusinessHours or BusinessDays, not {type(value).__name__}")
