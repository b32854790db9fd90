"""The core's metrics, each read from the fact tables with indexed queries (docs/reports.md
defines every one). Every figure carries how many requests it is made from, so the surfaces
can hide the small ones alike."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, case, false, func, select, true
from sqlalchemy.orm import Session

from spoc.core.domain.models import EscalationFact, RequestFact, Team
from spoc.core.domain.reports.facts import CHANNELS
from spoc.core.domain.reports.filters import ReportFilter, in_days
from spoc.core.kernel.reports import Cell, Figure, Headline, ReportSection, ReportTable, Unit
from spoc.core.kernel.types import Priority

F = RequestFact
E = EscalationFact
AGES = (
    ("under 1 day", timedelta(0), timedelta(days=1)),
    ("1 to 3 days", timedelta(days=1), timedelta(days=3)),
    ("3 to 7 days", timedelta(days=3), timedelta(days=7)),
    ("7 to 30 days", timedelta(days=7), timedelta(days=30)),
    ("30 days or more", timedelta(days=30), None),
)


class Clocked(NamedTuple):
    priority: str
    seconds: int | None
    target: int | None
    breached: bool


def rank_of(ordered: Sequence[int], p: int) -> Figure:
    """The nearest-rank ``p``-th percentile of values already in ascending order."""
    if not ordered:
        return Figure(None, 0, Unit.SECONDS)
    return Figure(
        ordered[max(1, math.ceil(p * len(ordered) / 100)) - 1], len(ordered), Unit.SECONDS
    )


def nearest_rank(rows: Sequence[Clocked], p: int) -> Figure:
    """The nearest-rank ``p``-th percentile of the measured rows' seconds: the smallest value
    with at least p% of the values at or below it (the median is p=50)."""
    values = sorted(r.seconds for r in rows if r.seconds is not None)
    if not values:
        return Figure(None, 0, Unit.SECONDS)
    rank = max(1, math.ceil(p * len(values) / 100))
    return Figure(values[rank - 1], len(values), Unit.SECONDS)


NOTHING = Figure(None, 0, Unit.SECONDS)


@dataclass
class ClockSummary:
    """A cohort's clock figures: counts per priority, the median and 90th percentile, and
    each priority's median."""

    median: Figure = NOTHING
    p90: Figure = NOTHING
    medians: dict[str, Figure] = field(default_factory=dict)
    counts: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # met, targeted, n
    breaches: int = 0

    def add(self, priority: str, n: int, met: int, targeted: int, late: int) -> None:
        self.counts[priority] = (met, targeted, n)
        self.breaches += late

    def within(self, priority: str | None = None) -> Figure:
        """The share of measured clocks within their target (of one priority, or all)."""
        chosen = [c for p, c in self.counts.items() if priority in (None, p)]
        met, targeted = sum(c[0] for c in chosen), sum(c[1] for c in chosen)
        return Figure(100 * met / targeted if targeted else None, targeted, Unit.PERCENT)


class Escalated(NamedTuple):
    level: int
    team_id: int | None
    seconds: int | None  # opening to hand-back, business time
    late: bool  # its answer clock breached
    handed_back: bool


def ola_met(rows: Sequence[Escalated]) -> Figure:
    """Of the escalations handed back or breached, the share handed back without a breach."""
    ended = [r for r in rows if r.handed_back or r.late]
    return Figure(
        100 * sum(1 for r in ended if not r.late) / len(ended) if ended else None,
        len(ended),
        Unit.PERCENT,
    )


def _level_then_team(group: tuple[tuple[int, int | None], object]) -> tuple[int, int]:
    (level, team_id), _ = group
    return level, team_id or 0


def handed(rows: Sequence[Escalated]) -> list[Clocked]:
    return [Clocked("", r.seconds, None, r.late) for r in rows if r.seconds is not None]


