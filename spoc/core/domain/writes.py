"""The one write path for requests: a transaction, a version check, timeline events, hooks.

Every service call that changes a request goes through :meth:`ServiceBase.changing`:

* the request row is read and the caller's ``expected_version`` checked;
* the change and its timeline events are written in one transaction;
* the UPDATE carries ``WHERE version = <read>`` (SQLAlchemy's version counter), so of two
  concurrent writers one wins and the other gets :class:`ConflictError` with nothing written;
* after commit, plugins hear about each event through ``spoc_request_event``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from spoc.core.domain.models import (
    Escalation,
    EscalationTrigger,
    Message,
    Request,
    RequestCc,
    SlaClock,
    Team,
    TeamMember,
    TimelineEvent,
    Visibility,
)
from spoc.core.kernel.clock import Clock
from spoc.core.kernel.durations import BusinessDuration
from spoc.core.kernel.errors import ConflictError, NotFoundError, PermissionDenied
from spoc.core.kernel.types import MAX_RECORD_ID, Actor, ActorKind, RequestEvent, Role
from spoc.core.platform import hookspecs
from spoc.core.platform.dispatch import Hooks
from spoc.core.platform.plugins import PluginHost
from spoc.core.platform.settings import Settings
from spoc.core.storage.db import Database
from spoc.core.storage.files import FileStore

if TYPE_CHECKING:
    from spoc.core.domain.search.index import SearchIndex

R = TypeVar("R")
"""A row's model (a new row of it, see :meth:`WriteContext.new`)."""

WriteObserver = Callable[["WriteContext"], None]
"""Called inside every write transaction, after the change and its timeline events, before
commit. SLA clocks and the notification outbox hang off this, so whatever they write commits
(or rolls back) together with its cause."""


@dataclass(frozen=True)
class ServiceDeps:
    """What every domain service is built with: storage, time, settings, the plugins'
    registries and hook calls, and the observers of the write path. A service that needs
    another service receives it by name in its own constructor."""

    db: Database
    hooks: Hooks
    host: PluginHost  # the registries: request types, subject kinds, articles
    settings: Settings
    clock: Clock
    files: FileStore  # attachment contents (spoc.core.storage.files)
    # Inside every write, before commit: the SLA clocks.
    observers: tuple[WriteObserver, ...] = ()
    # After the write's flush (ids known), before commit; may only add rows (the outbox).
    late_observers: tuple[WriteObserver, ...] = ()
    # The full-text index, for writes that change rows outside the request write path (the
    # directory's subjects, erasure); the request path reaches it as a late observer.
    search: SearchIndex | None = None


def request_reference(settings: Settings, request_id: int) -> str:
    """The reference a person reads and types: ``REQ-00042``."""
    return f"{settings.reference_prefix}-{request_id:05d}"


