"""One request as its reader may see it: the read model of the request's page.

The console's request page, the portal's tracking page and the API's ``GET /requests/{ref}``
and ``/timeline`` render from :class:`RequestDetail`; ``spoc.requests.detail`` builds it after
the access rules, which run there once: a request the reader may not see is "not found", and a
staff read is reported to ``spoc_staff_access`` (which may ask for a break-glass reason).

What each reader gets:

* **staff** (admin, agent, specialist, viewer) who may open the request: every field, the
  requester's name and address, the subject with its SPOC and deputies, every timeline entry
  (internal notes too), the service-level clocks with the line that explains each, the
  escalations;
* **the requester**: their own fields, public timeline entries only (their own entries by
  "you": the name stored for an address is not theirs to learn), who their point of contact
  is, and the pending first-response and resolution clocks (when to expect an answer) — never
  the subject's name or people, internal notes, escalation reasons or the clocks' log.

``may`` says what the reader can do next, from the lifecycle and their role.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, joinedload, selectinload

from spoc.core.domain.access import private_request
from spoc.core.domain.attachments import AttachmentLine, attachment_lines
from spoc.core.domain.escalation import MAX_LEVEL
from spoc.core.domain.lifecycle import allowed_targets
from spoc.core.domain.models import (
    NO_DEADLINE,
    Agent,
    Contact,
    Escalation,
    Feedback,
    Request,
    SlaClock,
    SlaClockEvent,
    Subject,
    SubjectDeputy,
    Team,
    TeamMember,
    TimelineEvent,
    Visibility,
)
from spoc.core.domain.routing import acting_spoc, human_date
from spoc.core.domain.sla import SERVICE_LEVELS, describe
from spoc.core.domain.writes import request_reference
from spoc.core.kernel.clocks import ClockKind, ClockState
from spoc.core.kernel.types import Actor, ActorKind, Priority, Role, Status
from spoc.core.platform.plugins import PluginHost
from spoc.core.platform.settings import Settings


@dataclass(frozen=True)
class Person:
    """An agent named on the page: the owner, the subject's SPOC or a deputy."""

    id: int
    name: str
    role: str = ""  # on a subject: "SPOC", "Deputy 1", ...


@dataclass(frozen=True)
class TeamRef:
    id: int
    name: str


@dataclass(frozen=True)
class RequesterLine:
    """Who filed the request, as staff see them."""

    name: str
    email: str


@dataclass(frozen=True)
class PointOfContact:
    """ "Your single point of contact": who, and whether they are covering for someone."""

    name: str
    covering: str | None = None


@dataclass(frozen=True)
class SubjectLine:
    """The subject a request is about, with the people responsible for it."""

    id: int
    kind: str
    name: str
    reference: str | None
    people: tuple[Person, ...]


@dataclass(frozen=True)
class ClockLine:
    """One SLA clock. ``explanation`` is the clock's own account ("Resolution: started Mon
    09:12 · paused …"), for staff; ``None`` for the requester."""

    kind: ClockKind
    state: ClockState
    started_at: datetime
    due_at: datetime
    breached: bool
    explanation: str | None

    @property
    def paused(self) -> bool:
        return self.state is ClockState.PAUSED

    @property
    def overdue(self) -> bool:
        """Breached and still pending: someone owes an answer."""
        return self.breached and self.state.is_pending


@dataclass(frozen=True)
class EscalationLine:
    id: int
    level: int
    team_id: int | None
    team_name: str
    reason: str
    trigger: str
    opened_at: datetime
    handed_back_at: datetime | None


@dataclass(frozen=True)
class TimelineEntry:
    """One timeline event as the reader sees it. ``actor_name`` is the name stored with the
    event ("you" for a requester reading their own); ``author`` is the current name of the
    agent who made it (``None`` when no agent did)."""

    seq: int
    kind: str
    at: datetime
    summary: str
    visibility: Visibility
    actor_kind: ActorKind
    actor_id: int | None
    actor_name: str
    author: str | None
    message: str | None
    data: Mapping[str, Any]
    message_id: int | None = None  # the message's row: the mail it came in is found by it
    attachments: tuple[AttachmentLine, ...] = ()  # the files that came with the message


