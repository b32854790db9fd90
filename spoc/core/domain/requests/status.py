"""Status changes: the lifecycle rules applied, plugins asked to keep a request open."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc.core.domain.lifecycle import check_transition
from spoc.core.domain.models import (
    Escalation,
    Request,
    Visibility,
)
from spoc.core.domain.requests.base import RequestReads
from spoc.core.domain.writes import WriteContext
from spoc.core.kernel.errors import (
    IllegalTransition,
)
from spoc.core.kernel.types import (
    Actor,
    ActorKind,
    Priority,
    Status,
)
from spoc.core.platform import hookspecs


class RequestStatus(RequestReads):
    def transition(
        self,
        request_id: int,
        target: Status | str,
        actor: Actor,
        *,
        expected_version: int | None = None,
        reason: str | None = None,
    ) -> Request:
        """Move the request to status ``target`` by the lifecycle's rules for ``actor``'s role;
        ``IllegalTransition`` when the move is not allowed, ``ConflictError`` when
        ``expected_version`` is stale. ``reason`` is recorded on the timeline."""
        target = Status(target)
        with self.changing(request_id, actor, expected_version) as write:
            self.set_status(write, target, reason)
        return write.request

    def kept_open(self, session: Session, request: Request) -> str | None:
        """Why plugins say ``request`` must not be resolved or closed automatically, if so."""
        reasons = self.hooks.each(
            hookspecs.spoc_keep_open, request=request, session=session, spoc=self.hooks.spoc
        )
        return "; ".join(str(reason) for _, reason in reasons) or None

    def set_status(self, write: WriteContext, target: Status, reason: str | None) -> None:
        request, actor = write.request, write.actor
        current = request.status
        check_transition(current, target, actor)
        automatic = actor.kind is ActorKind.SYSTEM and target in (Status.RESOLVED, Status.CLOSED)
        if automatic and (held := self.kept_open(write.session, request)):
            raise IllegalTransition(f"only a person may resolve or close this request: {held}")
        request.status = target
        if target is Status.RESOLVED:
            request.resolved_at = write.now
        elif target is Status.OPEN and current is Status.RESOLVED:
            request.resolved_at = None
        if target.is_final:
            request.closed_at = write.now
            request.closed_by = write.actor.name or actor.kind.value
            request.close_reason = reason or _default_close_reason(target, actor)
        write.record(
            "status_changed",
            f"{current.value} → {target.value}" + (f": {reason}" if reason else ""),
            {"from": current.value, "to": target.value, "reason": reason},
        )
        if target.is_final:
            for escalation in self._open_escalations(write):
                escalation.handed_back_at = write.now
                request.escalation_level = 0
                write.record(
                    "handed_back",
                    f"Escalation level {escalation.level} closed with the request",
                    {"escalation_id": escalation.id, "level": 0, "auto": True},
                    visibility=Visibility.INTERNAL,
                )

    @staticmethod
    def _open_escalations(write: WriteContext) -> list[Escalation]:
        return list(
            write.session.scalars(
                select(Escalation)
                .where(
                    Escalation.request_id == write.request.id, Escalation.handed_back_at.is_(None)
                )
                .order_by(Escalation.level.desc(), Escalation.id.desc())
            )
        )

    @staticmethod
    def set_priority(write: WriteContext, target: Priority, reason: str) -> None:
        current = write.request.priority
        write.request.priority = target
        write.record(
            "priority_changed",
            f"Priority {current.value} → {target.value}: {reason.strip()}",
            {"from": current.value, "to": target.value, "reason": reason.strip()},
            visibility=Visibility.INTERNAL,
        )


def _default_close_reason(target: Status, actor: Actor) -> str:
    if target is Status.CANCELLED:
        return "cancelled by the requester" if actor.kind is ActorKind.REQUESTER else "cancelled"
    if actor.kind is ActorKind.REQUESTER:
        return "confirmed resolved by the requester"
    if actor.kind is ActorKind.SYSTEM:
        return "closed automatically after resolution"
    return "closed by staff"


def _status_after_message(current: Status, actor: Actor, internal: bool) -> Status | None:
    if internal:
        return None
    if actor.kind in (ActorKind.AGENT, ActorKind.SYSTEM) and current is Status.NEW:
        return Status.OPEN
    if actor.kind is ActorKind.REQUESTER and current in (Status.WAITING, Status.RESOLVED):
        return Status.OPEN
    return None
