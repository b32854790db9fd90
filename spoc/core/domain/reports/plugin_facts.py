"""``spoc.ReportFacts``: the core's report facts as a plugin's section asks for them, over the
reader's filter, from the same day roll-ups and with the same small-cell figures as the core's
own sections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc.core.domain.models import RequestFact
from spoc.core.domain.reports.cube import ESCALATED, FILED, RESOLVED, DayRow
from spoc.core.domain.reports.filters import ReportFilter, in_days
from spoc.core.domain.reports.metrics import Metrics, percentile, total, within
from spoc.core.kernel.reports import Figure

F = RequestFact


class ReportFacts:
    """Figures about requests of some types, for a plugin's report section."""

    def __init__(self, session: Session, report_filter: ReportFilter) -> None:
        self.session = session
        self.filter = report_filter
        # Only the backlog's age reads "now"; these figures never do, so the period's end serves.
        end = datetime.combine(report_filter.period.end + timedelta(days=1), time(), UTC)
        self.metrics = Metrics(session, report_filter, end)

    def _of(self, cohort: str, types: Sequence[str]) -> list[DayRow]:
        return self.metrics.rows(cohort, types=tuple(types))

    def filed(self, types: Sequence[str], *, proactive: bool | None = None) -> Figure:
        """Requests of ``types`` filed in the period; ``proactive`` narrows to those the system
        opened itself (True) or the others (False)."""
        rows = self._of(FILED, types)
        if proactive is not None:
            rows = [row for row in rows if (row.channel == "proactive") is proactive]
        return Figure.count(total(rows))

    def filed_ids(self, types: Sequence[str], limit: int = 10_000) -> list[int]:
        """Ids of requests of ``types`` filed in the period, oldest first (at most ``limit``),
        to join a plugin's own rows by their indexed request id."""
        query = (
            select(F.request_id)
            .where(
                in_days(F.created_day, self.filter.period),
                *self.filter.narrowing(),
                F.type_key.in_(types),
            )
            .order_by(F.created_day, F.request_id)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def first_response(self, types: Sequence[str]) -> tuple[Figure, Figure]:
        """(median business seconds, share within target) of first responses to requests of
        ``types`` filed in the period."""
        rows = self._of(FILED, types)
        return percentile([r.seconds for r in rows], 50), within(rows)

    def resolution(self, types: Sequence[str]) -> tuple[Figure, Figure]:
        """(median business seconds, share within target) of resolutions, in the period, of
        requests of ``types``."""
        rows = self._of(RESOLVED, types)
        return percentile([r.seconds for r in rows], 50), within(rows)

    def escalations_by_trigger(self, prefix: str) -> list[tuple[str, Figure]]:
        """Escalations opened in the period whose trigger starts with ``prefix``
        (``plugin:logistics:``), by trigger (the prefix taken off), most first."""
        counted: dict[str, int] = {}
        for row in self.metrics.rows(ESCALATED, fine=True, values=False):
            if row.trigger.startswith(prefix):
                counted[row.trigger] = counted.get(row.trigger, 0) + row.n
        ranked = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
        return [(trigger.removeprefix(prefix), Figure.count(n)) for trigger, n in ranked]
