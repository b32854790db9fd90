"""Staff reads of requests and subjects: who is responsible, and the ``spoc_staff_access`` hook.

The core's own visibility rules (specialists see only their teams' escalations, and so on)
run first, in the services. This module adds what regulated industries need on top: every read
is reported to plugins (a hospital writes it to a tamper-evident access log), and a plugin may
demand a break-glass reason from a reader who is not responsible for the record.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from spoc.core.domain.audit import RECENT_SELF_CHANGE, AuditAction, record_admin_change
from spoc.core.domain.models import (
    AdminAuditEntry,
    Escalation,
    Request,
    Subject,
    SubjectDeputy,
    TeamMember,
)
from spoc.core.kernel.clock import Clock
from spoc.core.kernel.errors import ServiceError, ValidationFailed
from spoc.core.kernel.types import Actor, ActorKind, Role, StaffAccess
from spoc.core.platform import hookspecs
from spoc.core.platform.dispatch import Hooks
from spoc.core.storage.db import Database

if TYPE_CHECKING:
    from spoc.core.platform.plugins import PluginHost
    from spoc.core.services import Spoc

REASON_MIN = 10
REASON_MAX = 500
REASON_HEADER = "SPOC-Access-Reason"
MASKED = "(restricted)"
"""What a list shows instead of the name or summary of a private record its reader may not
open without a reason."""
BREAK_GLASS_WINDOW = timedelta(minutes=15)
"""How long one break-glass reason is kept: the console keeps it in the session this long, and
the same reason for the same record within it is one entry in the admin audit trail."""


def clean_reason(text: str | None, *, field: str = "reason") -> str | None:
    """The one rule for a break-glass reason: trimmed, at least ``REASON_MIN`` characters, cut
    at ``REASON_MAX``. ``None`` or blank: no reason given. Too short: :class:`ValidationFailed`
    naming ``field``."""
    given = (text or "").strip()
    if not given:
        return None
    if len(given) < REASON_MIN:
        raise ValidationFailed(
            f"a break-glass reason needs at least {REASON_MIN} characters",
            {field: f"say why you need this record: at least {REASON_MIN} characters"},
        )
    return given[:REASON_MAX]


def private_subject_kind(host: PluginHost, kind: str | None) -> bool:
    """Whether subjects of ``kind`` hold special-category data (the kind is marked private)."""
    found = host.subject_kinds.get(kind) if kind else None
    return bool(found is not None and found.private)


def private_request(host: PluginHost, request_type_key: str, subject_kind: str | None) -> bool:
    """A request of a private type, or about a private subject."""
    request_type = host.request_types.get(request_type_key)
    if request_type is None or request_type.private:
        return True
    return private_subject_kind(host, subject_kind)


def may_change_people(session: Session, actor: Actor, subject: Subject | None) -> bool:
    """Who may change the SPOC, deputies or request owners of a private subject: an admin or
    the subject's current SPOC (the system, too). Callers check privacy first."""
    if actor.kind is ActorKind.SYSTEM:
        return True
    if actor.kind is not ActorKind.AGENT or actor.id is None:
        return False
    if actor.role is Role.ADMIN:
        return True
    return subject is not None and subject.spoc_agent_id == actor.id


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
    """Tell plugins about a staff read; raise :class:`AccessReasonRequired` if one refuses
    (:func:`report_staff_read` with the app's database, hooks and clock)."""
    report_staff_read(
        spoc.db,
        spoc.hooks,
        spoc.clock,
        actor,
        what,
        channel,
        request=request,
        subject_id=subject_id,
        reason=reason,
    )


