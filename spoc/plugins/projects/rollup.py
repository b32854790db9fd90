"""The rollup: a project's RAG is the worst of its workstreams, a portfolio's the worst of its
projects. A workstream without an update counts as Amber, never Green. A manager's override
is kept beside the computed value, with its written justification.

Every change is recorded on the period's report request through ``record_event``, so the
plugin's rows and the audit timeline commit together. Red, or Amber for N periods running,
arms a watch that the sweep escalates to the sponsor once; the watch judges the worse of the
computed and the overridden value, so an override changes what a report says, never whether
the sponsor hears about an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spoc import Actor, ConflictError, Request, Spoc, Subject, ValidationFailed
from spoc.plugins.projects.forms import Rag, worst
from spoc.plugins.projects.keys import SPONSOR, SYSTEM
from spoc.plugins.projects.models import (
    Period,
    Portfolio,
    Project,
    StatusUpdate,
    WorkstreamStatus,
)
from spoc.plugins.projects.periods import current_period
from spoc.plugins.projects.queries import require_manager, settings_of, workstreams

JUSTIFICATION_MIN = 10
PORTFOLIO_PROJECTS = 500  # projects read to roll a portfolio up (bounded)


class _Stale(Exception):
    """The rows changed between planning and writing: plan again."""


def rag_or_none(value: str | None) -> Rag | None:
    return Rag(value) if value else None


def severity(period: Period) -> Rag | None:
    """What the escalation rules judge: the worse of computed and overridden."""
    return worst(
        [r for r in (rag_or_none(period.computed_rag), rag_or_none(period.override_rag)) if r]
    )


@dataclass
class Plan:
    period_id: int
    request_id: int
    statuses: dict[int, tuple[str, bool, int | None]]
    computed: str
    changes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    portfolio: tuple[int, str | None] | None = None


def _plan(spoc: Spoc, session: Session, period_id: int, now: datetime) -> Plan:
    period = session.get(Period, period_id)
    if period is None:
        raise ValidationFailed("unknown period", {"period": str(period_id)})
    limit = settings_of(spoc).max_workstreams
    streams = workstreams(session, period.project_id, limit)
    ids = [w.subject_id for w in streams]
    latest = dict(
        session.execute(
            select(StatusUpdate.workstream_id, func.max(StatusUpdate.id))
            .where(StatusUpdate.period_id == period_id, StatusUpdate.workstream_id.in_(ids))
            .group_by(StatusUpdate.workstream_id)
        ).all()
    )
    overall = dict(
        session.execute(
            select(StatusUpdate.id, StatusUpdate.overall).where(
                StatusUpdate.id.in_(list(latest.values()))
            )
        ).all()
    )
    known = {
        s.workstream_id: s
        for s in session.scalars(
            select(WorkstreamStatus).where(WorkstreamStatus.period_id == period_id)
        )
    }
    names = dict(session.execute(select(Subject.id, Subject.name).where(Subject.id.in_(ids))).all())
    statuses: dict[int, tuple[str, bool, int | None]] = {}
    changes: list[str] = []
    moved: list[dict[str, Any]] = []
    for stream_id in ids:
        update_id = latest.get(stream_id)
        rag, missing = (overall[update_id], False) if update_id else (Rag.AMBER.value, True)
        statuses[stream_id] = (rag, missing, update_id)
        before = known.get(stream_id)
        if before is None or before.rag != rag or before.missing != missing:
            was = _label(before.rag, before.missing) if before else "none"
            changes.append(f"{names.get(stream_id, stream_id)} {was} → {_label(rag, missing)}")
            moved.append(
                {
                    "workstream_id": stream_id,
                    "from": before.rag if before else None,
                    "to": rag,
                    "missing": missing,
                }
            )
    computed = (worst([Rag(r) for r, _, _ in statuses.values()]) or Rag.AMBER).value
    plan = Plan(period_id, period.report_request_id, statuses, computed)
    data: dict[str, Any] = {"period": period.label, "workstreams": moved}
    if computed != period.computed_rag:
        changes.append(f"project {_label(period.computed_rag)} → {_label(computed)} (computed)")
        data["project"] = {"from": period.computed_rag, "to": computed}
    project = session.get(Project, period.project_id)
    assert project is not None
    portfolio = session.get(Portfolio, project.portfolio_id)
    if portfolio is not None:
        rolled = portfolio_rag(session, project.portfolio_id, now, override=(period_id, computed))
        if rolled != portfolio.rag:
            changes.append(f"portfolio {_label(portfolio.rag)} → {_label(rolled)}")
            data["portfolio"] = {"id": portfolio.subject_id, "from": portfolio.rag, "to": rolled}
            plan.portfolio = (portfolio.subject_id, rolled)
    plan.changes, plan.data = changes, data
    return plan


def _label(rag: str | None, missing: bool = False) -> str:
    if rag is None:
        return "none"
    return Rag(rag).label + (" (no update)" if missing else "")


def portfolio_rag(
    session: Session, portfolio_id: int, now: datetime, override: tuple[int, str] | None = None
) -> str | None:
    """The worst current RAG of the portfolio's projects (the manager's override counts: it
    is what the project reports)."""
    project_ids = list(
        session.scalars(
            select(Project.subject_id)
            .where(Project.portfolio_id == portfolio_id)
            .order_by(Project.subject_id)
            .limit(PORTFOLIO_PROJECTS)
        )
    )
    rags: list[Rag] = []
    for project_id in project_ids:
        period = current_period(session, project_id, now)
        if period is None:
            continue
        value = period.override_rag or (
            override[1] if override and override[0] == period.id else period.computed_rag
        )
        if value:
            rags.append(Rag(value))
    found = worst(rags)
    return found.value if found else None


def refresh(spoc: Spoc, period_id: int, actor: Actor = SYSTEM) -> list[str]:
    """Recompute a period's rollup; record what changed on its report request."""
    for _ in range(3):
        now = spoc.clock.now()
        with spoc.db.reader() as session:
            plan = _plan(spoc, session, period_id, now)
        if not plan.changes:
            with spoc.db.transaction() as session:
                period = session.get(Period, period_id)
                assert period is not None
                period.rollup_stale = False
                _sync_sponsor_watch(spoc, session, period, plan, now)
            return []

        def apply(
            session: Session, request: Request, plan: Plan = plan, now: datetime = now
        ) -> None:
            again = _plan(spoc, session, period_id, now)
            if again.changes != plan.changes:
                raise _Stale
            _write(spoc, session, again, now)

        try:
            spoc.requests.record_event(
                plan.request_id,
                actor,
                kind="projects.rag_changed",
                summary=f"RAG for {plan.data['period']}: " + "; ".join(plan.changes),
                data=plan.data,
                apply=apply,
            )
        except (_Stale, ConflictError):
            continue
        return plan.changes
    raise ConflictError(f"the rollup of period {period_id}", None)


