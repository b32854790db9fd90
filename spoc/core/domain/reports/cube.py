"""Daily roll-ups of the report facts, and the reader that answers a report from them.

A report over a month at a million requests a year covers ~80,000 requests; summing their
facts on every view costs seconds. So the worker keeps, for each day, one row per cohort
(requests filed, resolved or rated that day; escalations opened that day) and combination of
the dimensions reports narrow by (type, plugin, channel, priority, team), with the cohort's
counts and its clock figures as a sorted packed array — so medians and percentiles stay
exact (nearest rank), picked by a binary search over the arrays (:func:`kth`) instead of a
sort of every value.

Every write that changes a request's facts appends the days they belong to (before and
after) to ``report_dirty_days``; the worker rebuilds those days (:func:`roll_up`) and takes
away exactly the log rows it read, so a change committed meanwhile stays logged. A report
reads clean days from the roll-ups and the logged days straight from the facts, folded by the
same code as the roll-ups, so the figures are the same either way (a property test checks).
Reports narrowed to one SPOC or one subject read the facts themselves, by their indexes.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import chain, repeat
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, text, true
from sqlalchemy.orm import Session

from spoc.core.domain.models import EscalationFact, ReportDay, ReportDirtyDay, RequestFact
from spoc.core.domain.reports.filters import ReportFilter, in_days
from spoc.core.kernel.reports import ReportPeriod
from spoc.core.storage.bulk import among, insert_rows
from spoc.core.storage.db import Database

F, E, D = RequestFact, EscalationFact, ReportDay
FILED, RESOLVED, RATED, ESCALATED = "filed", "resolved", "rated", "escalated"
COHORTS = (FILED, RESOLVED, RATED, ESCALATED)
COUNTS = (
    "n", "open_n", "escalated_n", "resolved_n", "reopened_n", "first_contact_n", "met",
    "targeted", "breached", "ended_n", "on_time_n", "rated_1", "rated_2", "rated_3", "rated_4",
    "rated_5",
)  # fmt: skip
STEP = 32
"""Every how many values :func:`kth` samples each array for its starting bracket."""
DAYS_A_TRANSACTION = 7
LOCK_SPACE = 0x5E0C
"""PostgreSQL advisory-lock class of a day's rebuild (with the day's ordinal): two workers
never rebuild the same day at once."""


def pack(values: Iterable[int]) -> bytes:
    """Values sorted, as little-endian 64-bit integers."""
    packed = array("q", sorted(values))
    if sys.byteorder == "big":  # pragma: no cover - the stored form is little-endian
        packed.byteswap()
    return packed.tobytes()


def unpack(blob: bytes) -> array[int]:
    values = array("q")
    values.frombytes(blob)
    if sys.byteorder == "big":  # pragma: no cover
        values.byteswap()
    return values


def kth(arrays: Sequence[Sequence[int]], k: int) -> int:
    """The ``k``-th smallest (1-based) of the values of several sorted arrays: a binary search
    over the values, counting with ``bisect`` in each array — no merge, no sort. The search
    starts from a bracket read off every ``STEP``-th value of each array (each array's count
    there is off by fewer than ``STEP``), so it takes a few steps, not one per bit."""
    chosen = [a for a in arrays if a]
    sample = sorted(chain.from_iterable(a[STEP - 1 :: STEP] for a in chosen))
    # At most len(chosen) fewer sample values than k / STEP lie below the k-th value; at
    # least k / STEP lie at or below it.
    below, above = k // STEP - len(chosen), -(-k // STEP) - 1
    lo = sample[below] if 0 <= below < len(sample) else min(a[0] for a in chosen)
    hi = sample[above] if 0 <= above < len(sample) else max(a[-1] for a in chosen)
    while lo < hi:
        mid = (lo + hi) // 2
        if sum(map(bisect_right, chosen, repeat(mid))) >= k:
            hi = mid
        else:
            lo = mid + 1
    return lo


@dataclass(slots=True)
class DayRow:
    """One roll-up row (stored, or folded from the facts of a day not yet rolled up)."""

    day: date
    cohort: str
    type_key: str
    plugin: str
    private: bool
    channel: str
    priority: str
    team_id: int = 0
    level: int = 0
    trigger: str = ""
    n: int = 0
    open_n: int = 0
    escalated_n: int = 0
    resolved_n: int = 0
    reopened_n: int = 0
    first_contact_n: int = 0
    met: int = 0
    targeted: int = 0
    breached: int = 0
    ended_n: int = 0
    on_time_n: int = 0
    rated_1: int = 0
    rated_2: int = 0
    rated_3: int = 0
    rated_4: int = 0
    rated_5: int = 0
    seconds: Sequence[int] = field(default_factory=list)
    extra: Sequence[int] = field(default_factory=list)

    def stored(self) -> dict[str, Any]:
        keys = ("day", "cohort", "type_key", "plugin", "private", "channel", "priority")
        row = {key: getattr(self, key) for key in (*keys, "team_id", "level", "trigger")}
        row |= {name: getattr(self, name) for name in COUNTS}
        return row | {"seconds": pack(self.seconds), "extra": pack(self.extra)}


def trigger_kind(trigger: str) -> str:
    """An escalation's trigger as reports group it: the answer-clock triggers name their
    escalation (``sla:ola:17``), which is one group, ``sla:ola``."""
    return "sla:ola" if trigger.startswith("sla:ola:") else trigger[:100]


STORED = tuple(
    D.__table__.c[name]
    for name in (
        "day", "cohort", "type_key", "plugin", "private", "channel", "priority", "team_id",
        "level", "trigger", *COUNTS, "seconds", "extra",
    )
)  # fmt: skip
"""The stored columns in :class:`DayRow`'s order."""

