"""The core's metrics, each summed from the day roll-ups of a cohort (``cube.py``: stored for
clean days, folded from the facts for the others), so a report costs the same at any number
of requests (docs/reports.md defines every one). Every figure carries how many requests it is
made from, so the surfaces can hide the small ones alike."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select, true
from sqlalchemy.orm import Session

from spoc.core.domain.models import RequestFact, Team
from spoc.core.domain.reports.cube import ESCALATED, FILED, RESOLVED, Cube, DayRow, kth
from spoc.core.domain.reports.facts import CHANNELS
from spoc.core.domain.reports.filters import ReportFilter
from spoc.core.kernel.reports import Cell, Figure, Headline, ReportSection, ReportTable, Unit
from spoc.core.kernel.types import Priority

F = RequestFact
AGES = (
    ("under 1 day", timedelta(0), timedelta(days=1)),
    ("1 to 3 days", timedelta(days=1), timedelta(days=3)),
    ("3 to 7 days", timedelta(days=3), timedelta(days=7)),
    ("7 to 30 days", timedelta(days=7), timedelta(days=30)),
    ("30 days or more", timedelta(days=30), None),
)
NOTHING = Figure(None, 0, Unit.SECONDS)


def percentile(arrays: Sequence[Sequence[int]], p: int) -> Figure:
    """The nearest-rank ``p``-th percentile of the values of sorted arrays: the smallest value
    with at least p% of the values at or below it (the median is p=50)."""
    n = sum(len(a) for a in arrays)
    if not n:
        return NOTHING
    return Figure(kth(arrays, max(1, math.ceil(p * n / 100))), n, Unit.SECONDS)


def total(rows: Iterable[DayRow], count: Callable[[DayRow], int] = lambda r: r.n) -> int:
    return sum(count(r) for r in rows)


def share(part: int, whole: int) -> Figure:
    return Figure(100 * part / whole if whole else None, whole, Unit.PERCENT)


def within(rows: Sequence[DayRow]) -> Figure:
    """The share of measured clocks (a value and a target) within their target."""
    return share(total(rows, lambda r: r.met), total(rows, lambda r: r.targeted))


@dataclass
class ClockSummary:
    """A cohort's clock figures: the median and 90th percentile, and per priority the
    median and the rows (for the share within target); the breaches."""

    median: Figure = NOTHING
    p90: Figure = NOTHING
    medians: dict[str, Figure] = field(default_factory=dict)
    by_priority: dict[str, list[DayRow]] = field(default_factory=dict)
    breaches: int = 0

    @classmethod
    def of(cls, rows: Sequence[DayRow]) -> ClockSummary:
        summary = cls(breaches=total(rows, lambda r: r.breached))
        for row in rows:
            summary.by_priority.setdefault(row.priority, []).append(row)
        summary.median = percentile([r.seconds for r in rows], 50)
        summary.p90 = percentile([r.seconds for r in rows], 90)
        summary.medians = {
            priority: percentile([r.seconds for r in found], 50)
            for priority, found in summary.by_priority.items()
        }
        return summary

    def within(self, priority: str | None = None) -> Figure:
        """The share of measured clocks within their target (of one priority, or all)."""
        chosen = [r for p, rows in self.by_priority.items() if priority in (None, p) for r in rows]
        return within(chosen)


def ola_met(rows: Sequence[DayRow]) -> Figure:
    """Of the escalations handed back or breached, the share handed back without a breach."""
    ended = total(rows, lambda r: r.ended_n)
    return Figure(
        100 * total(rows, lambda r: r.on_time_n) / ended if ended else None, ended, Unit.PERCENT
    )


class Metrics:
    """The metrics over one session and one filter (each cohort read once)."""

    def __init__(
        self, session: Session, chosen: ReportFilter, now: datetime, zone: ZoneInfo | None = None
    ) -> None:
        self.session = session
        self.filter = chosen
        self.now = now
        self.zone = zone or ZoneInfo("UTC")
        self.cube = Cube(session)
        self._read: dict[tuple[Any, ...], list[DayRow]] = {}

    # --- building blocks -------------------------------------------------------------

    def rows(
        self,
        cohort: str,
        chosen: ReportFilter | None = None,
        *,
        fine: bool = False,
        values: bool = True,
        types: tuple[str, ...] | None = None,
    ) -> list[DayRow]:
        """The cohort's day rows over ``chosen`` (the report's filter by default): summary
        rows unless ``fine`` (by type, plugin, channel and team too); see ``Cube.rows``."""
        chosen = chosen or self.filter
        key = (cohort, chosen, fine, values, types)
        if key not in self._read:
            self._read[key] = self.cube.rows(
                cohort, chosen.period, chosen, fine=fine, values=values, types=types
            )
        return self._read[key]

    def filed(self, chosen: ReportFilter | None = None) -> list[DayRow]:
        return self.rows(FILED, chosen)

    def resolved(self, chosen: ReportFilter | None = None) -> list[DayRow]:
        return self.rows(RESOLVED, chosen)

    def backlog(self) -> dict[int, int]:
        """Open requests now by age bucket (the index of ``AGES``): those filed in the last 31
        days from the open index, exactly; the older ones summed from the roll-ups."""
        boundary = (self.now - timedelta(days=30)).astimezone(self.zone).date()
        since = datetime.combine(boundary, time(), self.zone).astimezone(UTC)
        bucket = case(
            *(
                (F.created_at > self.now - old, n)
                for n, (_, _, old) in enumerate(AGES)
                if old is not None
            ),
            else_=len(AGES) - 1,
        )
        recent = (
            select(bucket, func.count())
            .where(F.is_open == true(), F.created_at >= since, *self.filter.narrowing())
            .group_by(bucket)
        )
        counted = {int(n): int(c) for n, c in self.session.execute(recent)}
        older = self.cube.open_before(boundary, self.filter)
        counted[len(AGES) - 1] = counted.get(len(AGES) - 1, 0) + older
        return counted

    # --- volume ----------------------------------------------------------------------

    def volume(self) -> ReportSection:
        previous = self.filter.previous()
        new_by_day = self._by_day(self.filed())
        resolved_by_day = self._by_day(self.resolved())
        days = [
            self.filter.period.start + timedelta(days=i) for i in range(self.filter.period.days)
        ]
        day_rows: list[list[Cell]] = [
            [
                d.isoformat(),
                Figure.count(new_by_day.get(d, 0)),
                Figure.count(resolved_by_day.get(d, 0)),
            ]
            for d in days
        ]
        weeks: dict[str, list[int]] = {}
        for d in days:
            week = f"{d.isocalendar().year}-W{d.isocalendar().week:02d}"
            totals = weeks.setdefault(week, [0, 0])
            totals[0] += new_by_day.get(d, 0)
            totals[1] += resolved_by_day.get(d, 0)
        counted = self.backlog()
        ages: list[list[Cell]] = [
            [label, Figure.count(int(counted.get(n, 0)))] for n, (label, _, _) in enumerate(AGES)
        ]
        new, resolved = sum(new_by_day.values()), sum(resolved_by_day.values())
        return ReportSection(
            "volume",
            "Volume",
            (
                Headline(
                    "New requests",
                    Figure.count(new),
                    Figure.count(total(self.filed(previous))),
                ),
                Headline(
                    "Resolved",
                    Figure.count(resolved),
                    Figure.count(total(self.resolved(previous))),
                ),
                Headline("Backlog now (open requests)", Figure.count(sum(counted.values()))),
            ),
            (
                ReportTable(
                    "volume-by-day",
                    "New and resolved by day",
                    ("Day", "New", "Resolved"),
                    day_rows,
                    chart="days",
                    text=f"{new:,} requests filed and {resolved:,} resolved over {len(days)} days.",
                ),
                ReportTable(
                    "volume-by-week",
                    "New and resolved by week",
                    ("Week", "New", "Resolved"),
                    [[w, Figure.count(a), Figure.count(b)] for w, (a, b) in weeks.items()],
                    chart="bars",
                    text="Requests filed each ISO week of the period.",
                ),
                ReportTable(
                    "backlog-by-age",
                    "Backlog by age",
                    ("Age", "Open requests"),
                    ages,
                    chart="bars",
                    text="Open requests by how long ago they were filed.",
                ),
            ),
        )

    @staticmethod
    def _by_day(rows: Sequence[DayRow]) -> dict[date, int]:
        found: dict[date, int] = {}
        for row in rows:
            found[row.day] = found.get(row.day, 0) + row.n
        return found

    # --- response and resolution times --------------------------------------------------

    def times(self) -> ReportSection:
        previous = self.filter.previous()
        cohorts = {
            "First response": (
                ClockSummary.of(self.filed()),
                ClockSummary.of(self.filed(previous)),
            ),
            "Resolution": (
                ClockSummary.of(self.resolved()),
                ClockSummary.of(self.resolved(previous)),
            ),
        }
        headlines = []
        for label, (now, before) in cohorts.items():
            headlines += [
                Headline(f"{label}: median", now.median, before.median),
                Headline(f"{label}: 90th percentile", now.p90),
                Headline(f"{label}: within target", now.within(), before.within()),
                Headline(f"{label}: breaches", Figure.count(now.breaches)),
            ]
        first_now, done_now = cohorts["First response"][0], cohorts["Resolution"][0]
        rows: list[list[Cell]] = [
            [
                priority.value,
                first_now.medians.get(priority.value, NOTHING),
                first_now.within(priority.value),
                done_now.medians.get(priority.value, NOTHING),
                done_now.within(priority.value),
            ]
            for priority in Priority
        ]
        return ReportSection(
            "times",
            "Response and resolution (business hours, paused time excluded)",
            headlines,
            (
                ReportTable(
                    "times-by-priority",
                    "By priority",
                    (
                        "Priority",
                        "First response median",
                        "Within target",
                        "Resolution median",
                        "Within target",
                    ),
                    rows,
                    text="Median business time to first response and to resolution, per priority.",
                ),
            ),
        )

    # --- escalations -------------------------------------------------------------------

    def escalations(self) -> ReportSection:
        previous = self.filter.previous()
        filed, before = self.filed(), self.filed(previous)
        rate = share(total(filed, lambda r: r.escalated_n), total(filed))
        rate_before = share(total(before, lambda r: r.escalated_n), total(before))
        now, earlier = self.rows(ESCALATED), self.rows(ESCALATED, previous)
        groups: dict[tuple[int, int], list[DayRow]] = {}
        for row in now:
            groups.setdefault((row.level, row.team_id), []).append(row)
        names = self._team_names([team for _, team in groups])
        rows: list[list[Cell]] = [
            [
                f"Level {level}",
                names.get(team_id, "no team"),
                Figure.count(total(found)),
                ola_met(found),
            ]
            for (level, team_id), found in sorted(groups.items())
        ]
        return ReportSection(
            "escalations",
            "Escalations",
            (
                Headline("Escalation rate", rate, rate_before),
                Headline("Answered within OLA", ola_met(now), ola_met(earlier)),
                Headline("Time with specialists: median", percentile([r.extra for r in filed], 50)),
                Headline(
                    "Hand-back time: median",
                    percentile([r.seconds for r in now], 50),
                    percentile([r.seconds for r in earlier], 50),
                ),
                Headline(
                    "Hand-back time: 90th percentile", percentile([r.seconds for r in now], 90)
                ),
                Headline(
                    "Answered late (OLA breaches)", Figure.count(total(now, lambda r: r.breached))
                ),
            ),
            (
                ReportTable(
                    "escalations-by-level-team",
                    "By level and team",
                    ("Level", "Team", "Escalations", "Within OLA"),
                    rows,
                    text="Escalations opened in the period, by level and the team escalated to.",
                ),
            ),
            note="Narrowed by team, escalation figures count the team escalated to.",
        )

    def _team_names(self, ids: Sequence[int]) -> dict[int, str]:
        wanted = [i for i in set(ids) if i is not None]
        if not wanted:
            return {}
        rows = self.session.execute(select(Team.id, Team.name).where(Team.id.in_(wanted)))
        return {team_id: name for team_id, name in rows}

    # --- quality and channels ---------------------------------------------------------

    def quality(self) -> ReportSection:
        previous = self.filter.previous()

        def rates(rows: Sequence[DayRow]) -> tuple[Figure, Figure]:
            done = total(rows, lambda r: r.resolved_n)
            return (
                share(total(rows, lambda r: r.reopened_n), done),
                share(total(rows, lambda r: r.first_contact_n), done),
            )

        (reopen, first), (reopen_before, first_before) = (
            rates(self.filed()),
            rates(self.filed(previous)),
        )
        filed = total(self.filed())
        mix = self.cube.filed_by_channel(self.filter.period, self.filter)
        rows: list[list[Cell]] = [
            [c, Figure.count(mix.get(c, 0)), share(mix.get(c, 0), filed)] for c in CHANNELS
        ]
        return ReportSection(
            "quality",
            "Reopens, first contact and channels",
            (
                Headline("Reopen rate", reopen, reopen_before),
                Headline("First-contact resolution", first, first_before),
            ),
            (
                ReportTable(
                    "channel-mix",
                    "Channel mix",
                    ("Channel", "Requests", "Share"),
                    rows,
                    chart="bars",
                    text="Requests filed in the period by the channel they came through.",
                ),
            ),
        )
