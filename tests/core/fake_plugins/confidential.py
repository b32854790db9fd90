"""A plugin with a private request type and a report section of its own: what the reports
may say about private requests (counts only), and how a plugin's section is shown."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select

from spoc import (
    Figure,
    Headline,
    ReportFilter,
    ReportSection,
    ReportTable,
    RequestFact,
    RequestType,
    hookimpl,
)

SEEN: list[ReportFilter] = []


class Matter(BaseModel):
    summary: str = Field(max_length=200)


@hookimpl
def spoc_request_types() -> list[RequestType]:
    return [
        RequestType(
            key="confidential.matter",
            title="A confidential matter",
            description="Kept private",
            fields_model=Matter,
            private=True,
        )
    ]


@hookimpl
def spoc_report_sections(report_filter: ReportFilter, session: Any) -> list[ReportSection]:
    SEEN.append(report_filter)
    f = RequestFact
    period = report_filter.period
    filed = session.scalar(
        select(func.count())
        .select_from(f)
        .where(
            f.type_key == "confidential.matter",
            f.created_day >= period.start,
            f.created_day <= period.end,
        )
    )
    return [
        ReportSection(
            "matters",
            "Confidential matters",
            (Headline("Matters filed", Figure.count(int(filed or 0))),),
            (
                ReportTable(
                    "matters-by-week",
                    "Matters by week",
                    ("Week", "Filed"),
                    [["this period", Figure.count(int(filed or 0))]],
                    chart="bars",
                    text="Matters filed in the period.",
                ),
            ),
        )
    ]
