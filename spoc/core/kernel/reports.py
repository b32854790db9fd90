"""What a report is made of: figures, tables and sections. The core's metrics and the
plugins' sections (``spoc_report_sections``) are built from these, and every surface (the
console page, CSV, the API) renders them the same way, small cells hidden alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

SMALL = 3
"""A cell counting fewer than this many requests is shown as "fewer than 3"."""
FEWER = f"fewer than {SMALL}"


class Unit(StrEnum):
    COUNT = "count"
    PERCENT = "percent"
    SECONDS = "seconds"  # business seconds, shown as hours and minutes
    RATING = "rating"  # a 1-5 average


@dataclass(frozen=True)
class Figure:
    """One number and how many requests (or escalations) it is made from (``n``). A figure
    from fewer than three is never shown, whatever its unit: a median of two resolution
    times, or a count of one, could point at a person."""

    value: float | None
    n: int
    unit: Unit = Unit.COUNT

    @classmethod
    def count(cls, value: int) -> Figure:
        return cls(value, value, Unit.COUNT)

    @property
    def hidden(self) -> bool:
        return self.n < SMALL

    @property
    def shown(self) -> str:
        """The figure as people read it: "fewer than 3", "-" for nothing to measure."""
        if self.hidden:
            return FEWER
        if self.value is None:
            return "-"
        if self.unit is Unit.COUNT:
            return f"{int(self.value):,}"
        if self.unit is Unit.PERCENT:
            return f"{self.value:.1f}%"
        if self.unit is Unit.RATING:
            return f"{self.value:.2f}"
        return hours_minutes(int(self.value))

    def public(self) -> Any:
        """The figure for JSON: its value, or "fewer than 3"."""
        if self.hidden:
            return FEWER
        if self.value is None or self.unit is Unit.COUNT:
            return None if self.value is None else int(self.value)
        return round(self.value, 2)


def hours_minutes(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60:02d} min"


Cell = Figure | str


@dataclass(frozen=True)
class ReportTable:
    """A table of a report: ``key`` names its CSV (``volume-by-day``); the first column
    labels the rows. ``chart`` asks for a picture of the first figure column (``bars`` for
    categories, ``days`` for a trend), drawn as SVG next to the table; ``text`` is the
    picture's words for those who do not see it."""

    key: str
    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    chart: str | None = None
    text: str = ""


@dataclass(frozen=True)
class Headline:
    label: str
    figure: Figure
    previous: Figure | None = None


@dataclass(frozen=True)
class ReportSection:
    """One section of the Reports page: headline figures (with the previous period's) and
    tables. A plugin's sections come from ``spoc_report_sections``."""

    key: str
    title: str
    headlines: Sequence[Headline] = ()
    tables: Sequence[ReportTable] = ()
    note: str = ""
    plugin: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ReportPeriod:
    """The days reported on, in the organisation's time zone, both ends included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> ReportPeriod:
        """The period of the same length just before this one."""
        length = timedelta(days=self.days)
        return ReportPeriod(self.start - length, self.end - length)
