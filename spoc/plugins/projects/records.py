"""What happens when a request is filed (inside the intake transaction) and after it commits."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc import (
    Actor,
    ConflictError,
    Contact,
    IllegalTransition,
    Request,
    RequestEvent,
    Spoc,
    Subject,
    ValidationFailed,
)
from spoc.plugins.projects.cycle import end_links, received
from spoc.plugins.projects.forms import DecisionForm, RiskForm, StatusUpdateForm
from spoc.plugins.projects.keys import (
    CHASE,
    NEEDED_BY_PASSED,
    REPORT,
    STEERING,
    SYSTEM,
    UPDATE,
    is_system_filing,
)
from spoc.plugins.projects.models import (
    Chase,
    Decision,
    Milestone,
    Period,
    Project,
    Risk,
    StatusUpdate,
    Workstream,
)
from spoc.plugins.projects.queries import project_id_of, require_manager, settings_of
from spoc.plugins.projects.rollup import refresh


def on_filed(spoc: Spoc, request: Request, fields: BaseModel, session: Session) -> None:
    if request.type_key in (REPORT, CHASE):
        if not is_system_filing():
            raise ValidationFailed(
                "the project office opens these itself",
                {"fields.summary": "Choose a status update, risk, decision or question instead."},
            )
        return
    now = spoc.clock.now()
    subject = session.get(Subject, request.subject_id) if request.subject_id else None
    project_id = project_id_of(session, subject)
    if isinstance(fields, StatusUpdateForm):
        _status_update(spoc, request, fields, session, now)
    elif isinstance(fields, RiskForm) and project_id is not None:
        _risk(spoc, request, fields, session, project_id, now)
    elif isinstance(fields, DecisionForm) and project_id is not None:
        _decision(spoc, request, fields, session, project_id)


def _status_update(
    spoc: Spoc, request: Request, fields: StatusUpdateForm, session: Session, now: datetime
) -> None:
    stream = session.get(Workstream, request.subject_id) if request.subject_id else None
    if stream is None:
        raise ValidationFailed(
            "a status update is about a workstream",
            {"fields.period": "Use your workstream's update link."},
        )
    # Only the workstream's lead reports on it: an update closes the chase, feeds the rollup
    # and ends up in the sponsor's immutable report.
    contact = session.get(Contact, request.contact_id)
    sender = contact.email.strip().lower() if contact is not None and contact.email else ""
    if sender != stream.lead_email.strip().lower():
        raise ValidationFailed(
            "only the workstream's lead sends its status update",
            {
                "fields.requester_email": "Status updates for this workstream come from its "
                "lead's email address. Send yours to the lead or ask the project manager."
            },
        )
    period = session.scalar(
        select(Period).where(Period.project_id == stream.project_id, Period.label == fields.period)
    )
    if period is None:
        raise ValidationFailed(
            "no such reporting period",
            {"fields.period": f"{fields.period} is not an open reporting period of this project"},
        )
    update = StatusUpdate(
        request_id=request.id,
        workstream_id=stream.subject_id,
        period_id=period.id,
        submitted_at=now,
        overall=fields.overall.value,
        dimensions={
            name: getattr(fields, name).value
            for name in ("schedule", "cost", "scope", "quality", "risk")
        },
        percent_complete=fields.percent_complete,
        milestones=[m.model_dump(mode="json") for m in fields.milestones],
        done=fields.done,
        next=fields.next,
        blockers=fields.blockers,
    )
    session.add(update)
    for reported in fields.milestones:
        row = session.scalar(
            select(Milestone).where(
                Milestone.workstream_id == stream.subject_id, Milestone.name == reported.name
            )
        )
        if row is None:
            row = Milestone(
                workstream_id=stream.subject_id, name=reported.name, baseline=reported.baseline
            )
            session.add(row)
        # The baseline is the date first reported; only a change request moves it.
        row.forecast, row.actual, row.updated_at = reported.forecast, reported.actual, now
        when = reported.actual or reported.forecast
        row.slip_days = max(0, (when - row.baseline).days) if when else 0
    period.rollup_stale = True
    received(spoc, session, stream.subject_id, period.id, now)


def end_of_day(spoc: Spoc, day: object) -> datetime:
    assert isinstance(day, date)
    local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=spoc.settings.tz)
    return local.astimezone(UTC)


def _risk(
    spoc: Spoc,
    request: Request,
    fields: RiskForm,
    session: Session,
    project_id: int,
    now: datetime,
) -> None:
    session.add(
        Risk(
            request_id=request.id,
            project_id=project_id,
            summary=fields.summary,
            probability=fields.probability,
            impact=fields.impact,
            score=fields.score,
            proximity=fields.proximity,
            owner=fields.owner,
            response=fields.response.value,
        )
    )
    arm_agenda_watch(spoc, session, request.id, fields.score, fields.proximity, now)


def arm_agenda_watch(
    spoc: Spoc, session: Session, request_id: int, score: int, proximity: object, now: datetime
) -> None:
    """A risk scoring at least the threshold goes onto the steering committee's agenda once
    it is within the proximity window (at once if it already is)."""
    assert isinstance(proximity, date)
    settings = settings_of(spoc)
    if score < settings.agenda_min_score:
        spoc.watches.disarm(session, STEERING, request_id=request_id)
        return
    window_opens = datetime.combine(
        proximity - timedelta(days=settings.agenda_proximity_days), time(0), tzinfo=spoc.settings.tz
    ).astimezone(UTC)
    reason = (
        f"Risk score {score} (threshold {settings.agenda_min_score}) could materialise by "
        f"{proximity.isoformat()}: on the steering committee's agenda"
    )
    spoc.watches.arm(
        session,
        STEERING,
        max(now, window_opens),
        request_id=request_id,
        escalate_to=settings.steering_team,
        reason=reason,
    )


def _decision(
    spoc: Spoc, request: Request, fields: DecisionForm, session: Session, project_id: int
) -> None:
    session.add(
        Decision(
            request_id=request.id,
            project_id=project_id,
            kind=fields.kind.value,
            summary=fields.summary,
            severity=fields.severity.value,
            needed_by=fields.needed_by,
            decider=fields.decider,
        )
    )
    project = session.get(Project, project_id)
    assert project is not None
    spoc.watches.arm(
        session,
        NEEDED_BY_PASSED,
        end_of_day(spoc, fields.needed_by),
        request_id=request.id,
        escalate_to=project.sponsor_team,
        reason=f"{fields.kind.value.title()} needed by {fields.needed_by.isoformat()} is "
        "still open",
    )


# --- after commit ----------------------------------------------------------------------------


def after_commit(event: RequestEvent, spoc: Spoc) -> None:
    """A filed status update: roll the period up (recorded on its report request), close the
    chase it answers and revoke its link. The sweep redoes the rollup and the revocation if
    this is skipped."""
    if event.kind != "created" or event.type_key != UPDATE:
        return
    with spoc.db.reader() as session:
        update = session.scalar(
            select(StatusUpdate).where(StatusUpdate.request_id == event.request_id)
        )
        if update is None:
            return
        chase = session.scalar(
            select(Chase).where(
                Chase.workstream_id == update.workstream_id, Chase.period_id == update.period_id
            )
        )
        period_id = update.period_id
    refresh(spoc, period_id)
    if chase is not None:
        close_chase(spoc, chase.request_id, event.reference)
        if chase.links_done_at is None:
            # The link the chase mailed is spent (the sweep does this if it is skipped here).
            end_links(spoc, chase.id, chase.workstream_id, spoc.clock.now())


def close_chase(spoc: Spoc, request_id: int, reference: str) -> None:
    try:
        found = spoc.requests.get(request_id, SYSTEM)
        if found.status.is_final or found.status.value == "resolved":
            return
        spoc.requests.post_message(
            request_id, SYSTEM, f"Thank you: your status update arrived as {reference}."
        )
        spoc.requests.transition(request_id, "resolved", SYSTEM, reason="update received")
    except (ConflictError, IllegalTransition):
        pass


def _project_of(spoc: Spoc, model: type[Decision] | type[Risk], request_id: int, what: str) -> int:
    """The project a decision or risk request belongs to (it never changes)."""
    with spoc.db.reader() as session:
        project_id = session.scalar(select(model.project_id).where(model.request_id == request_id))
    if project_id is None:
        raise IllegalTransition(f"this request is not {what}")
    return project_id


def record_decision(spoc: Spoc, actor: Actor, request_id: int, outcome: str) -> None:
    """Log the decision taken (or how the issue was solved): the decision log's entry."""
    text = outcome.strip()
    if len(text) < 3:
        raise ValidationFailed("say what was decided", {"outcome": "required"})
    # The decision log is written once and never changes: only the project's manager, a
    # deputy or an admin logs what was decided.
    require_manager(spoc, actor, _project_of(spoc, Decision, request_id, "an issue or decision"))
    now = spoc.clock.now()

    def apply(session: Session, request: Request) -> None:
        row = session.scalar(select(Decision).where(Decision.request_id == request.id))
        if row is None:
            raise IllegalTransition("this request is not an issue or decision")
        if row.decided_at is not None:
            raise IllegalTransition("already decided")
        row.outcome, row.decided_at, row.decided_by = text[:5000], now, actor.name or "staff"
        spoc.watches.settle(session, NEEDED_BY_PASSED, request_id=request.id)

    spoc.requests.record_event(
        request_id,
        actor,
        kind="projects.decided",
        summary=f"Decided: {text}",
        data={"outcome": text},
        public=False,
        apply=apply,
    )