@dataclass(frozen=True)
class NextSteps:
    """What the reader may do next on this request."""

    statuses: tuple[Status, ...] = ()  # the status changes the lifecycle allows them
    reply: bool = False  # a public message (staff: to the requester; requester: to the desk)
    note: bool = False  # an internal note
    manage: bool = False  # reassign, link a subject, change the priority
    escalate: bool = False
    hand_back: bool = False
    cancel: bool = False
    confirm: bool = False  # the requester confirms a resolution (closes)
    reopen: bool = False
    rate: bool = False


@dataclass(frozen=True)
class RequestDetail:
    """A request as ``reader`` may see it (see the module's docstring for who sees what)."""

    reader: Actor
    id: int
    reference: str
    version: int
    type_key: str
    type_title: str
    private: bool
    summary: str
    status: Status
    status_labels: Mapping[Status, str]  # the request type's words for requesters
    priority: Priority
    fields: Mapping[str, Any]
    escalation_level: int
    created_at: datetime
    updated_at: datetime
    deadline_at: datetime | None  # the earliest pending service-level deadline
    subject_id: int | None
    owner_agent_id: int | None
    owner_team_id: int | None
    owner: Person | None
    owner_team: TeamRef | None
    point_of_contact: PointOfContact
    requester: RequesterLine | None  # staff only
    subject: SubjectLine | None  # staff only
    clocks: tuple[ClockLine, ...]
    escalations: tuple[EscalationLine, ...]  # staff only
    timeline: tuple[TimelineEntry, ...]
    attachments: tuple[AttachmentLine, ...]  # the files filed with the request itself
    rating: int | None
    may: NextSteps
    # The stored row, for the plugin hooks that take a request (panels, exports); render from
    # the detail's own fields, which say what this reader may read.
    row: Request = field(repr=False, compare=False)

    @property
    def status_label(self) -> str:
        return self.status_labels[self.status]

    @property
    def notices(self) -> list[str]:
        """Notices a plugin raised at intake (an emergency number), shown above everything."""
        return [e.summary for e in self.timeline if e.kind == "notice"]

    def attachment(self, attachment_id: int) -> AttachmentLine | None:
        """The attachment ``attachment_id`` if this reader sees it here: filed with the
        request, or on a timeline entry they may read (never an internal note's, for the
        requester)."""
        lines = [*self.attachments, *(a for e in self.timeline for a in e.attachments)]
        return next((a for a in lines if a.id == attachment_id), None)

    @property
    def open_escalation(self) -> EscalationLine | None:
        return next((e for e in reversed(self.escalations) if e.handed_back_at is None), None)

    @property
    def expected_answer(self) -> ClockLine | None:
        """The running clock the requester waits on: the first response, else the resolution."""
        running = {c.kind: c for c in self.clocks if c.state is ClockState.RUNNING}
        return running.get(ClockKind.FIRST_RESPONSE) or running.get(ClockKind.RESOLUTION)


def request_detail(
    session: Session,
    request: Request,
    reader: Actor,
    *,
    host: PluginHost,
    settings: Settings,
    today: date,
) -> RequestDetail:
    """Build the detail of ``request`` for ``reader``, who may see it (the caller checked).

    A handful of indexed queries by request id, whatever the timeline's length."""
    staff = reader.kind is not ActorKind.REQUESTER
    request_type = host.request_types.get(request.type_key)
    subject = _subject(session, request.subject_id)
    owner = session.get(Agent, request.owner_agent_id) if request.owner_agent_id else None
    team = session.get(Team, request.owner_team_id) if request.owner_team_id else None
    files = attachment_lines(session, request.id)
    timeline = _timeline(session, request.id, reader, files)
    contact = session.get(Contact, request.contact_id) if staff else None
    escalations = _escalations(session, request.id) if staff else ()
    rating = session.scalar(select(Feedback.rating).where(Feedback.request_id == request.id))
    return RequestDetail(
        reader=reader,
        id=request.id,
        reference=request_reference(settings, request.id),
        version=request.version,
        type_key=request.type_key,
        type_title=request_type.title if request_type else request.type_key,
        private=private_request(host, request.type_key, subject.kind if subject else None),
        summary=request.summary,
        status=request.status,
        status_labels={
            s: request_type.label_for(s) if request_type else s.value.title() for s in Status
        },
        priority=request.priority,
        fields=dict(request.fields),
        escalation_level=request.escalation_level,
        created_at=request.created_at,
        updated_at=request.updated_at,
        deadline_at=None if request.deadline_at == NO_DEADLINE else request.deadline_at,
        subject_id=request.subject_id,
        owner_agent_id=request.owner_agent_id,
        owner_team_id=request.owner_team_id,
        owner=Person(owner.id, owner.name) if owner else None,
        owner_team=TeamRef(team.id, team.name) if team else None,
        point_of_contact=_point_of_contact(session, request, owner, team, subject, today, settings),
        requester=RequesterLine(contact.name, contact.email) if contact else None,
        subject=_subject_line(subject) if subject is not None and staff else None,
        clocks=_clocks(session, request.id, settings, staff),
        escalations=escalations,
        timeline=timeline,
        attachments=files.get(None, ()),
        rating=rating,
        may=_next_steps(
            request, reader, escalations, rating, _in_open_team(session, reader, escalations)
        ),
        row=request,
    )


