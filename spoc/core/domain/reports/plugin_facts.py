"""``spoc.ReportFacts``: the core's report facts as a plugin's section asks for them, over the
reader's filter, with the same indexed queries and the same small-cell figures as the core's
own sections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from spoc.core.domain.models import EscalationFact, RequestFact
from spoc.core.domain.reports.filters import ReportFilter, in_days
from spoc.core.domain.reports.metrics import Metrics
from spoc.core.kernel.reports import Figure

F = RequestFact
E = EscalationFact


class ReportFacts:
    """Figures about requests of some types, for a plugin's report section."""

    def __init__(self, session: Session, report_filter: ReportFilter) -> None:
        self.session = session
        self.filter = report_filter
        # Only the backlog's age reads "now"; these figures never do, so the period's end serves.
        end = datetime.combine(report_filter.period.end + timedelta(days=1), time(), UTC)
        self.metrics = Metrics(session, report_filter, end)

    def _filed(self, types: Sequence[str]) -> list[ColumnElement[bool]]:
        return [*self.metrics.filed(), F.type_key.in_(types)]

    def filed(self, types: Sequence[str], *, proactive: bool | None = None) -> Figure:
        """Requests of ``types`` filed in the period; ``proactive`` narrows to those the system
        opened itself (True) or the others (False)."""
        where = self._filed(types)
        if proactive is not None:
            where.append((F.channel == "proactive") if proactive else (F.channel != "proactive"))
        return Figure.count(self.metrics.count(*where))

    def filed_ids(self, types: Sequence[str], limit: int = 10_000) -> list[int]:
        """Ids of requests of ``types`` filed in the period, oldest first (at most ``limit``),
        to join a plugin's own rows by their indexed request id."""
        query = (
            select(F.request_id)
            .where(*self._filed(types))
            .order_by(F.created_day, F.request_id)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def first_response(self, types: Sequence[str]) -> tuple[Figure, Figure]:
        """(median business seconds, share within target) of first responses to requests of
        ``types`` filed in the period."""
        where = self._filed(types)
        m = self.metrics
        return (
            m.percentile(F.first_response_seconds, where, 50),
            m.within(F.first_response_seconds, F.first_response_target, where),
        )

    def resolution(self, types: Sequence[str]) -> tuple[Figure, Figure]:
        """(median business seconds, share within target) of resolutions, in the period, of
        requests of ``types``."""
        where = [*self.metrics.resolved(), F.type_key.in_(types)]
        m = self.metrics
        return (
            m.percentile(F.resolution_seconds, where, 50),
            m.within(F.resolution_seconds, F.resolution_target, where),
        )

    def escalations_by_trigger(self, prefix: str) -> list[tuple[str, Figure]]:
        """Escalations opened in the period whose trigger starts with ``prefix``
        (``plugin:logistics:``), by trigger (the prefix taken off), most first."""
        rows = self.session.execute(
            select(E.trigger, func.count())
            .join(F, F.request_id == E.request_id)
            .where(
                in_days(E.opened_day, self.filter.period),
                *self.filter.narrowing(team=False),
                E.trigger.startswith(prefix),
            )
            .group_by(E.trigger)
            .order_by(func.count().desc(), E.trigger)
        ).all()
        return [(trigger.removeprefix(prefix), Figure.count(int(n))) for trigger, n in rows]
