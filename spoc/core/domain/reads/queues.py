"""Queues: the named lists of requests staff work from, shared by the console and the API.

A queue is a filter (whose requests), an ordering (next deadline first: ``deadline_at`` is the
earliest pending SLA deadline, kept by the SLA engine, and requests without one sort last) and
the roles that may use it. The reader's visibility is applied here, once, for every queue and
both channels: a specialist gets only what they may open (their own requests and their teams'
escalations), and a private request the reader is not responsible for comes back in
:attr:`QueuePage.masked` — its list row shows no summary, requester or fields.

Each ordering is served by an index: ``ix_requests_deadline_owner`` (mine, covering),
``ix_requests_deadline_team`` (triage), ``ix_requests_deadline_all`` (the rest).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, exists, select, true

from spoc.core.domain.access import masked_request_ids, specialist_may_see
from spoc.core.domain.models import Contact, Escalation, Request, Subject, Team, TeamMember
from spoc.core.kernel.errors import NotFoundError, PermissionDenied
from spoc.core.kernel.types import Actor, ActorKind, Priority, Role, Status
from spoc.core.platform.plugins import PluginHost
from spoc.core.storage.db import Database
from spoc.core.storage.keyset import Ordering, Pager

ACTIVE = (Status.NEW, Status.OPEN, Status.WAITING, Status.RESOLVED)
"""What the console's queues show unless told otherwise: everything not closed or cancelled."""


@dataclass(frozen=True)
class Scope:
    """What a queue's filter knows of its reader."""

    agent_id: int
    desk_team: str


@dataclass(frozen=True)
class Queue:
    """A named list of requests: who may use it, which requests, in what order."""

    name: str
    title: str
    roles: tuple[Role, ...]
    where: Callable[[Scope], Any] = field(repr=False, compare=False)
    console: bool = True  # offered as a console tab (the API offers every queue)
    ordering: Ordering = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Each queue its own ordering name: a cursor of one queue is refused by another.
        ordering = Ordering(f"queue:{self.name}", Request.deadline_at, Request.id)
        object.__setattr__(self, "ordering", ordering)


def _mine(scope: Scope) -> Any:
    return Request.owner_agent_id == scope.agent_id


def _covering(scope: Scope) -> Any:
    # Owned by the reader about a subject whose SPOC is someone else: the deputy's view.
    covered = select(Subject.id).where(
        Subject.spoc_agent_id.is_not(None), Subject.spoc_agent_id != scope.agent_id
    )
    return (Request.owner_agent_id == scope.agent_id) & Request.subject_id.in_(covered)


def _escalations(scope: Scope) -> Any:
    return exists().where(
        Escalation.request_id == Request.id,
        Escalation.handed_back_at.is_(None),
        Escalation.to_team_id == TeamMember.team_id,
        TeamMember.agent_id == scope.agent_id,
    )


def _triage(scope: Scope) -> Any:
    desk = select(Team.id).where(Team.key == scope.desk_team).scalar_subquery()
    return Request.owner_agent_id.is_(None) & (Request.owner_team_id == desk)


def _everything(scope: Scope) -> Any:
    return true()


QUEUES = (
    Queue("mine", "My requests", (Role.ADMIN, Role.AGENT, Role.SPECIALIST), _mine),
    Queue("covering", "Covering for", (Role.ADMIN, Role.AGENT), _covering),
    Queue(
        "escalations",
        "My teams' escalations",
        (Role.ADMIN, Role.AGENT, Role.SPECIALIST),
        _escalations,
    ),
    Queue("triage", "Desk triage", (Role.ADMIN, Role.AGENT), _triage),
    Queue("all", "All requests", (Role.ADMIN, Role.VIEWER), _everything),
    # The API's ``GET /requests`` without ``?queue=``: every request its reader may list.
    Queue("visible", "Requests", (Role.ADMIN, Role.AGENT, Role.VIEWER), _everything, False),
)
BY_NAME = {q.name: q for q in QUEUES}
DEFAULT_API_QUEUE = "visible"


@dataclass(frozen=True)
class RequestFilter:
    """Narrowing a queue: each field given must hold (``statuses``: any of them)."""

    statuses: tuple[Status, ...] = ()
    type_key: str | None = None
    priority: Priority | None = None
    subject_id: int | None = None
    owner_agent_id: int | None = None
    request_id: int | None = None
    contact_email: str | None = None  # exact, indexed; a name would need a full scan

    def apply(self, statement: Select[Request]) -> Select[Request]:
        if self.statuses:
            statement = statement.where(Request.status.in_(self.statuses))
        for column, value in (
            (Request.type_key, self.type_key),
            (Request.priority, self.priority),
            (Request.subject_id, self.subject_id),
            (Request.owner_agent_id, self.owner_agent_id),
            (Request.id, self.request_id),
        ):
            if value is not None:
                statement = statement.where(column == value)
        if self.contact_email is not None:
            contact = select(Contact.id).where(Contact.email == self.contact_email.lower())
            statement = statement.where(Request.contact_id == contact.scalar_subquery())
        return statement


@dataclass(frozen=True)
class QueuePage:
    """One page of a queue: the requests, which of them show masked, and the cursors."""

    items: list[Request]
    masked: frozenset[int]
    next: str | None
    previous: str | None


class QueueService:
    """The staff's queues of requests: which a reader may use, and one page of one."""

    def __init__(self, db: Database, host: PluginHost, desk_team: str, pager: Pager) -> None:
        self.db = db
        self.host = host
        self.desk_team = desk_team
        self.pager = pager

    def available(self, actor: Actor, *, console: bool = True) -> list[Queue]:
        """The queues ``actor`` may use, in the console's tab order (``console=False``: the
        API's too)."""
        return [q for q in QUEUES if actor.role in q.roles and (q.console or not console)]

    def page(
        self,
        actor: Actor,
        name: str,
        filters: RequestFilter | None = None,
        *,
        limit: int = 25,
        cursor: str | None = None,
        field: str = "cursor",
    ) -> QueuePage:
        """One page of the queue ``name`` as ``actor`` may see it, next deadline first.

        Raises ``NotFoundError`` for an unknown queue, ``PermissionDenied`` for one the
        reader's role may not use, and ``CursorRejected`` (naming ``field``) for a cursor the
        queue did not make."""
        queue = BY_NAME.get(name)
        if queue is None:
            raise NotFoundError(f"no queue {name!r}: choose one of {', '.join(BY_NAME)}")
        if actor.kind is not ActorKind.AGENT or actor.id is None or actor.role not in queue.roles:
            if actor.role is Role.SPECIALIST:
                raise PermissionDenied(
                    f"the {name!r} queue is not for specialists: "
                    "use 'mine' or 'escalations' for your requests and your teams' escalations"
                )
            raise PermissionDenied(f"the {name!r} queue is not for a {actor.role_name}")
        statement = select(Request).where(queue.where(Scope(actor.id, self.desk_team)))
        if actor.role is Role.SPECIALIST:
            statement = statement.where(specialist_may_see(actor.id))
        statement = (filters or RequestFilter()).apply(statement)
        with self.db.reader() as session:
            found = self.pager.page(
                session, statement, queue.ordering, limit=limit, cursor=cursor, field=field
            )
            masked = masked_request_ids(session, self.host, actor, found.items)
        return QueuePage(found.items, frozenset(masked), found.next, found.previous)
