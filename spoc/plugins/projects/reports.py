"""Published status reports: immutable, versioned snapshots (stored JSON), a sponsor's link,
a PDF and a printable page. The JSON validates against the schema this plugin publishes
(``schema/status-report.schema.json``, served at ``/p/projects/schema/status-report.json``)."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from spoc import (
    Actor,
    NotFoundError,
    Ordering,
    Request,
    Spoc,
    Status,
    Subject,
    ValidationFailed,
    request_matches,
)
from spoc.plugins.projects.models import (
    AgendaItem,
    Decision,
    Milestone,
    Period,
    Project,
    Report,
    Risk,
    ShareLink,
    StatusUpdate,
    Workstream,
    WorkstreamStatus,
)
from spoc.plugins.projects.queries import people, require_manager, settings_of
from spoc.plugins.projects.rollup import refresh

SCHEMA_FILE = Path(__file__).parent / "schema" / "status-report.schema.json"
SCHEMA_PATH = "/p/projects/schema/status-report.json"
LIST_LIMIT = 20


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _day(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def snapshot(spoc: Spoc, session: Session, period: Period) -> dict[str, Any]:
    """Everything a sponsor reads about the project for the period, as plain JSON."""
    settings = settings_of(spoc)
    project = session.get(Subject, period.project_id)
    row = session.get(Project, period.project_id)
    assert project is not None
    assert row is not None
    portfolio = session.get(Subject, row.portfolio_id)
    ref = spoc.requests.reference
    streams = list(
        session.execute(
            select(Workstream, Subject.name)
            .join(Subject, Subject.id == Workstream.subject_id)
            .where(Workstream.project_id == period.project_id)
            .order_by(Workstream.subject_id)
            .limit(settings.max_workstreams)
        ).all()
    )
    statuses = {
        s.workstream_id: s
        for s in session.scalars(
            select(WorkstreamStatus).where(WorkstreamStatus.period_id == period.id)
        )
    }
    update_ids = [s.update_id for s in statuses.values() if s.update_id]
    updates = {
        u.id: u
        for u in session.scalars(select(StatusUpdate).where(StatusUpdate.id.in_(update_ids)))
    }
    workstreams = []
    for stream, name in streams:
        status = statuses.get(stream.subject_id)
        update = updates.get(status.update_id) if status and status.update_id else None
        workstreams.append(
            {
                "id": stream.subject_id,
                "name": name,
                "lead": stream.lead_name,
                "rag": status.rag if status else "amber",
                "missing": status.missing if status else True,
                "update": None
                if update is None
                else {
                    "reference": ref(update.request_id),
                    "submitted_at": update.submitted_at.isoformat(),
                    "overall": update.overall,
                    "dimensions": dict(update.dimensions),
                    "percent_complete": update.percent_complete,
                    "milestones": list(update.milestones),
                    "done": update.done,
                    "next": update.next,
                    "blockers": update.blockers,
                },
            }
        )
    stream_names = {stream.subject_id: name for stream, name in streams}
    slipping = [
        {
            "workstream": stream_names.get(m.workstream_id, ""),
            "name": m.name,
            "baseline": m.baseline.isoformat(),
            "forecast": _day(m.forecast),
            "actual": _day(m.actual),
            "slip_days": m.slip_days,
        }
        for m in slipping_milestones(session, period.project_id)
    ]
    on_agenda = set(
        session.scalars(
            select(AgendaItem.request_id).where(AgendaItem.project_id == period.project_id)
        )
    )
    risks = [
        {
            "reference": ref(r.request_id),
            "summary": r.summary,
            "probability": r.probability,
            "impact": r.impact,
            "score": r.score,
            "proximity": r.proximity.isoformat(),
            "owner": r.owner,
            "response": r.response,
            "on_agenda": r.request_id in on_agenda,
        }
        for r in open_risks(session, period.project_id)
    ]
    decisions = [
        {
            "reference": ref(d.request_id),
            "kind": d.kind,
            "summary": d.summary,
            "needed_by": d.needed_by.isoformat(),
            "decider": d.decider,
            "outcome": d.outcome,
            "decided_at": d.decided_at.isoformat() if d.decided_at else None,
        }
        for d in decision_log(session, period.project_id)
    ]
    trend = [
        {"period": p.label, "rag": p.effective_rag}
        for p in reversed(trend_periods(session, period.project_id, settings.trend_periods, period))
    ]
    manager = project.spoc.name if project.spoc is not None else None
    return {
        "$schema": spoc.settings.base_url.rstrip("/") + SCHEMA_PATH,
        "schema_version": 1,
        "project": {
            "id": project.id,
            "name": project.name,
            "code": project.attributes.get("code") or None,
            "manager": manager,
            "portfolio": {"id": row.portfolio_id, "name": portfolio.name if portfolio else ""},
        },
        "period": {
            "label": period.label,
            "starts_on": period.starts_on.isoformat(),
            "ends_on": period.ends_on.isoformat(),
            "deadline": period.deadline_at.isoformat(),
        },
        "rag": {
            "computed": period.computed_rag or "amber",
            "override": period.override_rag,
            "justification": period.override_justification,
            "reported": period.effective_rag or "amber",
        },
        "trend": trend,
        "workstreams": workstreams,
        "milestones_slipping": slipping,
        "risks": risks,
        "decisions": decisions,
        "people": [
            {"role": p.role, "name": p.name}
            for p in people(session, period.project_id)
            if p.role in ("sponsor", "steering")
        ],
    }


def slipping_milestones(session: Session, project_id: int, limit: int = 50) -> list[Milestone]:
    return list(
        session.scalars(
            select(Milestone)
            .join(Workstream, Workstream.subject_id == Milestone.workstream_id)
            .where(Workstream.project_id == project_id, Milestone.slip_days > 0)
            .order_by(Milestone.slip_days.desc(), Milestone.id)
            .limit(limit)
        )
    )


def open_risks(session: Session, project_id: int, limit: int = LIST_LIMIT) -> list[Risk]:
    return list(
        session.scalars(
            select(Risk)
            .where(
                Risk.project_id == project_id,
                request_matches(Risk.request_id, status=Status.unresolved()),
            )
            .order_by(Risk.score.desc(), Risk.id.desc())
            .limit(limit)
        )
    )


def heat_map(session: Session, project_id: int) -> dict[tuple[int, int], int]:
    """Open risks counted by (probability, impact): the 5 by 5 grid."""
    rows = session.execute(
        select(Risk.probability, Risk.impact, func.count(Risk.id))
        .where(
            Risk.project_id == project_id,
            request_matches(Risk.request_id, status=Status.unresolved()),
        )
        .group_by(Risk.probability, Risk.impact)
    ).all()
    return {(p, i): n for p, i, n in rows}


DECISIONS = Ordering("projects:decisions", Decision.id.desc())
"""The decision log, newest first: ``ix_projects_decisions_project`` (project_id, id)."""


def decisions_of(project_id: int) -> Select[Decision]:
    """A project's decision log, to page in :data:`DECISIONS` (``spoc.pager``)."""
    return select(Decision).where(Decision.project_id == project_id)


