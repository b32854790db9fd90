"""The projects section of the Reports page: the RAG of the reporting periods that began in
the report's period (the trend, by week), workstream updates overdue, and escalations to
sponsors and owners."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spoc import Cell, Figure, Headline, ReportFacts, ReportFilter, ReportSection, ReportTable
from spoc.plugins.projects.models import Period, WorkstreamStatus

TRIGGERS = "plugin:projects:"
RAGS = ("green", "amber", "red")


def sections(report_filter: ReportFilter, session: Session) -> list[ReportSection]:
    facts = ReportFacts(session, report_filter)
    period = report_filter.period
    # One period per project per cadence: a small table, read for the days asked for.
    rag = func.coalesce(Period.override_rag, Period.computed_rag)
    began = (Period.starts_on >= period.start, Period.starts_on <= period.end)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for starts_on, colour, n in session.execute(
        select(Period.starts_on, rag, func.count()).where(*began).group_by(Period.starts_on, rag)
    ):
        week = f"{starts_on.isocalendar().year}-W{starts_on.isocalendar().week:02d}"
        key = str(colour or "none").lower()
        counts[week][key] = counts[week].get(key, 0) + int(n)
    trend: list[list[Cell]] = [
        [week, *(Figure.count(by.get(c, 0)) for c in RAGS)] for week, by in sorted(counts.items())
    ]
    missing = session.scalar(
        select(func.count())
        .select_from(WorkstreamStatus)
        .join(Period, Period.id == WorkstreamStatus.period_id)
        .where(*began, WorkstreamStatus.missing.is_(True))
    )
    escalations = facts.escalations_by_trigger(TRIGGERS)
    total = sum(int(f.value or 0) for _, f in escalations)
    return [
        ReportSection(
            "portfolio",
            "Projects",
            (
                Headline("Workstream updates overdue", Figure.count(int(missing or 0))),
                Headline("Escalations to sponsors and owners", Figure.count(total)),
            ),
            (
                ReportTable(
                    "rag-trend",
                    "RAG of reporting periods, by week they began",
                    ("Week", "Green", "Amber", "Red"),
                    trend,
                    chart="days",
                    text="How many project periods were green, amber or red each week.",
                ),
                ReportTable(
                    "project-escalations",
                    "Escalations by cause",
                    ("Cause", "Escalations"),
                    [[cause.replace("_", " "), n] for cause, n in escalations],
                    chart="bars",
                    text="Escalations the projects rules opened in the period, by cause.",
                ),
            ),
        )
    ]
