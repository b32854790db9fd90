"""Console → Reports: the viewer's home page. Every section with its figures (and the
previous period's), each table with its SVG chart and its CSV, the streamed per-request
export, and the agent's weekly-digest toggle. Readable without JavaScript, and printable."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from spoc.core.domain.models import Agent, Team
from spoc.core.domain.reports.facts import CHANNELS
from spoc.core.domain.reports.filters import ReportFilter
from spoc.core.kernel.errors import NotFoundError, ValidationFailed
from spoc.core.kernel.reports import ReportTable
from spoc.core.kernel.types import Priority, Role
from spoc.core.services import spoc_of
from spoc.core.web.charts import chart_of
from spoc.core.web.console.auth import actor, bp, role_required
from spoc.core.web.csvs import csv_lines

READERS = (Role.ADMIN, Role.AGENT, Role.VIEWER)


def table_rows(table: ReportTable) -> Iterator[Sequence[object]]:
    yield table.columns
    yield from table.rows


def _options() -> dict[str, object]:
    spoc = spoc_of()
    with spoc.db.reader() as db:
        teams = db.execute(select(Team.id, Team.name).order_by(Team.name)).all()
        agents = db.execute(
            select(Agent.id, Agent.name)
            .where(Agent.role.in_((Role.ADMIN, Role.AGENT)), Agent.active.is_(True))
            .order_by(Agent.name)
        ).all()
    types = sorted(spoc.host.request_types, key=lambda t: t.title)
    return {
        "types": [(t.key, t.title) for t in types],
        "plugins": sorted({t.key.partition(".")[0] for t in types}),
        "teams": teams,
        "agents": agents,
        "priorities": [p.value for p in Priority],
        "channels": CHANNELS,
    }


def _filter_or_errors() -> tuple[ReportFilter | None, dict[str, str]]:
    try:
        return spoc_of().reports.parse(request.args), {}
    except ValidationFailed as exc:
        return None, dict(exc.errors)


@bp.get("/reports")
@role_required(*READERS)
def reports() -> tuple[str, int] | str:
    spoc = spoc_of()
    chosen, errors = _filter_or_errors()
    me = actor()
    if chosen is None:
        page = render_template(
            "console/reports.html", errors=errors, args=request.args, sections=[], **_options()
        )
        return page, 400
    sections = spoc.reports.report(me, chosen)
    charts = {t.key: chart_of(t) for s in sections for t in s.tables}
    return render_template(
        "console/reports.html",
        errors={},
        args=request.args,
        chosen=chosen,
        query=chosen.query_args(),
        sections=sections,
        charts=charts,
        subscribed=me.id is not None and spoc.reports.subscribed(me.id),
        **_options(),
    )


@bp.get("/reports/requests.csv")
@role_required(*READERS)
def reports_export() -> Response:
    """One row per request filed in the period, with its clock figures: streamed."""
    chosen, errors = _filter_or_errors()
    if chosen is None:
        return Response(_problem(errors), status=400, mimetype="text/plain")
    rows = spoc_of().reports.export_rows(actor(), chosen)
    response = Response(csv_lines(rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="requests.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/reports/<key>.csv")
@role_required(*READERS)
def reports_table_csv(key: str) -> Response:
    chosen, errors = _filter_or_errors()
    if chosen is None:
        return Response(_problem(errors), status=400, mimetype="text/plain")
    try:
        table = spoc_of().reports.table(actor(), chosen, key)
    except NotFoundError:
        abort(404)
    response = Response(csv_lines(table_rows(table)), mimetype="text/csv")
    safe = "".join(c for c in key if c.isalnum() or c in "-_") or "report"
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/reports/digest")
@role_required(*READERS)
def reports_digest() -> Response:
    on = request.form.get("digest") == "on"
    spoc_of().reports.subscribe(actor(), on)
    flash(
        "You will get the weekly digest on Monday mornings."
        if on
        else "You will no longer get the weekly digest.",
        "success",
    )
    return redirect(url_for("console.reports"), code=303)


def _problem(errors: dict[str, str]) -> str:
    return "".join(f"{name}: {message}\n" for name, message in errors.items())