# --- folding facts into rows ------------------------------------------------------------

FILED_COLUMNS = (
    F.created_day, F.type_key, F.plugin, F.private, F.channel, F.priority, F.owner_team_id,
    F.is_open, F.escalations, F.ever_resolved, F.reopens, F.first_contact,
    F.first_response_seconds, F.first_response_target, F.first_response_breached,
    F.specialist_seconds,
)  # fmt: skip
RESOLVED_COLUMNS = (
    F.resolved_day, F.type_key, F.plugin, F.private, F.channel, F.priority, F.owner_team_id,
    F.resolution_seconds, F.resolution_target, F.resolution_breached,
)  # fmt: skip
RATED_COLUMNS = (
    F.rated_day, F.type_key, F.plugin, F.private, F.channel, F.priority, F.owner_team_id,
    F.rating,
)  # fmt: skip
ESCALATED_COLUMNS = (
    E.opened_day, F.type_key, F.plugin, F.private, F.channel, F.priority, E.team_id, E.level,
    E.trigger, E.open_seconds, E.ola_breached, E.handed_back_at,
)  # fmt: skip


ALL = "*"
"""The type, plugin and channel of a summary row (no request type is called that)."""


def summary_key(cohort: str, key: tuple[Any, ...]) -> tuple[Any, ...]:
    """A fine row's key at the summary grain: the day and the priority (for escalations the
    level and the team escalated to instead)."""
    day, _, _, _, _, priority, team, *more = key
    if cohort == ESCALATED:
        return (day, ALL, ALL, False, ALL, ALL, team, more[0], ALL)
    return (day, ALL, ALL, False, ALL, priority, -1)


def summarises(cohort: str, chosen: ReportFilter | None) -> bool:
    """Whether the summary rows can answer ``chosen``: it narrows by nothing they lost."""
    if chosen is None:
        return True
    lost: list[object] = [chosen.type_key, chosen.plugin, chosen.channel]
    lost.append(chosen.priority if cohort == ESCALATED else chosen.team_id)
    return all(value is None for value in lost)


class Folding:
    """Rows of one cohort, grouped by their dimensions as facts are added; at the summary
    grain (``summary=True``) by day and priority only."""

    def __init__(self, cohort: str, summary: bool = False) -> None:
        self.cohort = cohort
        self.summary = summary
        self.rows: dict[tuple[Any, ...], DayRow] = {}

    def row(self, key: tuple[Any, ...]) -> DayRow:
        if self.summary:
            key = summary_key(self.cohort, key)
        found = self.rows.get(key)
        if found is None:
            day, type_key, plugin, private, channel, priority, team, *more = key
            level, trigger = more or (0, "")
            found = self.rows[key] = DayRow(
                day, self.cohort, type_key, plugin, bool(private), channel, priority, team or 0,
                level, trigger, seconds=[], extra=[],
            )  # fmt: skip
        return found

    def clocked(self, row: DayRow, seconds: int | None, target: int | None, late: bool) -> None:
        if seconds is not None:
            row.seconds.append(seconds)  # type: ignore[attr-defined]
            if target is not None:
                row.targeted += 1
                row.met += seconds <= target
        row.breached += bool(late)

    def add(self, fact: Sequence[Any]) -> None:
        if self.cohort == FILED:
            (*dims, is_open, escalations, resolved, reopens, first_contact, fr, fr_target,
             fr_late, specialist) = fact  # fmt: skip
            row = self.row(tuple(dims))
            row.n += 1
            row.open_n += bool(is_open)
            row.escalated_n += escalations > 0
            if resolved:
                row.resolved_n += 1
                row.reopened_n += reopens > 0
                row.first_contact_n += bool(first_contact)
            self.clocked(row, fr, fr_target, fr_late)
            if specialist is not None:
                row.extra.append(specialist)  # type: ignore[attr-defined]
        elif self.cohort == RESOLVED:
            *dims, seconds, target, late = fact
            row = self.row(tuple(dims))
            row.n += 1
            self.clocked(row, seconds, target, late)
        elif self.cohort == RATED:
            *dims, rating = fact
            row = self.row(tuple(dims))
            row.n += 1
            setattr(row, f"rated_{rating}", getattr(row, f"rated_{rating}") + 1)
        else:
            *dims, level, trigger, seconds, late, handed_back_at = fact
            row = self.row((*dims, level, trigger_kind(trigger)))
            row.n += 1
            row.breached += bool(late)
            if handed_back_at is not None or late:
                row.ended_n += 1
                row.on_time_n += not late
            if seconds is not None:
                row.seconds.append(seconds)  # type: ignore[attr-defined]

    def done(self) -> list[DayRow]:
        for row in self.rows.values():
            row.seconds = sorted(row.seconds)
            row.extra = sorted(row.extra)
        return list(self.rows.values())