def report_staff_read(
    db: Database,
    hooks: Hooks,
    clock: Clock,
    actor: Actor,
    what: str,
    channel: str,
    *,
    request: Request | None = None,
    subject_id: int | None = None,
    reason: str | None = None,
    reason_field: str = "reason",
) -> None:
    """Tell plugins about a staff read; raise :class:`AccessReasonRequired` if one refuses.

    ``reason`` is a break-glass reason the reader gave (checked by :func:`clean_reason`). A
    responsibility the reader gave themselves lately (they put themselves in the subject's people
    or made themselves owner, within ``RECENT_SELF_CHANGE``) does not make the read "own".
    A read that is not own and gives a reason is break-glass use: it goes to the admin audit
    trail once per reason and record within ``BREAK_GLASS_WINDOW``."""
    if actor.kind is not ActorKind.AGENT or actor.id is None:
        return
    if not hooks.implemented(hookspecs.spoc_staff_access):
        return  # nobody listens: skip the responsibility queries
    subject_id = request.subject_id if request is not None else subject_id
    given = clean_reason(reason, field=reason_field)
    now = clock.now()
    with db.reader() as session:
        if request is not None:
            own = responsible_for_request(session, actor.id, request)
        else:
            own = subject_id is not None and responsible_for_subject(session, actor.id, subject_id)
        if own and _gave_themselves(session, actor.id, request, subject_id, now):
            own = False
        subject = session.get(Subject, subject_id) if subject_id is not None else None
    access = StaffAccess(
        actor=actor,
        what=what,
        channel=channel,
        own=own,
        at=now,
        request_id=request.id if request is not None else None,
        subject_id=subject_id,
        subject_kind=subject.kind if subject is not None else None,
        reason=given,
    )
    refusals = [
        answer
        for _, answer in hooks.each(hookspecs.spoc_staff_access, access=access, spoc=hooks.spoc)
    ]
    if refusals:
        raise AccessReasonRequired(" ".join(r.message for r in refusals))
    if not own and given is not None:
        _record_break_glass(db, now, actor, what, channel, request, subject_id, given)


def _people(data: Any) -> set[int]:
    if not isinstance(data, dict):
        return set()
    found = {data.get("spoc"), data.get("owner_agent_id"), *(data.get("deputies") or [])}
    return {p for p in found if isinstance(p, int)}


def _gave_themselves(
    session: Session, agent_id: int, request: Request | None, subject_id: int | None, now: Any
) -> bool:
    """Whether the reader's responsibility comes from a change they made lately: they put
    themselves in a subject's people, or made themselves (or a team of theirs) owner of one of
    its requests (or of this request)."""
    since = now - RECENT_SELF_CHANGE
    targets = []
    if request is not None:
        targets.append(
            (AdminAuditEntry.target_kind == "request") & (AdminAuditEntry.target_id == request.id)
        )
    if subject_id is not None:
        targets.append(
            (AdminAuditEntry.target_kind == "subject") & (AdminAuditEntry.target_id == subject_id)
        )
        targets.append(
            (AdminAuditEntry.target_kind == "request")
            & AdminAuditEntry.target_id.in_(
                select(Request.id).where(Request.subject_id == subject_id)
            )
        )
    if not targets:
        return False
    entries = session.execute(
        select(AdminAuditEntry.before, AdminAuditEntry.after).where(
            AdminAuditEntry.actor_id == agent_id,
            AdminAuditEntry.action.in_((AuditAction.SUBJECT_PEOPLE, AuditAction.REQUEST_OWNER)),
            AdminAuditEntry.at >= since,
            or_(*targets),
        )
    ).all()
    if not entries:
        return False
    subject = session.get(Subject, subject_id) if subject_id is not None else None
    if subject is not None and subject.spoc_agent_id == agent_id:
        # The SPOC's own changes (a deputy, taking a request) do not unmake them responsible;
        # only having made themselves the SPOC does.
        return any(
            isinstance(after, dict)
            and after.get("spoc") == agent_id
            and (not isinstance(before, dict) or before.get("spoc") != agent_id)
            for before, after in entries
        )
    teams = set(session.scalars(_teams_of(agent_id)))
    for before, after in entries:
        if agent_id in _people(after) - _people(before):
            return True
        team = after.get("owner_team_id") if isinstance(after, dict) else None
        if team in teams and (not isinstance(before, dict) or before.get("owner_team_id") != team):
            return True
    return False


def _record_break_glass(
    db: Database,
    now: datetime,
    actor: Actor,
    what: str,
    channel: str,
    request: Request | None,
    subject_id: int | None,
    reason: str,
) -> None:
    """Once per reason granted: the same reader, record and reason within the window is one
    entry, however many pages they open with it."""
    target_kind, target_id = (
        ("request", request.id) if request is not None else ("subject", subject_id)
    )
    summary = f"Break-glass on {target_kind} {target_id}: {reason}"[:500]
    with db.transaction() as session:
        seen = session.scalar(
            select(AdminAuditEntry.id)
            .where(
                AdminAuditEntry.action == AuditAction.BREAK_GLASS,
                AdminAuditEntry.actor_id == actor.id,
                AdminAuditEntry.target_kind == target_kind,
                AdminAuditEntry.target_id == target_id,
                AdminAuditEntry.summary == summary,
                AdminAuditEntry.at >= now - BREAK_GLASS_WINDOW,
            )
            .limit(1)
        )
        if seen is not None:
            return
        record_admin_change(
            session,
            actor,
            AuditAction.BREAK_GLASS,
            target_kind,
            target_id,
            summary,
            at=now,
            after={"reason": reason, "what": what, "channel": channel, "subject_id": subject_id},
        )