class Metrics:
    """The metrics over one session and one filter."""

    def __init__(self, session: Session, chosen: ReportFilter, now: datetime) -> None:
        self.session = session
        self.filter = chosen
        self.now = now

    # --- building blocks -------------------------------------------------------------

    def filed(self, chosen: ReportFilter | None = None) -> list[ColumnElement[bool]]:
        chosen = chosen or self.filter
        return [in_days(F.created_day, chosen.period), *chosen.narrowing()]

    def resolved(self, chosen: ReportFilter | None = None) -> list[ColumnElement[bool]]:
        chosen = chosen or self.filter
        return [in_days(F.resolved_day, chosen.period), *chosen.narrowing()]

    def count(self, *conditions: ColumnElement[bool]) -> int:
        return int(self.session.scalar(select(func.count()).select_from(F).where(*conditions)) or 0)

    def percentile(self, column: Any, conditions: Sequence[ColumnElement[bool]], p: int) -> Figure:
        """The nearest-rank ``p``-th percentile: the smallest value with at least p% of the
        values at or below it (the median is p=50)."""
        where = [*conditions, column.is_not(None)]
        n = self.count(*where)
        if n == 0:
            return Figure(None, 0, Unit.SECONDS)
        rank = max(1, math.ceil(p * n / 100))
        value = self.session.scalar(
            select(column).where(*where).order_by(column).offset(rank - 1).limit(1)
        )
        return Figure(value, n, Unit.SECONDS)

    def share(self, part: int, whole: int) -> Figure:
        return Figure(100 * part / whole if whole else None, whole, Unit.PERCENT)

    def within(
        self, seconds: Any, target: Any, conditions: Sequence[ColumnElement[bool]]
    ) -> Figure:
        measured = [*conditions, seconds.is_not(None), target.is_not(None)]
        return self.share(self.count(*measured, seconds <= target), self.count(*measured))

    # --- volume ----------------------------------------------------------------------

    def volume(self) -> ReportSection:
        previous = self.filter.previous()
        open_now = [F.is_open == true(), *self.filter.narrowing()]
        new_by_day = self._by_day(F.created_day, self.filed())
        resolved_by_day = self._by_day(F.resolved_day, self.resolved())
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
        # One read of the open requests' ages (the open index), bucketed by the database.
        bucket = case(
            *(
                (F.created_at > self.now - old, n)
                for n, (_, _, old) in enumerate(AGES)
                if old is not None
            ),
            else_=len(AGES) - 1,
        )
        aged = select(bucket, func.count()).where(*open_now).group_by(bucket)
        counted: dict[int, int] = {int(n): int(c) for n, c in self.session.execute(aged)}
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
                    Figure.count(self.count(*self.filed(previous))),
                ),
                Headline(
                    "Resolved",
                    Figure.count(resolved),
                    Figure.count(self.count(*self.resolved(previous))),
                ),
                Headline("Backlog now (open requests)", Figure.count(self.count(*open_now))),
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

    def _by_day(self, column: Any, conditions: Sequence[ColumnElement[bool]]) -> dict[date, int]:
        rows = self.session.execute(
            select(column, func.count()).where(*conditions).group_by(column)
        )
        return {day: int(n) for day, n in rows}

    # --- response and resolution times --------------------------------------------------

    def clock_summary(
        self, seconds: Any, target: Any, breached: Any, conditions: Sequence[ColumnElement[bool]]
    ) -> ClockSummary:
        """A cohort's clock figures in two queries, both computed by the database: counts per
        priority (measured, within target, breached), and the nearest-rank median and 90th
        percentile overall and each priority's median, picked by window functions."""
        summary = ClockSummary()
        measured = and_(seconds.is_not(None), target.is_not(None))
        counts = select(
            F.priority,
            func.count(seconds),
            func.coalesce(func.sum(case((and_(measured, seconds <= target), 1), else_=0)), 0),
            func.coalesce(func.sum(case((measured, 1), else_=0)), 0),
            func.coalesce(func.sum(case((breached == true(), 1), else_=0)), 0),
        ).where(*conditions)
        for priority, n, met, targeted, late in self.session.execute(counts.group_by(F.priority)):
            summary.add(str(priority), int(n), int(met), int(targeted), int(late))
        if self.session.get_bind().dialect.name == "postgresql":
            return self._percentiles_disc(summary, seconds, conditions)
        # SQLite: the sorted values straight from the covering index (no ORM rows), the
        # nearest ranks picked here; its window functions are slower than this read.
        values: dict[str, list[int]] = {}
        everything: list[int] = []
        query = select(F.priority, seconds).where(*conditions, seconds.is_not(None))
        for priority, value in self.session.connection().execute(query.order_by(seconds)):
            everything.append(value)
            values.setdefault(str(priority), []).append(value)
        summary.median, summary.p90 = rank_of(everything, 50), rank_of(everything, 90)
        summary.medians = {priority: rank_of(found, 50) for priority, found in values.items()}
        return summary

    def _percentiles_disc(
        self, summary: ClockSummary, seconds: Any, conditions: Sequence[ColumnElement[bool]]
    ) -> ClockSummary:
        """PostgreSQL's ``percentile_disc``: the smallest value whose cumulative share reaches
        p, which is the nearest rank; an ordered-set aggregate, cheaper than two windows."""
        where = [*conditions, seconds.is_not(None)]

        def disc(p: float) -> Any:
            return func.percentile_disc(p).within_group(seconds)

        n, median, p90 = self.session.execute(
            select(func.count(seconds), disc(0.5), disc(0.9)).where(*where)
        ).one()
        if n:
            summary.median = Figure(median, int(n), Unit.SECONDS)
            summary.p90 = Figure(p90, int(n), Unit.SECONDS)
        by = select(F.priority, func.count(seconds), disc(0.5)).where(*where).group_by(F.priority)
        for priority, count, value in self.session.execute(by):
            summary.medians[str(priority)] = Figure(value, int(count), Unit.SECONDS)
        return summary

    def times(self) -> ReportSection:
        previous = self.filter.previous()
        first = (F.first_response_seconds, F.first_response_target, F.first_response_breached)
        done = (F.resolution_seconds, F.resolution_target, F.resolution_breached)
        cohorts = {
            "First response": (
                self.clock_summary(*first, self.filed()),
                self.clock_summary(*first, self.filed(previous)),
            ),
            "Resolution": (
                self.clock_summary(*done, self.resolved()),
                self.clock_summary(*done, self.resolved(previous)),
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

    def escalation_conditions(self, chosen: ReportFilter) -> list[ColumnElement[bool]]:
        where = [in_days(E.opened_day, chosen.period), *chosen.narrowing(team=False)]
        if chosen.team_id is not None:
            where.append(E.team_id == chosen.team_id)
        return where

    def escalation_rows(self, chosen: ReportFilter) -> list[Escalated]:
        """One read of the escalations opened in ``chosen``'s period (by the opened index)."""
        query = (
            select(E.level, E.team_id, E.open_seconds, E.ola_breached, E.handed_back_at)
            .join(F, F.request_id == E.request_id)
            .where(*self.escalation_conditions(chosen))
        )
        return [
            Escalated(level, team, seconds, bool(late), back is not None)
            for level, team, seconds, late, back in self.session.execute(query)
        ]

    def escalations(self) -> ReportSection:
        previous = self.filter.previous()
        filed, before = self.filed(), self.filed(previous)
        rate = self.share(self.count(*filed, F.escalations > 0), self.count(*filed))
        rate_before = self.share(self.count(*before, F.escalations > 0), self.count(*before))
        now, earlier = self.escalation_rows(self.filter), self.escalation_rows(previous)
        groups: dict[tuple[int, int | None], list[Escalated]] = {}
        for row in now:
            groups.setdefault((row.level, row.team_id), []).append(row)
        names = self._team_names([team for _, team in groups])
        rows: list[list[Cell]] = [
            [
                f"Level {level}",
                names.get(team_id, "no team"),
                Figure.count(len(found)),
                ola_met(found),
            ]
            for (level, team_id), found in sorted(
                groups.items(), key=lambda g: (g[0][0], g[0][1] or 0)
            )
        ]
        specialists = self.session.execute(
            select(F.priority, F.specialist_seconds, F.specialist_seconds, false()).where(
                *filed, F.specialist_seconds.is_not(None)
            )
        )
        return ReportSection(
            "escalations",
            "Escalations",
            (
                Headline("Escalation rate", rate, rate_before),
                Headline("Answered within OLA", ola_met(now), ola_met(earlier)),
                Headline(
                    "Time with specialists: median",
                    nearest_rank([Clocked(*r) for r in specialists], 50),
                ),
                Headline(
                    "Hand-back time: median",
                    nearest_rank(handed(now), 50),
                    nearest_rank(handed(earlier), 50),
                ),
                Headline("Hand-back time: 90th percentile", nearest_rank(handed(now), 90)),
                Headline("Answered late (OLA breaches)", Figure.count(sum(r.late for r in now))),
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

    def _team_names(self, ids: Sequence[int | None]) -> dict[int | None, str]:
        wanted = [i for i in set(ids) if i is not None]
        if not wanted:
            return {}
        rows = self.session.execute(select(Team.id, Team.name).where(Team.id.in_(wanted)))
        return {team_id: name for team_id, name in rows}

    # --- quality and channels ---------------------------------------------------------

    def quality(self) -> ReportSection:
        previous = self.filter.previous()

        def rates(conditions: list[ColumnElement[bool]]) -> tuple[Figure, Figure]:
            done, reopened, first = self.session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(case((F.reopens > 0, 1), else_=0)), 0),
                    func.coalesce(func.sum(case((F.first_contact == true(), 1), else_=0)), 0),
                ).where(*conditions, F.ever_resolved == true())
            ).one()
            return self.share(int(reopened), int(done)), self.share(int(first), int(done))

        (reopen, first), (reopen_before, first_before) = (
            rates(self.filed()),
            rates(self.filed(previous)),
        )
        filed = self.count(*self.filed())
        mix = dict(
            self.session.execute(
                select(F.channel, func.count()).where(*self.filed()).group_by(F.channel)
            ).all()
        )
        rows: list[list[Cell]] = [
            [c, Figure.count(int(mix.get(c, 0))), self.share(int(mix.get(c, 0)), filed)]
            for c in CHANNELS
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