def _timeline(
    session: Session,
    request_id: int,
    reader: Actor,
    files: Mapping[int | None, tuple[AttachmentLine, ...]],
) -> tuple[TimelineEntry, ...]:
    query = (
        select(TimelineEvent)
        .where(TimelineEvent.request_id == request_id)
        .options(selectinload(TimelineEvent.message))
        .order_by(TimelineEvent.seq)
    )
    requester = reader.kind is ActorKind.REQUESTER
    if requester:
        query = query.where(TimelineEvent.visibility == Visibility.PUBLIC)
    events = list(session.scalars(query))
    agent_ids = {e.actor_id for e in events if e.actor_kind is ActorKind.AGENT}
    rows = session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(agent_ids)))
    names = {agent_id: name for agent_id, name in rows}
    return tuple(
        TimelineEntry(
            seq=e.seq,
            kind=e.kind,
            at=e.at,
            summary=e.summary,
            visibility=e.visibility,
            actor_kind=e.actor_kind,
            actor_id=e.actor_id,
            # The name stored for an address is not the requester's to learn: they may merely
            # have typed someone else's email.
            actor_name="you" if requester and e.actor_kind is ActorKind.REQUESTER else e.actor_name,
            author=_agent_name(names, e),
            message=e.message.body if e.message is not None else None,
            data=dict(e.data),
            message_id=e.message_id,
            attachments=_files_of(e, files),
        )
        for e in events
    )


def _files_of(
    event: TimelineEvent, files: Mapping[int | None, tuple[AttachmentLine, ...]]
) -> tuple[AttachmentLine, ...]:
    """A message's files; the files filed with the request show on its "created" entry."""
    if event.message_id is not None:
        return files.get(event.message_id, ())
    return files.get(None, ()) if event.kind == "created" else ()


def _agent_name(names: Mapping[int, str], event: TimelineEvent) -> str | None:
    if event.actor_kind is not ActorKind.AGENT or event.actor_id is None:
        return None  # a requester's id is a contact's, not an agent's
    return names.get(event.actor_id)


def _escalations(session: Session, request_id: int) -> tuple[EscalationLine, ...]:
    rows = session.execute(
        select(Escalation, Team.name)
        .outerjoin(Team, Team.id == Escalation.to_team_id)
        .where(Escalation.request_id == request_id)
        .order_by(Escalation.id)
    )
    return tuple(
        EscalationLine(
            id=e.id,
            level=e.level,
            team_id=e.to_team_id,
            team_name=team_name or "?",
            reason=e.reason,
            trigger=e.trigger,
            opened_at=e.opened_at,
            handed_back_at=e.handed_back_at,
        )
        for e, team_name in rows
    )


def _clocks(
    session: Session, request_id: int, settings: Settings, staff: bool
) -> tuple[ClockLine, ...]:
    """Staff see every service-level clock (the escalation's answer time too) with its log; a
    requester sees the pending first-response and resolution clocks only."""
    query = select(SlaClock).where(SlaClock.request_id == request_id).order_by(SlaClock.id)
    if not staff:
        query = query.where(
            SlaClock.kind.in_(SERVICE_LEVELS),
            SlaClock.state.in_((ClockState.RUNNING, ClockState.PAUSED)),
        )
    clocks = [c for c in session.scalars(query) if not c.kind.is_housekeeping]
    log: dict[int, list[SlaClockEvent]] = {c.id: [] for c in clocks}
    if staff and clocks:
        for event in session.scalars(
            select(SlaClockEvent)
            .where(SlaClockEvent.clock_id.in_(list(log)))
            .order_by(SlaClockEvent.id)
        ):
            log[event.clock_id].append(event)
    return tuple(
        ClockLine(
            kind=c.kind,
            state=c.state,
            started_at=c.started_at,
            due_at=c.due_at,
            breached=c.breached_at is not None,
            explanation=describe(c, log[c.id], settings.tz) if staff else None,
        )
        for c in clocks
    )


