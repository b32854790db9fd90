"""What a report is about: a period in the organisation's days and optional narrowings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_

from spoc.core.domain.models import RequestFact
from spoc.core.domain.reports.facts import CHANNELS
from spoc.core.kernel.errors import ValidationFailed
from spoc.core.kernel.reports import ReportPeriod
from spoc.core.kernel.types import Priority

DEFAULT_DAYS = 28
LONGEST = 731
"""The longest period one report covers (two years): its day-by-day table stays readable."""


@dataclass(frozen=True)
class ReportFilter:
    """A period (organisation days, both ends included) and what to narrow it to."""

    period: ReportPeriod
    type_key: str | None = None
    plugin: str | None = None
    team_id: int | None = None
    agent_id: int | None = None  # the SPOC or owner
    subject_id: int | None = None
    priority: str | None = None
    channel: str | None = None

    def previous(self) -> ReportFilter:
        """The same narrowings over the period just before."""
        return replace(self, period=self.period.previous())

    def narrowing(self, *, team: bool = True) -> list[ColumnElement[bool]]:
        """The conditions on request facts other than the period. ``team=False`` leaves the
        team out (escalation figures narrow by the team escalated to instead)."""
        f = RequestFact
        chosen: list[tuple[Any, Any]] = [
            (f.type_key, self.type_key),
            (f.plugin, self.plugin),
            (f.owner_agent_id, self.agent_id),
            (f.subject_id, self.subject_id),
            (f.priority, self.priority),
            (f.channel, self.channel),
        ]
        if team:
            chosen.append((f.owner_team_id, self.team_id))
        return [column == value for column, value in chosen if value is not None]

    def query_args(self) -> dict[str, str]:
        """The filter as the query string that asks for it again (links, CSV, API)."""
        args = {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()}
        for name, value in (
            ("type", self.type_key),
            ("plugin", self.plugin),
            ("team", self.team_id),
            ("agent", self.agent_id),
            ("subject", self.subject_id),
            ("priority", self.priority),
            ("channel", self.channel),
        ):
            if value is not None:
                args[name] = str(value)
        return args


def in_days(column: Any, period: ReportPeriod) -> ColumnElement[bool]:
    return and_(column >= period.start, column <= period.end)


def parse_filter(
    args: Mapping[str, str], today: date, types: set[str], plugins: set[str]
) -> ReportFilter:
    """A filter from query arguments (``from``, ``to`` as ``YYYY-MM-DD``; ``type``, ``plugin``,
    ``team``, ``agent``, ``subject`` ids, ``priority``, ``channel``). Without dates: the last
    28 days up to today. ``ValidationFailed`` names each bad field; nothing is guessed."""
    errors: dict[str, str] = {}

    def day(name: str, default: date) -> date:
        raw = (args.get(name) or "").strip()
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = "a date as YYYY-MM-DD"
            return default

    def number(name: str) -> int | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        if not raw.isdigit() or len(raw) > 10:
            errors[name] = "an id (a whole number)"
            return None
        return int(raw)

    def one_of(name: str, allowed: set[str]) -> str | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        if raw not in allowed:
            errors[name] = "one of " + ", ".join(sorted(allowed))[:300]
            return None
        return raw

    end = day("to", today)
    start = day("from", end - timedelta(days=DEFAULT_DAYS - 1))
    if "from" not in errors and "to" not in errors:
        if start > end:
            errors["from"] = "on or before the end date"
        elif (end - start).days + 1 > LONGEST:
            errors["from"] = f"at most {LONGEST} days before the end date"
    chosen = ReportFilter(
        period=ReportPeriod(start, end),
        type_key=one_of("type", types),
        plugin=one_of("plugin", plugins),
        team_id=number("team"),
        agent_id=number("agent"),
        subject_id=number("subject"),
        priority=one_of("priority", {p.value for p in Priority}),
        channel=one_of("channel", set(CHANNELS)),
    )
    if errors:
        raise ValidationFailed("the report's filters are not right", errors)
    return chosen
