"""Staff pages (portfolio, project, reports) and the sponsor's shared report, under /p/projects/."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from spoc import (
    ConsolePanel,
    Ordering,
    Request,
    Role,
    ServiceError,
    Spoc,
    Subject,
    console_agent,
    open_requests_for,
    spoc_of,
)
from spoc.plugins.projects import reports
from spoc.plugins.projects.forms import Rag
from spoc.plugins.projects.keys import DECISION, PORTFOLIO, PROJECT, RISK, UPDATE
from spoc.plugins.projects.models import (
    AgendaItem,
    Chase,
    Decision,
    Period,
    Portfolio,
    Project,
    Report,
    Risk,
    StatusUpdate,
    Workstream,
    WorkstreamStatus,
)
from spoc.plugins.projects.periods import current_period
from spoc.plugins.projects.queries import may_manage, people, settings_of
from spoc.plugins.projects.records import reassess_risk, record_decision
from spoc.plugins.projects.rollup import override

bp = Blueprint("pm", __name__, template_folder="templates")
PAGE = 20
PORTFOLIOS = Ordering("projects:portfolios", Portfolio.subject_id)  # the primary key
PROJECTS = Ordering("projects:projects", Project.subject_id)  # ix_projects_projects_portfolio


def _flash_error(exc: ServiceError) -> None:
    detail = "; ".join(f"{k}: {v}" for k, v in getattr(exc, "errors", {}).items())
    flash(f"{exc}" + (f" ({detail})" if detail else ""), "error")


def _subject_or_404(session: Any, subject_id: int, kind: str) -> Subject:
    subject = session.get(Subject, subject_id)
    if not isinstance(subject, Subject) or subject.kind != kind:
        abort(404)
    return subject


@bp.get("/")
def portfolios() -> str:
    console_agent()
    spoc = spoc_of()
    listed = select(Portfolio, Subject).join(Subject, Subject.id == Portfolio.subject_id)
    with spoc.db.reader() as session:
        found = spoc.pager.page(
            session, listed, PORTFOLIOS, limit=PAGE, cursor=request.args.get("after"), field="after"
        )
    return render_template("projects/portfolios.html", rows=found.items, next_after=found.next)


@bp.get("/portfolios/<int:portfolio_id>")
def portfolio(portfolio_id: int) -> str:
    console_agent()
    spoc = spoc_of()
    settings = settings_of(spoc)
    now = spoc.clock.now()
    with spoc.db.reader() as session:
        subject = _subject_or_404(session, portfolio_id, PORTFOLIO)
        state = session.get(Portfolio, portfolio_id)
        found = spoc.pager.page(
            session,
            select(Project, Subject)
            .join(Subject, Subject.id == Project.subject_id)
            .where(Project.portfolio_id == portfolio_id),
            PROJECTS,
            limit=PAGE,
            cursor=request.args.get("after"),
            field="after",
        )
        projects = found.items
        cards = []
        subject_ids: list[int] = []
        for row, project in projects:
            period = current_period(session, row.subject_id, now)
            trend = reports.trend_periods(session, row.subject_id, settings.trend_periods)
            streams = list(
                session.scalars(
                    select(Workstream.subject_id)
                    .where(Workstream.project_id == row.subject_id)
                    .limit(settings.max_workstreams)
                )
            )
            subject_ids += [row.subject_id, *streams]
            cards.append({"project": project, "period": period, "trend": list(reversed(trend))})
        project_ids = [row.subject_id for row, _ in projects]
        overdue = list(
            session.execute(
                select(Chase, Period, Subject)
                .join(Period, Period.id == Chase.period_id)
                .join(Subject, Subject.id == Chase.workstream_id)
                .where(
                    Chase.received_at.is_(None),
                    Chase.remind_at <= now,
                    Period.project_id.in_(project_ids),
                )
                .order_by(Chase.remind_at)
                .limit(PAGE)
            ).all()
        )
        escalated = open_requests_for(session, subject_ids, escalated=True, limit=PAGE)
        names = {p.id: p.name for _, p in projects}
    return render_template(
        "projects/portfolio.html",
        portfolio=subject,
        state=state,
        cards=cards,
        overdue=overdue,
        escalated=escalated,
        names=names,
        next_after=found.next,
        tz=spoc.settings.tz,
    )


@bp.get("/projects/<int:project_id>")
def project(project_id: int) -> str:
    actor = console_agent()
    spoc = spoc_of()
    settings = settings_of(spoc)
    now = spoc.clock.now()
    with spoc.db.reader() as session:
        subject = _subject_or_404(session, project_id, PROJECT)
        row = session.get(Project, project_id)
        assert row is not None
        portfolio = session.get(Subject, row.portfolio_id)
        periods = reports.trend_periods(session, project_id, settings.trend_periods)
        chosen = request.args.get("period")
        period = next((p for p in periods if p.label == chosen), None) or current_period(
            session, project_id, now
        )
        streams = list(
            session.execute(
                select(Workstream, Subject)
                .join(Subject, Subject.id == Workstream.subject_id)
                .where(Workstream.project_id == project_id)
                .order_by(Workstream.subject_id)
                .limit(settings.max_workstreams)
            ).all()
        )
        statuses = (
            {
                s.workstream_id: s
                for s in session.scalars(
                    select(WorkstreamStatus).where(WorkstreamStatus.period_id == period.id)
                )
            }
            if period
            else {}
        )
        updates = {
            u.id: u
            for u in session.scalars(
                select(StatusUpdate).where(
                    StatusUpdate.id.in_([s.update_id for s in statuses.values() if s.update_id])
                )
            )
        }
        stream_names = {w.subject_id: s.name for w, s in streams}
        slipping = reports.slipping_milestones(session, project_id)
        grid = reports.heat_map(session, project_id)
        risks = reports.open_risks(session, project_id)
        decisions = spoc.pager.page(
            session,
            reports.decisions_of(project_id),
            reports.DECISIONS,
            limit=reports.LIST_LIMIT,
            cursor=request.args.get("before"),
            field="before",
        )
        agenda = list(
            session.scalars(
                select(AgendaItem)
                .where(AgendaItem.project_id == project_id)
                .order_by(AgendaItem.id.desc())
                .limit(PAGE)
            )
        )
        published = reports.latest_reports(session, project_id)
        labels = {p.id: p.label for p in periods}
        manager = may_manage(session, actor, project_id)
        contacts = people(session, project_id)
        manager_name = subject.spoc.name if subject.spoc is not None else None
    return render_template(
        "projects/project.html",
        project=subject,
        portfolio=portfolio,
        periods=list(reversed(periods)),
        period=period,
        streams=streams,
        statuses=statuses,
        updates=updates,
        stream_names=stream_names,
        slipping=slipping,
        grid=grid,
        risks=risks,
        decisions=decisions.items,
        next_before=decisions.next,
        agenda=agenda,
        published=published,
        labels=labels,
        manager=manager,
        manager_name=manager_name,
        contacts=contacts,
        rags=list(Rag),
        reference=spoc.requests.reference,
    )


def _period_of_project(project_id: int) -> int:
    period_id = request.form.get("period_id", type=int)
    with spoc_of().db.reader() as session:
        period = session.get(Period, period_id) if period_id else None
        if period is None or period.project_id != project_id:
            abort(404)
    return period.id


@bp.post("/projects/<int:project_id>/override")
def override_rag(project_id: int) -> Response:
    actor = console_agent(Role.ADMIN, Role.AGENT)
    period_id = _period_of_project(project_id)
    try:
        override(
            spoc_of(),
            actor,
            period_id,
            request.form.get("rag", ""),
            request.form.get("justification", ""),
        )
        flash("Override recorded; the computed value is kept beside it.", "success")
    except ServiceError as exc:
        _flash_error(exc)
    return redirect(url_for(".project", project_id=project_id), code=303)


@bp.post("/projects/<int:project_id>/publish")
def publish(project_id: int) -> Response:
    actor = console_agent(Role.ADMIN, Role.AGENT)
    period_id = _period_of_project(project_id)
    try:
        report = reports.publish(spoc_of(), actor, period_id)
    except ServiceError as exc:
        _flash_error(exc)
        return redirect(url_for(".project", project_id=project_id), code=303)
    flash(f"Version {report.version} published.", "success")
    return redirect(url_for(".report", report_id=report.id), code=303)


# --- reports ---------------------------------------------------------------------------------


def _report_or_404(report_id: int) -> Report:
    with spoc_of().db.reader() as session:
        report = session.get(Report, report_id)
    if report is None:
        abort(404)
    return report


def _render_report(report: Report, **extra: Any) -> str:
    content = json.loads(report.content)
    return render_template("projects/report.html", report=report, c=content, **extra)


def _pdf(report: Report) -> Response:
    content = json.loads(report.content)
    name = f"status-report-{report.project_id}-{content['period']['label']}-v{report.version}.pdf"
    return Response(
        reports.pdf(content),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _json(report: Report) -> Response:
    return Response(
        report.content,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="status-report-{report.id}.json"'},
    )


@bp.get("/reports/<int:report_id>")
def report(report_id: int) -> str:
    console_agent()
    found = _report_or_404(report_id)
    return _render_report(found, staff=True)


@bp.get("/reports/<int:report_id>/pdf")
def report_pdf(report_id: int) -> Response:
    console_agent()
    return _pdf(_report_or_404(report_id))


@bp.get("/reports/<int:report_id>/json")
def report_json(report_id: int) -> Response:
    console_agent()
    return _json(_report_or_404(report_id))


@bp.post("/reports/<int:report_id>/share")
def share(report_id: int) -> str:
    actor = console_agent(Role.ADMIN, Role.AGENT)
    found = _report_or_404(report_id)
    try:
        url, link = reports.share(
            spoc_of(), actor, report_id, mail_sponsor=request.form.get("mail") == "on"
        )
    except ServiceError as exc:
        _flash_error(exc)
        return _render_report(found, staff=True)
    return _render_report(found, staff=True, share_url=url, share_expires=link.expires_at)


def _shared(token: str) -> Report:
    found = reports.report_for_token(spoc_of(), token)
    if found is None:
        abort(404)
    return found


@bp.get("/shared/<token>")
def shared(token: str) -> str:
    found = _shared(token)
    return _render_report(found, staff=False, token=token)


@bp.get("/shared/<token>/pdf")
def shared_pdf(token: str) -> Response:
    return _pdf(_shared(token))


@bp.get("/shared/<token>/json")
def shared_json(token: str) -> Response:
    return _json(_shared(token))


@bp.get("/schema/status-report.json")
def report_schema() -> Response:
    return Response(json.dumps(reports.schema(), indent=2), mimetype="application/schema+json")


# --- actions from the request page -----------------------------------------------------------


@bp.post("/requests/<int:request_id>/decision")
def decide(request_id: int) -> Response:
    actor = console_agent(Role.ADMIN, Role.AGENT)
    try:
        record_decision(spoc_of(), actor, request_id, request.form.get("outcome", ""))
        flash("Decision logged.", "success")
    except ServiceError as exc:
        _flash_error(exc)
    return redirect(f"/console/requests/{request_id}", code=303)


@bp.post("/requests/<int:request_id>/risk")
def reassess(request_id: int) -> Response:
    actor = console_agent(Role.ADMIN, Role.AGENT)
    try:
        proximity = date.fromisoformat(request.form.get("proximity", ""))
        reassess_risk(
            spoc_of(),
            actor,
            request_id,
            request.form.get("probability", type=int) or 0,
            request.form.get("impact", type=int) or 0,
            proximity,
        )
        flash("Risk reassessed.", "success")
    except ValueError:
        flash("Give the proximity as a date.", "error")
    except ServiceError as exc:
        _flash_error(exc)
    return redirect(f"/console/requests/{request_id}", code=303)


def console_panels(found: Request, spoc: Spoc) -> list[ConsolePanel]:
    with spoc.db.reader() as session:
        if found.type_key == UPDATE:
            update = session.scalar(select(StatusUpdate).where(StatusUpdate.request_id == found.id))
            if update is None:
                return []
            period = session.get(Period, update.period_id)
            html = render_template("projects/update_panel.html", update=update, period=period)
            return [ConsolePanel("Status update", Markup(html), order=10)]  # noqa: S704
        if found.type_key == RISK:
            risk = session.scalar(select(Risk).where(Risk.request_id == found.id))
            if risk is None:
                return []
            agenda = session.scalar(select(AgendaItem).where(AgendaItem.request_id == found.id))
            html = render_template("projects/risk_panel.html", req=found, risk=risk, agenda=agenda)
            return [ConsolePanel("Risk", Markup(html), order=10)]  # noqa: S704
        if found.type_key == DECISION:
            decision = session.scalar(select(Decision).where(Decision.request_id == found.id))
            if decision is None:
                return []
            html = render_template("projects/decision_panel.html", req=found, d=decision)
            return [ConsolePanel("Decision log", Markup(html), order=10)]  # noqa: S704
    return []