def decision_log(session: Session, project_id: int, limit: int = LIST_LIMIT) -> list[Decision]:
    """The newest ``limit`` decisions (what a report freezes)."""
    query = decisions_of(project_id).order_by(Decision.id.desc()).limit(limit)
    return list(session.scalars(query))


def trend_periods(
    session: Session, project_id: int, count: int, upto: Period | None = None
) -> list[Period]:
    """The last ``count`` periods (newest first), up to ``upto`` if given."""
    query = select(Period).where(Period.project_id == project_id)
    if upto is not None:
        query = query.where(Period.starts_on <= upto.starts_on)
    return list(session.scalars(query.order_by(Period.starts_on.desc()).limit(count)))


# --- publishing ------------------------------------------------------------------------------


def publish(spoc: Spoc, actor: Actor, period_id: int) -> Report:
    """Freeze the period's report as the next version; recorded on the report request."""
    # Imported here to keep start-up light: the schema validator loads when a report is
    # published, not with every app.
    from jsonschema import Draft202012Validator

    with spoc.db.reader() as session:
        period = session.get(Period, period_id)
        if period is None:
            raise NotFoundError(f"no period {period_id}")
        project_id, request_id, label = period.project_id, period.report_request_id, period.label
    require_manager(spoc, actor, project_id)
    refresh(spoc, period_id, actor)  # publish what is true now
    published: list[Report] = []
    now = spoc.clock.now()

    def apply(session: Session, request: Request) -> None:
        row = session.get(Period, period_id)
        assert row is not None
        version = (
            session.scalar(select(func.max(Report.version)).where(Report.period_id == period_id))
            or 0
        ) + 1
        content = snapshot(spoc, session, row)
        content["version"] = version
        content["published_at"] = now.isoformat()
        content["published_by"] = actor.name or "staff"
        errors = sorted(Draft202012Validator(schema()).iter_errors(content), key=str)
        if errors:
            raise ValidationFailed(
                "the report does not match its schema", {"report": errors[0].message}
            )
        text = json.dumps(content, ensure_ascii=False, sort_keys=True)
        report = Report(
            project_id=project_id,
            period_id=period_id,
            version=version,
            published_at=now,
            published_by=actor.name or "staff",
            content=text,
            sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        )
        session.add(report)
        session.flush()
        published.append(report)

    spoc.requests.record_event(
        request_id,
        actor,
        kind="projects.report_published",
        summary=f"Status report for {label} published",
        data={"period": label},
        apply=apply,
    )
    return published[0]