class WriteContext:
    """What one write transaction sees, and the timeline events it appends."""

    def __init__(
        self,
        session: Session,
        request: Request,
        actor: Actor,
        now: datetime,
        next_seq: int,
        memo: dict[object, Any] | None = None,
    ) -> None:
        self.session = session
        self.request = request
        self.actor = actor
        self.now = now
        self._next_seq = next_seq
        self.events: list[TimelineEvent] = []
        # Typed inputs for the SLA clocks (never fished out of the timeline's data):
        # when the request's clocks start, if not now (a need that arose earlier) ...
        self.clocks_from: datetime | None = None
        # ... and how long each escalation opened in this write has to be answered (its OLA).
        self.answer_within: dict[int, BusinessDuration] = {}
        # Lookups the observers make once per transaction, not once per event (a team's
        # addresses, a request's watchers and latest inbound mail), shared by the writes of
        # one transaction (the sweep's batch); keys name the row they depend on.
        self.memo: dict[object, Any] = {} if memo is None else memo
        # The request's clocks when the caller read them already (the sweep's batch): the SLA
        # engine then asks no query of its own.
        self.clocks: list[SlaClock] | None = None
        # Where the notices of this write go: ``None`` adds them to the session; a list
        # collects outbox rows for one INSERT (see :func:`~spoc.core.domain.outbox.outbox_row`).
        self.outbox: list[dict[str, Any]] | None = None

    def new(self, model: type[R], **values: Any) -> R:
        """A new row of ``model`` in this write's transaction. A batch written set-based (the
        sweep's clock work) collects the rows instead, for one INSERT per table."""
        row = model(**values)
        self.session.add(row)
        return row

    def new_with_id(self, model: type[R], **values: Any) -> R:
        """A new row whose id the caller needs at once (an escalation's, for its timeline)."""
        row = self.new(model, **values)
        self.session.flush()
        return row

    def fired(self, request_id: int, trigger: str) -> bool:
        """Has this automatic trigger fired for the request (see ``escalate_once``)?"""
        return self.session.get(EscalationTrigger, (request_id, trigger)) is not None

    def record(
        self,
        kind: str,
        summary: str,
        data: dict[str, Any] | None = None,
        *,
        visibility: Visibility = Visibility.PUBLIC,
        message: Message | None = None,
        by: Actor | None = None,
    ) -> TimelineEvent:
        event = self.new(
            TimelineEvent,
            request=self.request,
            seq=self._next_seq,
            kind=kind,
            visibility=visibility,
            actor_kind=(by or self.actor).kind,
            actor_id=(by or self.actor).id,
            actor_name=(by or self.actor).name or (by or self.actor).kind.value,
            summary=summary[:500],
            data=data or {},
            message=message,
            at=self.now,
        )
        self._next_seq += 1
        self.events.append(event)
        return event


SWEEPER = Actor.system("SLA sweep")
"""Who the sweep's writes are by: clocks, watches and plugin checks."""


@dataclass(frozen=True)
class BatchOutcome:
    """What :meth:`ServiceBase.change_each` did: the writes committed, the requests whose
    change raised (rolled back, each alone), and those another worker held."""

    done: list[WriteContext]
    failed: dict[int, Exception]
    skipped: list[int]


class RowLocked(Exception):
    """Another worker holds this request right now (PostgreSQL SKIP LOCKED)."""