def _write(spoc: Spoc, session: Session, plan: Plan, now: datetime) -> None:
    period = session.get(Period, plan.period_id)
    assert period is not None
    for stream_id, (rag, missing, update_id) in plan.statuses.items():
        row = session.get(WorkstreamStatus, (stream_id, plan.period_id))
        if row is None:
            session.add(
                WorkstreamStatus(
                    workstream_id=stream_id,
                    period_id=plan.period_id,
                    rag=rag,
                    missing=missing,
                    update_id=update_id,
                )
            )
        else:
            row.rag, row.missing, row.update_id = rag, missing, update_id
    period.computed_rag = plan.computed
    period.rollup_stale = False
    if plan.portfolio is not None:
        portfolio = session.get(Portfolio, plan.portfolio[0])
        assert portfolio is not None
        portfolio.rag, portfolio.rag_at = plan.portfolio[1], now
    session.flush()
    _sync_sponsor_watch(spoc, session, period, plan, now)


def _sync_sponsor_watch(
    spoc: Spoc, session: Session, period: Period, plan: Plan, now: datetime
) -> None:
    """Arm, move or disarm the period's sponsor escalation (at most once per period)."""
    settings = settings_of(spoc)
    project = session.get(Project, period.project_id)
    subject = session.get(Subject, period.project_id)
    assert project is not None
    assert subject is not None
    level = severity(period)
    reason, due = None, None
    if level is Rag.RED:
        reason, due = f"{subject.name} is Red for {period.label}", now
    elif level is Rag.AMBER:
        streak = settings.amber_periods_to_escalate
        earlier = list(
            session.scalars(
                select(Period)
                .where(Period.project_id == period.project_id, Period.starts_on < period.starts_on)
                .order_by(Period.starts_on.desc())
                .limit(streak - 1)
            )
        )
        if len(earlier) == streak - 1 and all(severity(p) in (Rag.AMBER, Rag.RED) for p in earlier):
            labels = ", ".join([p.label for p in reversed(earlier)] + [period.label])
            reason = f"{subject.name} is Amber for {streak} periods running ({labels})"
            complete = not any(missing for _, missing, _ in plan.statuses.values())
            # Before the deadline, Amber may only mean "not reported yet".
            due = now if complete else max(now, period.deadline_at)
    if reason is None or due is None:
        # Never fired: disarmed, as if it had not been armed.
        spoc.watches.disarm(session, SPONSOR, request_id=period.report_request_id)
        return
    spoc.watches.arm(
        session,
        SPONSOR,
        due,
        request_id=period.report_request_id,
        escalate_to=project.sponsor_team,
        reason=reason,
    )