def reassess_risk(
    spoc: Spoc, actor: Actor, request_id: int, probability: int, impact: int, proximity: object
) -> None:
    """A new probability, impact or proximity: a new score, and maybe the agenda."""
    if not (1 <= probability <= 5 and 1 <= impact <= 5) or not isinstance(proximity, date):
        raise ValidationFailed("invalid assessment", {"probability": "1 to 5", "impact": "1 to 5"})
    # A lower score takes a risk off the steering committee's agenda: the manager's call.
    require_manager(spoc, actor, _project_of(spoc, Risk, request_id, "a risk"))
    now = spoc.clock.now()

    def apply(session: Session, request: Request) -> None:
        row = session.scalar(select(Risk).where(Risk.request_id == request.id))
        if row is None:
            raise IllegalTransition("this request is not a risk")
        row.probability, row.impact, row.score = probability, impact, probability * impact
        row.proximity = proximity
        arm_agenda_watch(spoc, session, request.id, row.score, proximity, now)

    spoc.requests.record_event(
        request_id,
        actor,
        kind="projects.risk_assessed",
        summary=f"Risk reassessed: {probability} x {impact} = {probability * impact}, "
        f"proximity {proximity.isoformat()}",
        data={"probability": probability, "impact": impact, "proximity": proximity.isoformat()},
        apply=apply,
    )