def facts_query(
    cohort: str,
    days: ColumnElement[bool] | None,
    chosen: ReportFilter | None,
    types: Sequence[str] | None = None,
) -> Any:
    """The facts a cohort's rows are folded from, on the days ``days`` selects (a condition
    on the cohort's day column), narrowed by ``chosen`` and to ``types``."""
    narrowing = chosen.narrowing(team=cohort != ESCALATED) if chosen else []
    if types is not None:
        narrowing.append(F.type_key.in_(types))
    if cohort == ESCALATED:
        query = select(*ESCALATED_COLUMNS).join(F, F.request_id == E.request_id)
        if chosen is not None and chosen.team_id is not None:
            narrowing.append(E.team_id == chosen.team_id)
    else:
        columns = {FILED: FILED_COLUMNS, RESOLVED: RESOLVED_COLUMNS, RATED: RATED_COLUMNS}
        query = select(*columns[cohort])
        if cohort == RATED:
            narrowing.append(F.rating.is_not(None))
    return query.where(*([days] if days is not None else []), *narrowing)


def day_column(cohort: str) -> Any:
    return {FILED: F.created_day, RESOLVED: F.resolved_day, RATED: F.rated_day}.get(
        cohort, E.opened_day
    )


def fold_days(
    session: Session,
    cohort: str,
    condition: ColumnElement[bool],
    chosen: ReportFilter | None,
    grains: Sequence[bool] = (False,),
    types: Sequence[str] | None = None,
) -> list[DayRow]:
    """The cohort's rows folded from the facts, at each grain of ``grains`` (fine: False,
    summary: True) from one read."""
    foldings = [Folding(cohort, summary) for summary in grains]
    for fact in session.connection().execute(facts_query(cohort, condition, chosen, types)):
        for folding in foldings:
            folding.add(fact)
    return [row for folding in foldings for row in folding.done()]


# --- the reader -------------------------------------------------------------------------