def _subject(session: Session, subject_id: int | None) -> Subject | None:
    if subject_id is None:
        return None
    people = (
        joinedload(Subject.spoc),
        selectinload(Subject.deputies).joinedload(SubjectDeputy.agent),
    )
    return session.get(Subject, subject_id, options=people)


def _subject_line(subject: Subject) -> SubjectLine:
    people: list[Person] = []
    if subject.spoc is not None:
        people.append(Person(subject.spoc.id, subject.spoc.name, "SPOC"))
    people += [Person(d.agent.id, d.agent.name, f"Deputy {d.position}") for d in subject.deputies]
    return SubjectLine(subject.id, subject.kind, subject.name, subject.external_ref, tuple(people))


def _point_of_contact(
    session: Session,
    request: Request,
    owner: Agent | None,
    team: Team | None,
    subject: Subject | None,
    today: date,
    settings: Settings,
) -> PointOfContact:
    if request.covering_for_agent_id is not None and request.cover_until is not None:
        absent = session.get(Agent, request.covering_for_agent_id)
        who = owner.name if owner is not None else f"The {team.name if team else 'service desk'}"
        if absent is not None:
            until = human_date(request.cover_until, today)
            return PointOfContact(who, f"{who} covers for {absent.name} until {until}")
    if owner is None:
        return PointOfContact(f"The {team.name if team else 'service desk'}")
    if subject is None:
        return PointOfContact(owner.name)
    routing = acting_spoc(session, subject, today, settings.desk_team)
    if routing.agent_id == owner.id and routing.covering_for and routing.until:
        absent = session.get(Agent, routing.covering_for)
        assert absent is not None
        until = human_date(routing.until, today)
        return PointOfContact(owner.name, f"{owner.name} covers for {absent.name} until {until}")
    return PointOfContact(owner.name)


def _in_open_team(session: Session, reader: Actor, escalations: tuple[EscalationLine, ...]) -> bool:
    """Is the reader in the team of an escalation not handed back yet? Hand back is theirs."""
    teams = [e.team_id for e in escalations if e.handed_back_at is None and e.team_id is not None]
    if reader.kind is not ActorKind.AGENT or not teams:
        return False
    return bool(
        session.scalar(
            select(exists().where(TeamMember.team_id.in_(teams), TeamMember.agent_id == reader.id))
        )
    )


def _next_steps(
    request: Request,
    reader: Actor,
    escalations: tuple[EscalationLine, ...],
    rating: int | None,
    in_team: bool = False,
) -> NextSteps:
    targets = tuple(allowed_targets(request.status, reader))
    final = request.status.is_final
    if reader.kind is ActorKind.REQUESTER and reader.id != request.contact_id:
        return NextSteps(reply=not final)  # a CC: follows and answers, decides nothing
    if reader.kind is ActorKind.REQUESTER:
        return NextSteps(
            statuses=targets,
            reply=not final,
            cancel=Status.CANCELLED in targets,
            confirm=Status.CLOSED in targets,
            reopen=request.status is Status.RESOLVED and Status.OPEN in targets,
            rate=request.status in (Status.RESOLVED, Status.CLOSED) and rating is None,
        )
    acts = reader.kind is ActorKind.SYSTEM or reader.role in (Role.ADMIN, Role.AGENT)
    escalated_now = any(e.handed_back_at is None for e in escalations)
    return NextSteps(
        statuses=targets,
        reply=acts,
        note=acts or reader.role is Role.SPECIALIST,
        manage=acts and not final,
        escalate=acts and not final and request.escalation_level < MAX_LEVEL,
        # Offered to the team the request was escalated to, not to the SPOC who escalated it.
        hand_back=escalated_now and request.escalation_level > 0 and in_team,
    )
