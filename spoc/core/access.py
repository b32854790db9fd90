"""Staff reads of requests and subjects: who is responsible, and the ``spoc_staff_access`` hook.

The core's own visibility rules (specialists see only their teams' escalations, and so on)
run first, in the services. This module adds what regulated industries need on top: every read
is reported to plugins (a hospital writes it to a tamper-evident access log), and a plugin may
demand a break-glass reason from a reader who is not responsible for the record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from spoc.core.errors import ServiceError
from spoc.core.models import Escalation, Request, Subject, SubjectDeputy, TeamMember
from spoc.core.types import AccessRefused, Actor, ActorKind, StaffAccess

if TYPE_CHECKING:
    from spoc.core.app import Spoc

REASON_MAX = 500


class AccessReasonRequired(ServiceError):
    """A plugin asks the reader for a break-glass reason before showing the record."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _teams_of(agent_id: int) -> Select[int]:
    return select(TeamMember.team_id).where(TeamMember.agent_id == agent_id)


def responsible_for_subject(session: Session, agent_id: int, subject_id: int) -> bool:
    """The subject's SPOC, one of its deputies, or the owner of a request about it."""
    subject = session.get(Subject, subject_id)
    if subject is None:
        return False
    if subject.spoc_agent_id == agent_id:
        return True
    deputy = exists().where(
        SubjectDeputy.subject_id == subject_id, SubjectDeputy.agent_id == agent_id
    )
    owner = exists().where(
        Request.subject_id == subject_id,
        or_(Request.owner_agent_id == agent_id, Request.owner_team_id.in_(_teams_of(agent_id))),
    )
    return bool(session.scalar(select(deputy | owner)))


def responsible_for_request(session: Session, agent_id: int, request: Request) -> bool:
    """The owner (or on the owning team), on a team it was escalated to, or responsible for
    its subject."""
    if request.owner_agent_id == agent_id:
        return True
    teams: set[int] = set(session.scalars(_teams_of(agent_id)))
    if request.owner_team_id in teams:
        return True
    escalated = exists().where(
        Escalation.request_id == request.id, Escalation.to_team_id.in_(teams)
    )
    if teams and session.scalar(select(escalated)):
        return True
    return request.subject_id is not None and responsible_for_subject(
        session, agent_id, request.subject_id
    )


def check_staff_access(
    spoc: Spoc,
    actor: Actor,
    what: str,
    channel: str,
    *,
    request: Request | None = None,
    subject_id: int | None = None,
    reason: str | None = None,
) -> None:
    """Tell plugins about a staff read; raise :class:`AccessReasonRequired` if one refuses.

    ``reason`` is a break-glass reason the reader gave (trimmed, at most 500 characters)."""
    if actor.kind is not ActorKind.AGENT or actor.id is None:
        return
    if not spoc.host.pm.hook.spoc_staff_access.get_hookimpls():
        return  # nobody listens: skip the responsibility queries
    subject_id = request.subject_id if request is not None else subject_id
    with spoc.db.reader() as session:
        if request is not None:
            own = responsible_for_request(session, actor.id, request)
        else:
            own = subject_id is not None and responsible_for_subject(session, actor.id, subject_id)
        subject = session.get(Subject, subject_id) if subject_id is not None else None
    given = (reason or "").strip()[:REASON_MAX] or None
    access = StaffAccess(
        actor=actor,
        what=what,
        channel=channel,
        own=own,
        at=spoc.clock.now(),
        request_id=request.id if request is not None else None,
        subject_id=subject_id,
        subject_kind=subject.kind if subject is not None else None,
        reason=given,
    )
    refusals = [
        answer
        for _, answer in spoc.host.call_each("spoc_staff_access", access=access, spoc=spoc)
        if isinstance(answer, AccessRefused)
    ]
    if refusals:
        raise AccessReasonRequired(" ".join(r.message for r in refusals))
