"""Watches: a deadline the sweep acts on once, then settles.

A plugin arms a watch in its own transaction (:meth:`WatchService.arm`) for a request or a
subject, with a cause namespaced by the plugin (``healthcare:referral_not_accepted``) and a due
time. When it falls due, the sweep (:func:`fire_due_watches`) claims it under a lock — the
request's row lock for a request's watch, the watch's own row for a subject's — runs the owning
plugin's ``spoc_watch_due``, escalates the request to ``escalate_to`` if one was given (once per
request and cause), and settles the watch, all in one transaction: a crash half-way rolls all
of it back and leaves the watch due for the next pass, so it is never lost and never acted on
twice. The hook may answer a :class:`~spoc.core.kernel.types.WatchOutcome` instead: escalate
elsewhere or not at all, or re-arm the watch for a later time rather than settle it. The due
ones are read through one indexed range, ``(settled_at, due_at)``, bounded by the pass's
limit, like the SLA deadlines.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from spoc.core.domain.escalation import EscalationService
from spoc.core.domain.models import Watch
from spoc.core.domain.writes import SWEEPER, RowLocked, ServiceBase, WriteContext
from spoc.core.kernel.clock import Clock
from spoc.core.kernel.errors import PluginContractError, PluginError
from spoc.core.kernel.types import WatchOutcome
from spoc.core.platform import hookspecs
from spoc.core.platform.dispatch import Hooks
from spoc.core.platform.plugins import PluginHost
from spoc.core.storage.db import Database

log = logging.getLogger(__name__)

CAUSE = re.compile(r"^[a-z][a-z0-9_]*:[a-z0-9_][a-z0-9_.:-]*$")
MAX_CAUSE = 100


class WatchService:
    """Arm, move, settle and disarm watches, inside the caller's transaction."""

    def __init__(self, host: PluginHost, clock: Clock) -> None:
        self.host = host
        self.clock = clock

    def arm(
        self,
        session: Session,
        cause: str,
        due_at: datetime,
        *,
        request_id: int | None = None,
        subject_id: int | None = None,
        escalate_to: str | None = None,
        reason: str = "",
    ) -> Watch:
        """Arm the watch ``cause`` on a request (or a subject) to fall due at ``due_at``.

        Idempotent per request (or subject) and cause: arming an unsettled watch again moves
        its due time (and its ``escalate_to`` and ``reason``); a settled watch has fired or was
        dealt with, and stays settled. ``escalate_to`` (a team key, request watches only) makes
        the sweep escalate the request to that team when it falls due. Raises
        :class:`PluginError` for a cause not namespaced by an enabled plugin."""
        self._check(cause, request_id, subject_id)
        if escalate_to is not None and request_id is None:
            raise PluginError(
                _owner(cause), f"watch {cause!r}: only a request's watch can escalate"
            )
        watch = self.find(session, cause, request_id=request_id, subject_id=subject_id)
        if watch is None:
            watch = Watch(
                cause=cause,
                request_id=request_id,
                subject_id=subject_id,
                armed_at=self.clock.now(),
            )
            session.add(watch)
        elif watch.settled_at is not None:
            return watch
        watch.due_at, watch.escalate_to, watch.reason = due_at, escalate_to, reason[:300]
        session.flush()
        return watch

    def settle(
        self,
        session: Session,
        cause: str,
        *,
        request_id: int | None = None,
        subject_id: int | None = None,
    ) -> bool:
        """The awaited thing happened: the watch will not fire. False if there was no unsettled
        watch for this request (or subject) and cause."""
        self._check(cause, request_id, subject_id)
        watch = self.find(session, cause, request_id=request_id, subject_id=subject_id)
        return watch is not None and self._settle(watch)

    def settle_by_id(self, session: Session, watch_id: int) -> bool:
        """Settle the watch with this id (as returned by :meth:`arm`); False if it was not
        found or already settled. A conditional UPDATE: of two transactions settling the same
        watch at once exactly one gets True, so a plugin may use it to claim a due watch (see
        :meth:`due`) and roll its own work back when it gets False."""
        done = session.execute(
            update(Watch)
            .where(Watch.id == watch_id, Watch.settled_at.is_(None))
            .values(settled_at=self.clock.now())
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    def due(self, session: Session, prefix: str, now: datetime, limit: int) -> list[Watch]:
        """The unsettled watches whose cause starts with ``prefix`` (``<plugin>:`` or longer)
        and whose due time has come at ``now``, oldest first, at most ``limit``; read through
        the sweep's index.

        For a plugin whose action on a due watch needs a transaction of its own — opening a
        request through intake — and so cannot run inside ``spoc_watch_due``: its
        ``spoc_sweep_tasks`` (which run before the sweep fires watches) acts on each and
        claims it with :meth:`settle_by_id` in that transaction. One it leaves due is fired
        by the sweep as usual. Raises :class:`PluginError` for a prefix that does not start
        with an enabled plugin's namespace."""
        self._check_cause_prefix(prefix)
        return list(
            session.scalars(
                select(Watch)
                .where(
                    Watch.settled_at.is_(None),
                    Watch.due_at <= now,
                    Watch.cause.startswith(prefix, autoescape=True),
                )
                .order_by(Watch.due_at, Watch.id)
                .limit(limit)
            )
        )

    def disarm(
        self,
        session: Session,
        cause: str,
        *,
        request_id: int | None = None,
        subject_id: int | None = None,
    ) -> bool:
        """Take back a watch that has not fired, as if it had never been armed (it may be armed
        again later). A settled watch stays. True if one was removed."""
        self._check(cause, request_id, subject_id)
        watch = self.find(session, cause, request_id=request_id, subject_id=subject_id)
        if watch is None or watch.settled_at is not None:
            return False
        session.delete(watch)
        session.flush()
        return True

    def find(
        self,
        session: Session,
        cause: str,
        *,
        request_id: int | None = None,
        subject_id: int | None = None,
    ) -> Watch | None:
        """The watch for this request (or subject) and cause, settled or not."""
        where = (
            Watch.request_id == request_id
            if request_id is not None
            else Watch.subject_id == subject_id
        )
        return session.scalar(select(Watch).where(where, Watch.cause == cause))

    def _settle(self, watch: Watch) -> bool:
        if watch.settled_at is not None:
            return False
        watch.settled_at = self.clock.now()
        return True

    def _check_cause_prefix(self, prefix: str) -> None:
        plugin, colon, _ = prefix.partition(":")
        if not colon or plugin not in self.host.enabled:
            raise PluginError(
                plugin, f"watch prefix {prefix!r}: must start with '<an enabled plugin>:'"
            )

    def _check(self, cause: str, request_id: int | None, subject_id: int | None) -> None:
        if (request_id is None) == (subject_id is None):
            raise PluginError(
                _owner(cause), f"watch {cause!r}: give a request_id or a subject_id, not both"
            )
        if len(cause) > MAX_CAUSE or not CAUSE.match(cause):
            raise PluginError(
                _owner(cause),
                f"watch cause {cause!r} must be '<plugin>:<name>' (lower case, at most "
                f"{MAX_CAUSE} characters)",
            )
        plugin = _owner(cause)
        if plugin not in self.host.enabled:
            raise PluginError(plugin, f"watch cause {cause!r}: no enabled plugin of that name")


def _owner(cause: str) -> str:
    return cause.partition(":")[0]


@dataclass
class WatchPass:
    """What one sweep pass did with the due watches."""

    fired: int = 0
    escalated: int = 0
    rearmed: int = 0  # fired, and armed again for later instead of settled
    skipped: int = 0  # held by another worker
    errors: list[str] = field(default_factory=list)


def fire_due_watches(
    db: Database,
    hooks: Hooks,
    requests: ServiceBase,
    escalations: EscalationService,
    now: datetime,
    limit: int,
) -> WatchPass:
    """Fire the watches due at ``now``, oldest first, at most ``limit``.

    A request's watch is fired inside the sweep's write on that request (``requests.changing``
    with ``skip_locked``); a subject's under its own row lock. A watch whose hook fails is
    logged, reported and left due: its transaction rolled back, the next pass retries it. A
    watch of a plugin that is not enabled is settled without acting (see docs/decisions.md)."""
    with db.reader() as session:
        due = session.execute(
            select(Watch.id, Watch.request_id, Watch.cause)
            .where(Watch.settled_at.is_(None), Watch.due_at <= now)
            .order_by(Watch.due_at, Watch.id)
            .limit(limit)
        ).all()
    done = WatchPass()
    firing = _Firing(hooks, escalations, now, done)
    for watch_id, request_id, cause in due:
        try:
            if request_id is not None:
                with requests.changing(request_id, SWEEPER, None, skip_locked=True) as write:
                    firing.fire(write.session, watch_id, write)
            else:
                with db.transaction() as session:
                    firing.fire(session, watch_id, None)
        except RowLocked:
            done.skipped += 1
        except Exception as exc:
            plugin = cause.partition(":")[0]
            log.exception("plugin %r: watch %s (%s) failed; it stays due", plugin, watch_id, cause)
            done.errors.append(f"{plugin}: watch {watch_id} ({cause}): {type(exc).__name__}: {exc}")
    return done


class _Firing:
    def __init__(
        self, hooks: Hooks, escalations: EscalationService, now: datetime, done: WatchPass
    ) -> None:
        self.hooks, self.escalations, self.now, self.done = hooks, escalations, now, done

    def fire(self, session: Session, watch_id: int, write: WriteContext | None) -> None:
        """Claim one watch and act on it, in the caller's transaction."""
        query = select(Watch).where(
            Watch.id == watch_id, Watch.settled_at.is_(None), Watch.due_at <= self.now
        )
        if write is None:  # a subject's watch: its own row is the lock
            query = query.with_for_update(skip_locked=True)
        watch = session.scalar(query)
        if watch is None:
            return  # settled, moved or taken by another worker meanwhile
        plugin = watch.plugin
        if not self.hooks.pm.has_plugin(plugin):
            log.warning("watch %s (%s): plugin not enabled; settled unfired", watch.id, watch.cause)
            watch.settled_at = self.now
            return
        answer = self.hooks.ask(
            plugin,
            hookspecs.spoc_watch_due,
            watch=watch,
            session=session,
            spoc=self.hooks.spoc,
            now=self.now,
        )
        team, reason = watch.escalate_to, watch.reason
        if answer is not None:
            self._check_outcome(plugin, watch, answer, write)
            team = answer.escalate
            reason = answer.reason if answer.reason is not None else watch.reason
        if (
            write is not None
            and team
            and self.escalations.escalate_once(write, team, reason, f"plugin:{watch.cause}")
        ):
            self.done.escalated += 1
        if answer is not None and answer.rearm_at is not None:
            watch.due_at = answer.rearm_at
            self.done.rearmed += 1
        else:
            watch.settled_at = self.now
        self.done.fired += 1

    def _check_outcome(
        self, plugin: str, watch: Watch, answer: WatchOutcome, write: WriteContext | None
    ) -> None:
        hook = hookspecs.spoc_watch_due.__name__
        if answer.escalate is not None and write is None:
            raise PluginContractError(
                plugin,
                hook,
                f"watch {watch.id} ({watch.cause}) is a subject's: it cannot escalate "
                f"(escalate={answer.escalate!r})",
            )
        if answer.rearm_at is not None and answer.rearm_at <= self.now:
            raise PluginContractError(
                plugin,
                hook,
                f"watch {watch.id} ({watch.cause}): rearm_at {answer.rearm_at.isoformat()} "
                f"is not later than now ({self.now.isoformat()})",
            )
