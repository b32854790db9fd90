"""API operations on reports (``spoc.reports``): every section as JSON, one section, and the
streamed one-row-per-request export as CSV for BI tools. Figures from fewer than three
requests come as the string "fewer than 3", as on the page."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from pydantic import BaseModel, ConfigDict, Field

from spoc.core.kernel.errors import ValidationFailed
from spoc.core.kernel.reports import Figure, ReportSection
from spoc.core.services import spoc_of
from spoc.core.web.api.base import ProblemError, operation, require_agent, respond
from spoc.core.web.csvs import csv_lines

Value = int | float | str | None


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: str | None = Field(
        default=None, alias="from", description="First day (YYYY-MM-DD), organisation time"
    )
    to: str | None = Field(default=None, description="Last day, included (default: today)")
    type: str | None = Field(default=None, description="A request type key")
    plugin: str | None = Field(default=None, description="A plugin's name")
    team: int | None = Field(default=None, description="A team id (owner; escalated-to team)")
    agent: int | None = Field(default=None, description="The SPOC or owner's agent id")
    subject: int | None = Field(default=None, description="A subject id")
    priority: str | None = Field(default=None, description="P1 to P4")
    channel: str | None = Field(default=None, description="portal, email, api, proactive, ...")


class PeriodOut(BaseModel):
    start: str
    end: str


class HeadlineOut(BaseModel):
    label: str
    value: Value
    previous: Value = None


class TableOut(BaseModel):
    key: str
    title: str
    columns: list[str]
    rows: list[list[Value]]
    text: str


class SectionOut(BaseModel):
    key: str
    title: str
    plugin: str | None
    note: str
    headlines: list[HeadlineOut]
    tables: list[TableOut]


class ReportOut(BaseModel):
    period: PeriodOut
    previous_period: PeriodOut
    sections: list[SectionOut]


def _cell(cell: Any) -> Value:
    if isinstance(cell, Figure):
        value: Value = cell.public()
        return value
    return str(cell)


def _section(section: ReportSection) -> SectionOut:
    return SectionOut(
        key=section.key,
        title=section.title,
        plugin=section.plugin,
        note=section.note,
        headlines=[
            HeadlineOut(
                label=h.label,
                value=h.figure.public(),
                previous=h.previous.public() if h.previous is not None else None,
            )
            for h in section.headlines
        ],
        tables=[
            TableOut(
                key=t.key,
                title=t.title,
                columns=list(t.columns),
                rows=[[_cell(c) for c in row] for row in t.rows],
                text=t.text,
            )
            for t in section.tables
        ],
    )


def _filter() -> Any:
    try:
        return spoc_of().reports.parse(request.args)
    except ValidationFailed as exc:
        errors = [{"field": f"query.{k}", "message": v} for k, v in exc.errors.items()]
        raise ProblemError(422, "Validation failed", str(exc), errors=errors) from None


def _report(sections: list[ReportSection]) -> ReportOut:
    chosen = _filter()
    before = chosen.period.previous()
    return ReportOut(
        period=PeriodOut(start=chosen.period.start.isoformat(), end=chosen.period.end.isoformat()),
        previous_period=PeriodOut(start=before.start.isoformat(), end=before.end.isoformat()),
        sections=[_section(s) for s in sections],
    )


@operation(
    "GET",
    "/reports",
    summary="Every report section for a period, with the previous period's figures",
    tag="reports",
    query=ReportQuery,
    response=ReportOut,
    errors=(401, 403, 422),
)
def reports() -> Response:
    actor = require_agent()
    chosen = _filter()
    return respond(_report(spoc_of().reports.report(actor, chosen)))


@operation(
    "GET",
    "/reports/sections/{key}",
    summary="One report section (volume, times, escalations, quality, load, csat, ...)",
    tag="reports",
    query=ReportQuery,
    response=ReportOut,
    errors=(401, 403, 404, 422),
)
def report_section(key: str) -> Response:
    actor = require_agent()
    chosen = _filter()
    return respond(_report([spoc_of().reports.section(actor, chosen, key)]))


@operation(
    "GET",
    "/reports/requests.csv",
    summary="One CSV row per request filed in the period, with its clock figures (streamed)",
    tag="reports",
    query=ReportQuery,
    errors=(401, 403, 422),
)
def report_export() -> Response:
    actor = require_agent()
    chosen = _filter()
    rows = spoc_of().reports.export_rows(actor, chosen)
    response = Response(csv_lines(rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="requests.csv"'
    return response
