"""The reporting cycle: periods open, missing updates are requested, reminded and escalated.

Every step runs from the sweep (``spoc_sweep_tasks``), is bounded by the pass's limit, reads
indexed ranges and is idempotent: a period or a chase is one row, unique per project and label
or per workstream and period, written in the same transaction as the request it opens, so a
second worker racing on it rolls back. Escalations go through core watches (``spoc.watches``)
the sweep escalates once; a steering watch also puts the risk on the agenda
(:func:`on_watch_due`).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spoc import (
    ConflictError,
    Request,
    Spoc,
    Status,
    Subject,
    Watch,
    request_matches,
    request_states,
)
from spoc.plugins.projects.forms import Cadence
from spoc.plugins.projects.keys import (
    CHASE,
    REPORT,
    STEERING,
    SYSTEM,
    UPDATE_MISSING,
    system_filing,
)
from spoc.plugins.projects.models import (
    AgendaItem,
    Chase,
    Period,
    Project,
    Risk,
    StatusUpdate,
    Workstream,
)
from spoc.plugins.projects.periods import current_period, period_bounds
from spoc.plugins.projects.queries import people, settings_of, workstreams
from spoc.plugins.projects.rollup import refresh

log = logging.getLogger(__name__)
CATCH_UP = 60  # periods one call opens for a project that starts in the past


class _Moot(Exception):
    """Another worker did it first: nothing to do."""


# --- periods ---------------------------------------------------------------------------------


def _business_days(spoc: Spoc, start: datetime, days: int) -> datetime:
    if days <= 0:
        return start
    hours = settings_of(spoc).business_day_hours
    return spoc.business_add(start, timedelta(hours=hours * days))


def open_due_periods(spoc: Spoc, limit: int) -> int:
    """Open the reporting periods that have started, one per project per pass."""
    today = spoc.requests.today()
    with spoc.db.reader() as session:
        due = list(
            session.scalars(
                select(Project.subject_id)
                .where(Project.next_period_on <= today)
                .order_by(Project.next_period_on, Project.subject_id)
                .limit(limit)
            )
        )
    return sum(1 for project_id in due if open_next_period(spoc, project_id))


def open_due_periods_of(spoc: Spoc, project_id: int) -> int:
    """Open every period of one project that has started (a project created late)."""
    opened = 0
    while opened < CATCH_UP and open_next_period(spoc, project_id):
        opened += 1
    return opened


def open_next_period(spoc: Spoc, project_id: int) -> bool:
    """Open the project's next period if it has started: a row and the report request that
    carries the period's audit trail (owned by the manager, for the sponsor)."""
    today = spoc.requests.today()
    with spoc.db.reader() as session:
        project = session.get(Project, project_id)
        subject = session.get(Subject, project_id)
        if project is None or subject is None or project.next_period_on > today:
            return False
        sponsors = people(session, project_id, "sponsor")
        cadence = Cadence(project.cadence)
        anchor = date.fromisoformat(subject.attributes["reporting_starts"])
        starts, ends, label = period_bounds(cadence, anchor, project.next_period_on)
        deadline_days, name = project.deadline_days, subject.name
    if not sponsors:
        log.warning("project %s has no sponsor: its periods cannot open", project_id)
        return False
    tz = spoc.settings.tz
    closes_at = datetime.combine(ends + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    deadline_at = _business_days(spoc, closes_at, deadline_days)
    escalate_at = _business_days(spoc, deadline_at, settings_of(spoc).escalate_after_business_days)
    opened: list[int] = []

    def on_issued(session: Session, request: Request, _token: str) -> None:
        row = session.get(Project, project_id)
        if row is None or row.next_period_on != starts:
            raise _Moot
        period = Period(
            project_id=project_id,
            label=label,
            starts_on=starts,
            ends_on=ends,
            closes_at=closes_at,
            deadline_at=deadline_at,
            escalate_at=escalate_at,
            report_request_id=request.id,
            rollup_stale=True,
        )
        session.add(period)
        session.flush()
        opened.append(period.id)
        row.next_period_on = ends + timedelta(days=1)

    sponsor = sponsors[0]
    try:
        with system_filing():
            spoc.requests.create_with_tracking_link(
                type_key=REPORT,
                fields={"summary": f"Status report {label}: {name}", "period": label},
                requester={"name": sponsor.name, "email": sponsor.email},
                subject_id=project_id,
                actor=SYSTEM,
                on_issued=on_issued,
            )
    except (_Moot, IntegrityError, ConflictError):
        return False
    refresh(spoc, opened[0])
    return True


def due_period_label(spoc: Spoc, workstream_id: int) -> str | None:
    """The period a workstream's lead should report on now (pre-filled in their form): the
    one being chased, else the project's current period."""
    now = spoc.clock.now()
    with spoc.db.reader() as session:
        chased = session.scalar(
            select(Period.label)
            .join(Chase, Chase.period_id == Period.id)
            .where(Chase.workstream_id == workstream_id, Chase.received_at.is_(None))
            .order_by(Period.starts_on.desc())
            .limit(1)
        )
        if chased is not None:
            return chased
        row = session.get(Workstream, workstream_id)
        if row is None:
            return None
        period = current_period(session, row.project_id, now)
        return period.label if period is not None else None


# --- the chase -------------------------------------------------------------------------------


def chase_missing_updates(spoc: Spoc, now: datetime, limit: int) -> int:
    """For each period that closed: request the update of every workstream without one."""
    settings = settings_of(spoc)
    with spoc.db.reader() as session:
        periods = list(
            session.scalars(
                select(Period)
                .where(Period.chased_at.is_(None), Period.closes_at <= now)
                .order_by(Period.closes_at, Period.id)
                .limit(limit)
            )
        )
    done = 0
    for period in periods:
        with spoc.db.reader() as session:
            streams = workstreams(session, period.project_id, settings.max_workstreams)
            answered = set(
                session.scalars(
                    select(StatusUpdate.workstream_id).where(StatusUpdate.period_id == period.id)
                )
            )
            chased = set(
                session.scalars(select(Chase.workstream_id).where(Chase.period_id == period.id))
            )
            project_name = session.get(Subject, period.project_id).name  # type: ignore[union-attr]
            names = {
                s.id: s.name
                for s in session.scalars(
                    select(Subject).where(Subject.id.in_([w.subject_id for w in streams]))
                )
            }
        for stream in streams:
            if stream.subject_id in answered | chased:
                continue
            label = f"{project_name} / {names.get(stream.subject_id, '')}"
            done += open_chase(spoc, period, stream, label)
        with spoc.db.transaction() as session:
            # The period closed: its rollup is now what the portfolio shows.
            session.execute(
                update(Period)
                .where(Period.id == period.id, Period.chased_at.is_(None))
                .values(chased_at=now, rollup_stale=True)
            )
    return done


def _when(spoc: Spoc, instant: datetime) -> str:
    return instant.astimezone(spoc.settings.tz).strftime("%a %d %b %Y %H:%M")


def open_chase(spoc: Spoc, period: Period, stream: Workstream, label: str) -> int:
    """Ask the lead for the missing update: a request about the workstream, a mail with a link
    to the pre-filled form, a watch that escalates to the owner one business day after the
    deadline. Returns 1 if this call opened it.

    The core makes an intake link in a transaction of its own, so the link is made just before
    the chase's; look again first, so that only two workers racing on the same chase can leave
    a link behind — and that one is revoked with the others when the chase ends
    (:func:`revoke_spent_links`)."""
    with spoc.db.reader() as session:
        if session.scalar(
            select(Chase.id).where(
                Chase.workstream_id == stream.subject_id, Chase.period_id == period.id
            )
        ):
            return 0
    base = spoc.settings.base_url.rstrip("/")
    token = spoc.links.create_intake_link(stream.subject_id, label=f"Status update {period.label}")
    form_url = f"{base}/new/projects.status_update?intake={token}"
    deadline = _when(spoc, period.deadline_at)

    def on_issued(session: Session, request: Request, tracking: str) -> None:
        session.add(
            Chase(
                workstream_id=stream.subject_id,
                period_id=period.id,
                request_id=request.id,
                requested_at=spoc.clock.now(),
                remind_at=period.deadline_at,
            )
        )
        spoc.watches.arm(
            session,
            UPDATE_MISSING,
            period.escalate_at,
            request_id=request.id,
            escalate_to=stream.owner_team,
            reason=f"No status update for {period.label} from {stream.lead_name} "
            f"({label}); it was due {deadline}",
        )
        spoc.notifier.mail(
            session,
            request,
            stream.lead_email,
            f"Status update due: {label}, {period.label}",
            "projects_update_due",
            name=stream.lead_name,
            workstream=label,
            period=period.label,
            deadline=deadline,
            form_url=form_url,
            tracking_url=f"{base}/track/{tracking}",
            reminder=False,
        )

    try:
        with system_filing():
            spoc.requests.create_with_tracking_link(
                type_key=CHASE,
                fields={
                    "summary": f"Status update due: {label}, {period.label}"[:200],
                    "period": period.label,
                },
                requester={"name": stream.lead_name, "email": stream.lead_email},
                subject_id=stream.subject_id,
                actor=SYSTEM,
                on_issued=on_issued,
            )
    except (IntegrityError, ConflictError):
        return 0
    return 1


def send_reminders(spoc: Spoc, now: datetime, limit: int) -> int:
    """At the deadline, remind each lead whose update is still missing — once."""
    with spoc.db.reader() as session:
        due = list(
            session.scalars(
                select(Chase.id)
                .where(
                    Chase.reminded_at.is_(None),
                    Chase.received_at.is_(None),
                    Chase.remind_at <= now,
                )
                .order_by(Chase.remind_at, Chase.id)
                .limit(limit)
            )
        )
    return sum(1 for chase_id in due if remind(spoc, chase_id))


def remind(spoc: Spoc, chase_id: int) -> bool:
    with spoc.db.reader() as session:
        chase = session.get(Chase, chase_id)
        if chase is None:
            return False
        stream = session.get(Workstream, chase.workstream_id)
        period = session.get(Period, chase.period_id)
        assert stream is not None
        assert period is not None
        request_id, deadline = chase.request_id, _when(spoc, period.deadline_at)

    def apply(session: Session, request: Request) -> None:
        row = session.get(Chase, chase_id)
        if row is None or row.reminded_at is not None or row.received_at is not None:
            raise _Moot
        row.reminded_at = spoc.clock.now()
        spoc.notifier.mail(
            session,
            request,
            stream.lead_email,
            f"Reminder: status update overdue, {period.label}",
            "projects_update_due",
            name=stream.lead_name,
            workstream=request.summary,
            period=period.label,
            deadline=deadline,
            form_url="",
            tracking_url="",
            reminder=True,
        )

    try:
        spoc.requests.record_event(
            request_id,
            SYSTEM,
            kind="projects.update_reminded",
            summary=f"Reminder sent to {stream.lead_name}: the update for {period.label} was "
            f"due {deadline}. Missing counts as Amber.",
            public=True,
            apply=apply,
        )
    except (_Moot, ConflictError):
        return False
    return True


# --- the lead's links ------------------------------------------------------------------------

# A chase whose request is resolved, closed or cancelled has ended without its update.
STILL_CHASED = Status.unresolved()


def _open_chase(workstream_id: int, other_than: int) -> Any:
    return (
        select(Chase.id)
        .where(
            Chase.workstream_id == workstream_id,
            Chase.id != other_than,
            Chase.received_at.is_(None),
            request_matches(Chase.request_id, status=STILL_CHASED),
        )
        .limit(1)
    )


def revoke_spent_links(spoc: Spoc, now: datetime, limit: int) -> int:
    """A chase that ended — its update arrived, or its request was resolved or closed — leaves
    no usable link behind: the workstream's intake links are revoked once no other chase of
    the workstream is open (the core revokes a subject's links all together)."""
    with spoc.db.reader() as session:
        ended = list(
            session.execute(
                select(Chase.id, Chase.workstream_id)
                .where(
                    Chase.links_done_at.is_(None),
                    or_(
                        Chase.received_at.is_not(None),
                        ~request_matches(Chase.request_id, status=STILL_CHASED),
                    ),
                )
                .order_by(Chase.links_done_at, Chase.id)
                .limit(limit)
            ).all()
        )
    for chase_id, workstream_id in ended:
        end_links(spoc, chase_id, workstream_id, now)
    return len(ended)


def end_links(spoc: Spoc, chase_id: int, workstream_id: int, now: datetime) -> None:
    """Revoke first, then mark the chase done: a stop in between only revokes again."""
    with spoc.db.reader() as session:
        still_chased = session.scalar(_open_chase(workstream_id, chase_id)) is not None
    if not still_chased:
        spoc.links.revoke_intake_link(workstream_id)
    with spoc.db.transaction() as session:
        session.execute(
            update(Chase)
            .where(Chase.id == chase_id, Chase.links_done_at.is_(None))
            .values(links_done_at=now)
        )


def received(
    spoc: Spoc, session: Session, workstream_id: int, period_id: int, now: datetime
) -> int | None:
    """An update arrived (inside its intake transaction): stop the chase. Returns the chase
    request to resolve, if there was one."""
    chase = session.scalar(
        select(Chase).where(Chase.workstream_id == workstream_id, Chase.period_id == period_id)
    )
    if chase is None or chase.received_at is not None:
        return None
    chase.received_at = now
    spoc.watches.settle(session, UPDATE_MISSING, request_id=chase.request_id)
    return chase.request_id


# --- watches falling due ------------------------------------------------------------------------


def on_watch_due(watch: Watch, session: Session, now: datetime) -> None:
    """A steering watch puts the risk on the steering committee's agenda (once) as the sweep
    escalates it; the other causes only escalate."""
    if watch.cause != STEERING or watch.request_id is None:
        return
    state = request_states(session, [watch.request_id]).get(watch.request_id)
    risk = session.scalar(select(Risk).where(Risk.request_id == watch.request_id))
    if state is None or state.is_final or risk is None:
        return
    exists = session.scalar(select(AgendaItem.id).where(AgendaItem.request_id == watch.request_id))
    if exists is None:
        session.add(
            AgendaItem(
                project_id=risk.project_id,
                request_id=watch.request_id,
                added_at=now,
                reason=watch.reason,
            )
        )
