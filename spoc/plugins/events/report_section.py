"""The events section of the Reports page: incidents by location and category, vendor
triggers, and how many minutes incidents waited for their first response."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spoc import (
    Cell,
    Figure,
    Headline,
    ReportFacts,
    ReportFilter,
    ReportSection,
    ReportTable,
    Unit,
)
from spoc.plugins.events.models import Incident

TRIGGERS = "plugin:events:"


def sections(report_filter: ReportFilter, session: Session, incident: str) -> list[ReportSection]:
    facts = ReportFacts(session, report_filter)
    ids = facts.filed_ids([incident])
    found = (
        session.execute(
            select(Incident.location, Incident.category, func.count())
            .where(Incident.request_id.in_(ids))
            .group_by(Incident.location, Incident.category)
            .order_by(func.count().desc(), Incident.location, Incident.category)
        ).all()
        if ids
        else []
    )
    rows: list[list[Cell]] = [
        [location, category.replace("_", " "), Figure.count(int(n))]
        for location, category, n in found
    ]
    first, in_time = facts.first_response([incident])
    minutes = Figure(None if first.value is None else first.value / 60, first.n, Unit.COUNT)
    triggers = facts.escalations_by_trigger(TRIGGERS)
    return [
        ReportSection(
            "event-desk",
            "Events",
            (
                Headline("Incidents reported", facts.filed([incident])),
                Headline("Incidents: median minutes to the first response", minutes),
                Headline("Incidents answered within target", in_time),
            ),
            (
                ReportTable(
                    "incidents-by-location",
                    "Incidents by location and category",
                    ("Location", "Category", "Incidents"),
                    rows,
                    text="On-site incidents reported in the period, by where and what.",
                ),
                ReportTable(
                    "vendor-triggers",
                    "Escalations by trigger",
                    ("Trigger", "Escalations"),
                    [[cause.replace("_", " "), n] for cause, n in triggers],
                    chart="bars",
                    text="Escalations the events rules opened (late vendors, budgets).",
                ),
            ),
            note="On event days incidents run on minute targets (business time of their clock).",
        )
    ]