class ServiceBase:
    def __init__(self, deps: ServiceDeps) -> None:
        self.deps = deps
        self.db = deps.db
        self.host = deps.host
        self.settings = deps.settings
        self.clock = deps.clock
        self.hooks = deps.hooks

    # --- identity and visibility ---------------------------------------------------------

    def reference(self, request_id: int) -> str:
        """The reference people see for a request id: the deployment's prefix and five digits
        (``SPOC-00042``)."""
        return request_reference(self.settings, request_id)

    def parse_reference(self, reference: str) -> int | None:
        """The request id in a reference such as ``SPOC-00042``, or ``None`` when it is not one of
        this deployment's references."""
        prefix, _, number = reference.strip().upper().partition("-")
        if prefix != self.settings.reference_prefix or not number.isascii():
            return None
        if not number.isdigit() or len(number) > 10 or int(number) > MAX_RECORD_ID:
            return None  # no request has such a number: a bigger one is no row's id
        return int(number)

    def today(self) -> date:
        """Today's date in the organisation's time zone (``SPOC_TIMEZONE``), by the app's clock."""
        return self.clock.now().astimezone(self.settings.tz).date()

    def can_see(self, session: Session, request: Request, actor: Actor) -> bool:
        if actor.kind is ActorKind.SYSTEM:
            return True
        if actor.kind is ActorKind.REQUESTER:
            # The requester, or a contact copied on the request (a CC).
            return request.contact_id == actor.id or bool(
                session.scalar(
                    select(
                        exists().where(
                            RequestCc.request_id == request.id, RequestCc.contact_id == actor.id
                        )
                    )
                )
            )
        if actor.role is not Role.SPECIALIST:
            return True
        if request.owner_agent_id == actor.id:
            return True
        return bool(
            session.scalar(
                select(
                    exists().where(
                        Escalation.request_id == request.id,
                        Escalation.to_team_id == TeamMember.team_id,
                        TeamMember.agent_id == actor.id,
                    )
                )
            )
        )

    def load_visible(self, session: Session, request_id: int, actor: Actor) -> Request:
        request = session.get(Request, request_id)
        # Invisible and missing look the same, so references cannot be probed.
        if request is None or not self.can_see(session, request, actor):
            raise NotFoundError(f"{self.reference(request_id)} not found")
        return request

    @staticmethod
    def require_staff(actor: Actor, action: str, roles: tuple[Role, ...]) -> None:
        if actor.kind is ActorKind.SYSTEM:
            return
        if actor.kind is not ActorKind.AGENT or actor.role not in roles:
            who = actor.role_name
            raise PermissionDenied(f"a {who} may not {action}")

    @staticmethod
    def team_by_key(session: Session, key: str, *, create: bool = False) -> Team | None:
        team = session.scalar(select(Team).where(Team.key == key))
        if team is not None or not create:
            return team
        # The desk team must always exist: a request is never left without an owner. Two
        # intakes may race to create it; the savepoint lets the loser read the winner's row.
        try:
            with session.begin_nested():
                team = Team(key=key, name=f"{key.replace('_', ' ').title()} team", description="")
                session.add(team)
        except IntegrityError:
            team = session.scalar(select(Team).where(Team.key == key))
        return team

    # --- the write path ------------------------------------------------------------------

    @contextmanager
    def changing(
        self,
        request_id: int,
        actor: Actor,
        expected_version: int | None,
        *,
        skip_locked: bool = False,
    ) -> Iterator[WriteContext]:
        """The one write path for a request (see the module docstring). ``skip_locked`` is
        for the sweep: :class:`RowLocked` when another worker holds the row."""
        reference = self.reference(request_id)
        read_version: int | None = None
        try:
            with self.db.transaction() as session:
                if skip_locked:
                    # The sweep: on PostgreSQL another worker holding this row means it is
                    # being handled; SQLite's write lock already serialises writers.
                    locked = session.scalar(
                        select(Request)
                        .where(Request.id == request_id)
                        .with_for_update(skip_locked=True)
                    )
                    if locked is None:
                        raise RowLocked(reference)
                request = self.load_visible(session, request_id, actor)
                read_version = request.version
                if expected_version is not None and request.version != expected_version:
                    raise ConflictError(reference, request.version)
                last = session.scalar(
                    select(func.max(TimelineEvent.seq)).where(
                        TimelineEvent.request_id == request_id
                    )
                )
                write = WriteContext(session, request, actor, self.clock.now(), (last or 0) + 1)
                # No autoflush while the change is being made: a query half-way must not
                # write the request row early, or its version would move twice.
                with session.no_autoflush:
                    yield write
                    if write.events:
                        self.observe(write)
                if write.events:
                    # Every write bumps the version, even when only the timeline grew and the
                    # clock shows the same instant: flag_modified forces the versioned UPDATE.
                    request.updated_at = write.now
                    flag_modified(request, "updated_at")
                    session.flush()
                    self.observe_late(write)
        except StaleDataError:
            raise ConflictError(reference, self._current_version(request_id)) from None
        except IntegrityError:
            current = self._current_version(request_id)
            if read_version is not None and current != read_version:
                raise ConflictError(reference, current) from None
            raise
        self.emit(write.request, write.events, actor)

    @contextmanager
    def changing_together(
        self, request_ids: Sequence[int], actor: Actor
    ) -> Iterator[list[WriteContext]]:
        """The write path for several requests at once (a merge, a link): one transaction,
        each request read, versioned, observed and announced as :meth:`changing` does for one.
        Rows are read in id order, so two such writes never wait on each other in a circle."""
        writes: dict[int, WriteContext] = {}
        try:
            with self.db.transaction() as session:
                now = self.clock.now()
                for request_id in sorted(set(request_ids)):
                    request = self.load_visible(session, request_id, actor)
                    last = session.scalar(
                        select(func.max(TimelineEvent.seq)).where(
                            TimelineEvent.request_id == request_id
                        )
                    )
                    writes[request_id] = WriteContext(session, request, actor, now, (last or 0) + 1)
                with session.no_autoflush:
                    yield [writes[r] for r in request_ids]
                    for write in writes.values():
                        self.observe(write)
                for write in writes.values():
                    if write.events:
                        write.request.updated_at = write.now
                        flag_modified(write.request, "updated_at")
                session.flush()
                for write in writes.values():
                    if write.events:
                        self.observe_late(write)
        except StaleDataError:
            first = min(request_ids)
            raise ConflictError(self.reference(first), self._current_version(first)) from None
        for write in writes.values():
            self.emit(write.request, write.events, actor)

    def change_each(
        self,
        request_ids: Sequence[int],
        actor: Actor,
        change: Callable[[WriteContext], None],
    ) -> BatchOutcome:
        """The sweep's write path for many requests: one transaction for them all. The rows
        are claimed in one statement — on PostgreSQL ``FOR UPDATE SKIP LOCKED``, so rows
        another worker holds are left to it (``skipped``); on SQLite the transaction holds the
        write lock. Each request's ``change`` runs in its own savepoint and is observed and
        flushed as :meth:`changing` does (its version moves by one); a change that raises is
        rolled back alone and returned in ``failed``, the others commit. Announced after
        commit."""
        done: list[WriteContext] = []
        failed: dict[int, Exception] = {}
        with self.db.transaction() as session:
            claimed = {
                r.id: r
                for r in session.scalars(
                    select(Request)
                    .where(Request.id.in_(list(request_ids)))
                    .order_by(Request.id)
                    .with_for_update(skip_locked=True)
                )
            }
            last = dict(
                session.execute(
                    select(TimelineEvent.request_id, func.max(TimelineEvent.seq))
                    .where(TimelineEvent.request_id.in_(list(claimed)))
                    .group_by(TimelineEvent.request_id)
                ).all()
            )
            now = self.clock.now()
            memo: dict[object, Any] = {}
            for request_id in request_ids:
                if (request := claimed.get(request_id)) is None:
                    continue
                seq = (last.get(request_id) or 0) + 1
                write = WriteContext(session, request, actor, now, seq, memo)
                try:
                    with session.begin_nested():
                        with session.no_autoflush:
                            change(write)
                            self.observe(write)
                        if write.events:
                            request.updated_at = write.now
                            flag_modified(request, "updated_at")
                            session.flush()
                            self.observe_late(write)
                            session.flush()
                except Exception as exc:  # this request alone; the caller retries it alone
                    failed[request_id] = exc
                    continue
                done.append(write)
        for write in done:
            self.emit(write.request, write.events, actor)
        skipped = [i for i in request_ids if i not in claimed]
        return BatchOutcome(done, failed, skipped)

    def observe(self, write: WriteContext) -> None:
        """Run the write observers. They see unflushed objects and must not flush: the request
        row is written once per call, so its version moves by exactly one."""
        if write.events:
            for observer in self.deps.observers:
                observer(write)

    def observe_late(self, write: WriteContext) -> None:
        for observer in self.deps.late_observers:
            observer(write)

    def _current_version(self, request_id: int) -> int | None:
        with self.db.reader() as session:
            return session.scalar(select(Request.version).where(Request.id == request_id))

    def emit(self, request: Request, events: list[TimelineEvent], actor: Actor) -> None:
        for event in events:
            self.hooks.notify(
                hookspecs.spoc_request_event,
                spoc=self.hooks.spoc,
                event=RequestEvent(
                    kind=event.kind,
                    request_id=request.id,
                    reference=self.reference(request.id),
                    type_key=request.type_key,
                    status=request.status,
                    priority=request.priority,
                    version=request.version,
                    actor=actor,
                    at=event.at,
                    data=dict(event.data),
                ),
            )