def override(spoc: Spoc, actor: Actor, period_id: int, rag: Rag | str, justification: str) -> None:
    """The manager reports another RAG than the computed one, and says why in writing."""
    text = justification.strip()
    try:
        chosen = Rag(rag)
    except ValueError:
        raise ValidationFailed("choose Red, Amber or Green", {"rag": str(rag)}) from None
    if len(text) < JUSTIFICATION_MIN:
        raise ValidationFailed(
            "an override needs a written justification",
            {
                "justification": f"at least {JUSTIFICATION_MIN} characters: why the computed "
                "value is wrong"
            },
        )
    with spoc.db.reader() as session:
        period = session.get(Period, period_id)
        if period is None:
            raise ValidationFailed("unknown period", {"period": str(period_id)})
        project_id, request_id, label = period.project_id, period.report_request_id, period.label
        computed, before = period.computed_rag, period.override_rag
    require_manager(spoc, actor, project_id)
    now = spoc.clock.now()

    def apply(session: Session, request: Request) -> None:
        row = session.get(Period, period_id)
        assert row is not None
        row.override_rag, row.override_justification = chosen.value, text[:5000]
        row.override_by, row.override_at = actor.name or "staff", now
        # Committed with the override: if the refresh below never runs, the sweep redoes it.
        row.rollup_stale = True

    spoc.requests.record_event(
        request_id,
        actor,
        kind="projects.rag_override",
        summary=f"RAG override for {label}: reported {chosen.label}, computed "
        f"{_label(computed)}"
        + (f" (was overridden {_label(before)})" if before else "")
        + f". Justification: {text}",
        data={
            "period": label,
            "computed": computed,
            "override": chosen.value,
            "previous_override": before,
            "justification": text,
        },
        apply=apply,
    )
    refresh(spoc, period_id, actor)


def refresh_stale(spoc: Spoc, limit: int) -> int:
    """The sweep's fallback: periods whose rollup was not recorded after a change."""
    with spoc.db.reader() as session:
        stale = list(
            session.scalars(
                select(Period.id)
                .where(Period.rollup_stale.is_(True))
                .order_by(Period.id)
                .limit(limit)
            )
        )
    for period_id in stale:
        refresh(spoc, period_id)
    return len(stale)
