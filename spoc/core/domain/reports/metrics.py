"""The core's metrics, each read from the fact tables with indexed queries (docs/reports.md
defines every one). Every figure carries how many requests it is made from, so the surfaces
can hide the small ones alike."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
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
        open_now = [F.is_open.is_(True), *self.filter.narrowing()]
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
        ages: list[list[Cell]] = []
        for label, young, old in AGES:
            conditions = [*open_now, F.created_at <= self.now - young]
            if old is not None:
                conditions.append(F.created_at > self.now - old)
            ages.append([label, Figure.count(self.count(*conditions))])
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

    def times(self) -> ReportSection:
        previous = self.filter.previous()
        filed, resolved = self.filed(), self.resolved()
        headlines = []
        for label, seconds, target, breached, cohort, before in (
            (
                "First response",
                F.first_response_seconds,
                F.first_response_target,
                F.first_response_breached,
                filed,
                self.filed(previous),
            ),
            (
                "Resolution",
                F.resolution_seconds,
                F.resolution_target,
                F.resolution_breached,
                resolved,
                self.resolved(previous),
            ),
        ):
            headlines += [
                Headline(
                    f"{label}: median",
                    self.percentile(seconds, cohort, 50),
                    self.percentile(seconds, before, 50),
                ),
                Headline(f"{label}: 90th percentile", self.percentile(seconds, cohort, 90)),
                Headline(
                    f"{label}: within target",
                    self.within(seconds, target, cohort),
                    self.within(seconds, target, before),
                ),
                Headline(
                    f"{label}: breaches", Figure.count(self.count(*cohort, breached.is_(True)))
                ),
            ]
        rows: list[list[Cell]] = []
        for priority in Priority:
            by = [F.priority == priority.value]
            rows.append(
                [
                    priority.value,
                    self.percentile(F.first_response_seconds, [*filed, *by], 50),
                    self.within(F.first_response_seconds, F.first_response_target, [*filed, *by]),
                    self.percentile(F.resolution_seconds, [*resolved, *by], 50),
                    self.within(F.resolution_seconds, F.resolution_target, [*resolved, *by]),
                ]
            )
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

    def _escalations(self, *conditions: ColumnElement[bool]) -> int:
        query = select(func.count()).select_from(E).join(F, F.request_id == E.request_id)
        return int(self.session.scalar(query.where(*conditions)) or 0)

    def ola_met(self, chosen: ReportFilter) -> Figure:
        base = self.escalation_conditions(chosen)
        ended = or_(E.handed_back_at.is_not(None), E.ola_breached.is_(True))
        met = and_(E.handed_back_at.is_not(None), E.ola_breached.is_(False))
        return self.share(self._escalations(*base, met), self._escalations(*base, ended))

    def _escalation_percentile(self, chosen: ReportFilter, p: int) -> Figure:
        where = [*self.escalation_conditions(chosen), E.open_seconds.is_not(None)]
        n = self._escalations(*where)
        if n == 0:
            return Figure(None, 0, Unit.SECONDS)
        rank = max(1, math.ceil(p * n / 100))
        value = self.session.scalar(
            select(E.open_seconds)
            .join(F, F.request_id == E.request_id)
            .where(*where)
            .order_by(E.open_seconds)
            .offset(rank - 1)
            .limit(1)
        )
        return Figure(value, n, Unit.SECONDS)

    def escalations(self) -> ReportSection:
        previous = self.filter.previous()
        filed, before = self.filed(), self.filed(previous)
        rate = self.share(self.count(*filed, F.escalations > 0), self.count(*filed))
        rate_before = self.share(self.count(*before, F.escalations > 0), self.count(*before))
        where = self.escalation_conditions(self.filter)
        groups = self.session.execute(
            select(E.level, E.team_id, func.count())
            .join(F, F.request_id == E.request_id)
            .where(*where)
            .group_by(E.level, E.team_id)
            .order_by(E.level, E.team_id)
        ).all()
        names = self._team_names([team for _, team, _ in groups])
        rows: list[list[Cell]] = []
        for level, team_id, n in groups:
            narrowed = ReportFilter(**{**self.filter.__dict__, "team_id": team_id})
            at_level = [*self.escalation_conditions(narrowed), E.level == level]
            ended = self._escalations(
                *at_level, or_(E.handed_back_at.is_not(None), E.ola_breached.is_(True))
            )
            met = self._escalations(
                *at_level, E.handed_back_at.is_not(None), E.ola_breached.is_(False)
            )
            rows.append(
                [
                    f"Level {level}",
                    names.get(team_id, "no team"),
                    Figure.count(int(n)),
                    self.share(met, ended),
                ]
            )
        return ReportSection(
            "escalations",
            "Escalations",
            (
                Headline("Escalation rate", rate, rate_before),
                Headline("Answered within OLA", self.ola_met(self.filter), self.ola_met(previous)),
                Headline(
                    "Time with specialists: median",
                    self.percentile(F.specialist_seconds, filed, 50),
                ),
                Headline(
                    "Hand-back time: median",
                    self._escalation_percentile(self.filter, 50),
                    self._escalation_percentile(previous, 50),
                ),
                Headline(
                    "Hand-back time: 90th percentile", self._escalation_percentile(self.filter, 90)
                ),
                Headline(
                    "Answered late (OLA breaches)",
                    Figure.count(self._escalations(*where, E.ola_breached.is_(True))),
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
            done = self.count(*conditions, F.ever_resolved.is_(True))
            return (
                self.share(self.count(*conditions, F.reopens > 0), done),
                self.share(self.count(*conditions, F.first_contact.is_(True)), done),
            )

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