# --- lists: what a reader may see of records they do not open one by one -------------------


def specialist_may_see(agent_id: int) -> Any:
    """A where-clause on :class:`Request`: what a specialist may open (they own it, or it was
    escalated to a team of theirs) — the list form of the services' ``can_see``."""
    return or_(
        Request.owner_agent_id == agent_id,
        exists().where(
            Escalation.request_id == Request.id,
            Escalation.to_team_id == TeamMember.team_id,
            TeamMember.agent_id == agent_id,
        ),
    )


def responsible_subject_ids(session: Session, agent_id: int, subject_ids: set[int]) -> set[int]:
    """Of ``subject_ids`` (one page of a list), those the agent is SPOC, deputy or a request
    owner of: two indexed queries per page, never one per row."""
    if not subject_ids:
        return set()
    found = set(
        session.scalars(
            select(Subject.id).where(Subject.id.in_(subject_ids), Subject.spoc_agent_id == agent_id)
        )
    )
    found |= set(
        session.scalars(
            select(SubjectDeputy.subject_id).where(
                SubjectDeputy.subject_id.in_(subject_ids), SubjectDeputy.agent_id == agent_id
            )
        )
    )
    found |= set(
        session.scalars(
            select(Request.subject_id)
            .where(
                Request.subject_id.in_(subject_ids - found),
                or_(
                    Request.owner_agent_id == agent_id,
                    Request.owner_team_id.in_(_teams_of(agent_id)),
                ),
            )
            .distinct()
        )
    )
    return found


def masked_subject_ids(
    session: Session, host: PluginHost, actor: Actor, subjects: list[Subject]
) -> set[int]:
    """Which subjects of a list page show no name or reference to ``actor``: private subjects
    the reader is not responsible for; admins see every row."""
    private = {s.id for s in subjects if private_subject_kind(host, s.kind)}
    if not private or actor.id is None:
        return private
    return private - responsible_subject_ids(session, actor.id, private)


def masked_request_ids(
    session: Session, host: PluginHost, actor: Actor, requests: list[Request]
) -> set[int]:
    """Which requests of a list page show no summary or requester to ``actor``: private ones it
    is not responsible for (not the owner or on the owning team, not on a team it was
    escalated to, not responsible for its subject). Admins too: a list shows what a single
    read would show without a break-glass reason. At most four indexed queries per page."""
    subject_ids = {r.subject_id for r in requests if r.subject_id}
    kinds: dict[int, str] = {
        ident: kind
        for ident, kind in session.execute(
            select(Subject.id, Subject.kind).where(Subject.id.in_(subject_ids))
        )
    }
    private = [
        r for r in requests if private_request(host, r.type_key, kinds.get(r.subject_id or 0))
    ]
    if not private or actor.id is None:
        return {r.id for r in private}
    teams = set(session.scalars(_teams_of(actor.id)))
    open_to_reader = {
        r.id for r in private if r.owner_agent_id == actor.id or r.owner_team_id in teams
    }
    if teams:
        open_to_reader |= set(
            session.scalars(
                select(Escalation.request_id).where(
                    Escalation.request_id.in_([r.id for r in private]),
                    Escalation.to_team_id.in_(teams),
                )
            )
        )
    responsible = responsible_subject_ids(
        session, actor.id, {r.subject_id for r in private if r.subject_id}
    )
    return {
        r.id
        for r in private
        if r.id not in open_to_reader and (r.subject_id is None or r.subject_id not in responsible)
    }


def masked_contact_ids(
    session: Session, host: PluginHost, actor: Actor, contact_ids: set[int]
) -> set[int]:
    """Which contacts of a list page show no name or email to ``actor``: those who filed a
    private request the reader could not open without a reason (knowing that someone is a
    patient is itself special-category data)."""
    if not contact_ids:
        return set()
    private_types = [t.key for t in host.request_types if t.private]
    private_kinds = [k.key for k in host.subject_kinds if k.private]
    rows = list(
        session.scalars(
            select(Request)
            .outerjoin(Subject, Subject.id == Request.subject_id)
            .where(
                Request.contact_id.in_(contact_ids),
                or_(Request.type_key.in_(private_types), Subject.kind.in_(private_kinds)),
            )
            .limit(1000)
        )
    )
    masked_requests = masked_request_ids(session, host, actor, rows)
    return {r.contact_id for r in rows if r.id in masked_requests}