def share(
    spoc: Spoc, actor: Actor, report_id: int, *, mail_sponsor: bool = True
) -> tuple[str, ShareLink]:
    """An unguessable link to one published report, for the sponsor; only its hash is kept.
    Returns the URL (shown once) and the link row."""
    with spoc.db.reader() as session:
        report = session.get(Report, report_id)
        if report is None:
            raise NotFoundError(f"no report {report_id}")
        project_id = report.project_id
        sponsors = people(session, project_id, "sponsor")
        name = session.get(Subject, project_id).name  # type: ignore[union-attr]
        label = session.get(Period, report.period_id).label  # type: ignore[union-attr]
    require_manager(spoc, actor, project_id)
    token = secrets.token_urlsafe(32)
    now = spoc.clock.now()
    url = f"{spoc.settings.base_url.rstrip('/')}/p/projects/shared/{token}"
    days = settings_of(spoc).share_link_days
    with spoc.db.transaction() as session:
        link = ShareLink(
            report_id=report_id,
            token_hash=digest(token),
            created_at=now,
            expires_at=now + timedelta(days=days),
            created_by=actor.name or "staff",
        )
        session.add(link)
        if mail_sponsor:
            for sponsor in sponsors:
                spoc.notifier.mail(
                    session,
                    None,
                    sponsor.email,
                    f"Status report: {name}, {label}",
                    "projects_report_shared",
                    name=sponsor.name,
                    project=name,
                    period=label,
                    version=report.version,
                    link=url,
                    days=days,
                )
    return url, link


def report_for_token(spoc: Spoc, token: str) -> Report | None:
    """The report a sponsor's link opens, or ``None`` when unknown or expired."""
    with spoc.db.reader() as session:
        return session.scalar(
            select(Report)
            .join(ShareLink, ShareLink.report_id == Report.id)
            .where(ShareLink.token_hash == digest(token), ShareLink.expires_at > spoc.clock.now())
        )


def latest_reports(session: Session, project_id: int, limit: int = 10) -> list[Report]:
    return list(
        session.scalars(
            select(Report)
            .where(Report.project_id == project_id)
            .order_by(Report.id.desc())
            .limit(limit)
        )
    )


# --- PDF -------------------------------------------------------------------------------------

_PLAIN = str.maketrans(
    {
        "\u2014": "-",
        "\u2013": "-",
        "\u2192": "->",
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u00d7": "x",
        "\u2022": "-",
    }
)


def _latin1(text: Any) -> str:
    """The PDF's built-in fonts speak Latin-1; anything else becomes '?' rather than failing."""
    return str(text).translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def pdf(content: dict[str, Any]) -> bytes:
    # Imported here to keep start-up light: fpdf (some 240 modules) loads for the first PDF.
    from fpdf import FPDF

    doc = FPDF(format="A4")
    doc.set_auto_page_break(auto=True, margin=15)
    doc.add_page()
    width = doc.epw

    def line(text: Any, size: int = 10, style: str = "", gap: float = 5.5) -> None:
        doc.set_font("Helvetica", style, size)
        doc.multi_cell(width, gap, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    project, period, rag = content["project"], content["period"], content["rag"]
    line(f"Status report: {project['name']}", 16, "B", 8)
    line(
        f"Period {period['label']} ({period['starts_on']} to {period['ends_on']}) - version "
        f"{content['version']}, published {content['published_at'][:16]} by "
        f"{content['published_by']}"
    )
    line(f"Portfolio: {project['portfolio']['name']}. Manager: {project['manager'] or '-'}")
    doc.ln(2)
    line(f"RAG reported: {rag['reported'].upper()}   computed: {rag['computed'].upper()}", 12, "B")
    if rag["override"]:
        line(f"Override justification: {rag['justification']}")
    line(
        "Trend: "
        + ", ".join(f"{t['period']} {str(t['rag'] or '-').upper()}" for t in content["trend"])
    )
    doc.ln(2)
    line("Workstreams", 13, "B", 7)
    for stream in content["workstreams"]:
        state = "no update (counts as Amber)" if stream["missing"] else stream["rag"].upper()
        line(f"{stream['name']} (lead {stream['lead']}): {state}", 11, "B")
        update = stream["update"]
        if update:
            dims = ", ".join(f"{k} {v.upper()}" for k, v in update["dimensions"].items())
            line(f"{update['percent_complete']}% complete. {dims}")
            line(f"Done: {update['done']}")
            line(f"Next: {update['next']}")
            if update["blockers"]:
                line(f"Blockers: {update['blockers']}")
    if content["milestones_slipping"]:
        doc.ln(2)
        line("Milestones slipping against baseline", 13, "B", 7)
        for m in content["milestones_slipping"]:
            line(
                f"{m['workstream']}: {m['name']} - baseline {m['baseline']}, forecast "
                f"{m['forecast'] or '-'}, actual {m['actual'] or '-'} ({m['slip_days']} days late)"
            )
    if content["risks"]:
        doc.ln(2)
        line("Risks", 13, "B", 7)
        for r in content["risks"]:
            agenda = " - on the steering committee's agenda" if r["on_agenda"] else ""
            line(
                f"{r['reference']} {r['summary']}: {r['probability']} x {r['impact']} = "
                f"{r['score']}, proximity {r['proximity']}, owner {r['owner']}{agenda}"
            )
    if content["decisions"]:
        doc.ln(2)
        line("Decision log", 13, "B", 7)
        for d in content["decisions"]:
            outcome = d["outcome"] or f"open, needed by {d['needed_by']}"
            line(f"{d['reference']} {d['summary']}: {outcome}")
    return bytes(doc.output())