class Cube:
    """The rows of a cohort over a period, as one report reads them (one session)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._dirty: set[date] | None = None

    def dirty(self) -> set[date]:
        """The days whose roll-ups are out of date (read once per report)."""
        if self._dirty is None:
            self._dirty = set(self.session.scalars(select(ReportDirtyDay.day).distinct()))
        return self._dirty

    def rows(
        self,
        cohort: str,
        period: ReportPeriod,
        chosen: ReportFilter,
        *,
        fine: bool = False,
        values: bool = True,
        types: Sequence[str] | None = None,
    ) -> list[DayRow]:
        """The cohort's rows of the days of ``period``, narrowed by ``chosen`` (and to
        ``types``, which need fine rows): summary rows (by day and priority) where they
        answer, fine ones when ``fine`` or the filter needs them; without the packed values
        unless ``values``."""
        column = day_column(cohort)
        summary = not fine and types is None and summarises(cohort, chosen)
        grain = (summary,)
        if chosen.agent_id is not None or chosen.subject_id is not None:
            # Not a roll-up dimension: those requests are few, read through their indexes.
            return fold_days(self.session, cohort, in_days(column, period), chosen, grain, types)
        stale = sorted(d for d in self.dirty() if period.start <= d <= period.end)
        stored = self.stored(cohort, period, chosen, set(stale), summary, values, types)
        if stale:
            stored += fold_days(self.session, cohort, column.in_(stale), chosen, grain, types)
        return stored

    def filed_by_channel(self, period: ReportPeriod, chosen: ReportFilter) -> dict[str, int]:
        """Requests filed in ``period`` per channel: summed by the database over the stored
        fine rows, and from the facts for the days still logged."""
        if chosen.agent_id is not None or chosen.subject_id is not None:
            rows = self.rows(FILED, period, chosen, fine=True, values=False)
            stored: list[tuple[str, int]] = []
        else:
            stale = sorted(d for d in self.dirty() if period.start <= d <= period.end)
            where = self.dimensions(FILED, period, chosen, summary=False)
            if stale:
                where.append(D.day.not_in(stale))
            query = select(D.channel, func.sum(D.n)).where(*where).group_by(D.channel)
            stored = [(channel, int(n)) for channel, n in self.session.execute(query)]
            condition = F.created_day.in_(stale)
            rows = fold_days(self.session, FILED, condition, chosen) if stale else []
        counted: dict[str, int] = {}
        for channel, n in [*stored, *((row.channel, row.n) for row in rows)]:
            counted[channel] = counted.get(channel, 0) + n
        return counted

    def open_before(self, boundary: date, chosen: ReportFilter) -> int:
        """How many requests filed before ``boundary`` are open now."""
        period = ReportPeriod(date(1970, 1, 1), boundary - timedelta(days=1))
        open_facts = [F.is_open == true(), *chosen.narrowing()]
        if chosen.agent_id is not None or chosen.subject_id is not None:
            where = [*open_facts, in_days(F.created_day, period)]
            return int(self.session.scalar(select(func.count()).where(*where)) or 0)
        stale = sorted(d for d in self.dirty() if d < boundary)
        summary = summarises(FILED, chosen)
        stored = select(func.coalesce(func.sum(D.open_n), 0)).where(
            *self.dimensions(FILED, period, chosen, summary), D.open_n > 0
        )
        if stale:
            stored = stored.where(D.day.not_in(stale))
        found = int(self.session.scalar(stored) or 0)
        if stale:
            live = select(func.count()).where(*open_facts, F.created_day.in_(stale))
            found += int(self.session.scalar(live) or 0)
        return found

    @staticmethod
    def dimensions(
        cohort: str, period: ReportPeriod, chosen: ReportFilter, summary: bool
    ) -> list[ColumnElement[bool]]:
        where = [D.cohort == cohort, in_days(D.day, period)]
        where.append(D.type_key == ALL if summary else D.type_key != ALL)
        for column, value in (
            (D.type_key, chosen.type_key),
            (D.plugin, chosen.plugin),
            (D.channel, chosen.channel),
            (D.priority, chosen.priority),
            (D.team_id, chosen.team_id),
        ):
            if value is not None:
                where.append(column == value)
        return where

    def stored(
        self,
        cohort: str,
        period: ReportPeriod,
        chosen: ReportFilter,
        skip: set[date],
        summary: bool,
        values: bool,
        types: Sequence[str] | None,
    ) -> list[DayRow]:
        where = self.dimensions(cohort, period, chosen, summary)
        if types is not None:
            where.append(D.type_key.in_(types))
        found = []
        if not values:
            for row in self.session.connection().execute(select(*STORED[:-2]).where(*where)):
                if row[0] not in skip:
                    found.append(DayRow(*row))
            return found
        for *counts, seconds, extra in self.session.connection().execute(
            select(*STORED).where(*where)
        ):
            if counts[0] not in skip:
                found.append(DayRow(*(*counts, unpack(seconds), unpack(extra))))
        return found


# --- keeping the roll-ups ---------------------------------------------------------------


def roll_up(db: Database, max_days: int | None = 60) -> int:
    """Rebuild the roll-ups of the days logged out of date, oldest first, a few days a
    transaction; at most ``max_days`` (``None``: all). How many days were rebuilt."""
    done = 0
    while max_days is None or done < max_days:
        take = DAYS_A_TRANSACTION if max_days is None else min(DAYS_A_TRANSACTION, max_days - done)
        with db.transaction() as session:
            days = list(
                session.scalars(
                    select(ReportDirtyDay.day).distinct().order_by(ReportDirtyDay.day).limit(take)
                )
            )
            if not days:
                return done
            logged = list(
                session.scalars(select(ReportDirtyDay.id).where(ReportDirtyDay.day.in_(days)))
            )
            if session.get_bind().dialect.name == "postgresql":
                for day in days:  # in day order, so two workers never wait on each other in a ring
                    session.execute(
                        text("SELECT pg_advisory_xact_lock(:space, :day)"),
                        {"space": LOCK_SPACE, "day": day.toordinal()},
                    )
            session.execute(delete(ReportDay).where(ReportDay.day.in_(days)))
            rows = [
                row.stored()
                for cohort in COHORTS
                for row in fold_days(
                    session, cohort, day_column(cohort).in_(days), None, (False, True)
                )
            ]
            insert_rows(session, ReportDay.__table__, rows)  # type: ignore[arg-type]
            # Exactly the log rows read: one a concurrent write added meanwhile stays.
            for start in range(0, len(logged), 10_000):
                chunk = logged[start : start + 10_000]
                session.execute(
                    delete(ReportDirtyDay).where(among(session, ReportDirtyDay.id, chunk))
                )
        done += len(days)
    return done
