"""The admin audit trail: who changed who may do or see what, when, before and after.

Every service that changes agents, roles, teams, a subject's SPOC or deputies, API tokens,
absences, or that lets a reader break the glass, calls :func:`record_admin_change` inside the
transaction of the change, so the trail and the change commit (or roll back) together. Rows are
never updated or deleted by SPOC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from spoc.core.domain.models import AdminAuditEntry
from spoc.core.kernel.types import Actor
from spoc.core.storage.keyset import Ordering


class AuditAction:
    """The actions the trail knows; filters on the console page offer these."""

    AGENT_ADDED = "agent.added"
    AGENT_CHANGED = "agent.changed"
    AGENT_UNLOCKED = "agent.unlocked"
    PASSWORD_CHANGED = "agent.password"  # noqa: S105 - an action name, not a secret
    TEAM_MEMBERS = "team.members"
    TEAM_ASSIGNMENT = "team.assignment"
    SUBJECT_PEOPLE = "subject.people"
    SUBJECTS_IMPORTED = "subject.imported"
    REQUEST_OWNER = "request.owner"
    REQUEST_SUBJECT_VERIFIED = "request.subject_verified"
    TOKEN_CREATED = "token.created"  # noqa: S105 - an action name, not a secret
    TOKEN_REVOKED = "token.revoked"  # noqa: S105 - an action name, not a secret
    ABSENCE_ADDED = "absence.added"
    ABSENCE_REMOVED = "absence.removed"
    BREAK_GLASS = "break_glass"
    CONTACT_EXPORTED = "contact.exported"
    CONTACT_ERASED = "contact.erased"
    CONTACT_SAVED = "contact.saved"
    CONTACTS_IMPORTED = "contact.imported"
    STRUCTURES_IMPORTED = "structure.imported"
    TWO_FACTOR_ENROLLED = "agent.two_factor_on"
    TWO_FACTOR_DISABLED = "agent.two_factor_off"
    TWO_FACTOR_RESET = "agent.two_factor_reset"
    TWO_FACTOR_RECOVERY_USED = "agent.recovery_code_used"
    SSO_AGENT_CREATED = "agent.created_by_sso"

    ALL: tuple[str, ...] = (
        AGENT_ADDED,
        AGENT_CHANGED,
        AGENT_UNLOCKED,
        PASSWORD_CHANGED,
        TEAM_MEMBERS,
        TEAM_ASSIGNMENT,
        SUBJECT_PEOPLE,
        SUBJECTS_IMPORTED,
        REQUEST_OWNER,
        REQUEST_SUBJECT_VERIFIED,
        TOKEN_CREATED,
        TOKEN_REVOKED,
        ABSENCE_ADDED,
        ABSENCE_REMOVED,
        BREAK_GLASS,
        CONTACT_EXPORTED,
        CONTACT_ERASED,
        CONTACT_SAVED,
        CONTACTS_IMPORTED,
        STRUCTURES_IMPORTED,
        TWO_FACTOR_ENROLLED,
        TWO_FACTOR_DISABLED,
        TWO_FACTOR_RESET,
        TWO_FACTOR_RECOVERY_USED,
        SSO_AGENT_CREATED,
    )


def record_admin_change(
    session: Session,
    actor: Actor,
    action: str,
    target_kind: str,
    target_id: int | None,
    summary: str,
    *,
    at: datetime,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AdminAuditEntry:
    """Append one entry in the caller's transaction. ``before``/``after`` hold plain JSON."""
    if action not in AuditAction.ALL and "." not in action:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AdminAuditEntry(
        at=at,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=(actor.name or actor.kind.value)[:200],
        action=action,
        target_kind=target_kind,
        target_id=target_id,
        summary=summary[:500],
        before=dict(before or {}),
        after=dict(after or {}),
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    actor_id: int | None = None
    target_kind: str | None = None
    target_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


AUDIT_ORDER = Ordering("audit", AdminAuditEntry.id.desc())
"""The trail's one ordering, newest first (served by the primary key), for the console's
page, its CSV and the API: page it with ``spoc.pager``."""


def audit_query(where: AuditFilter) -> Select[AdminAuditEntry]:
    """The entries ``where`` selects, to be paged in :data:`AUDIT_ORDER`."""
    query = select(AdminAuditEntry)
    if where.action:
        query = query.where(AdminAuditEntry.action == where.action)
    if where.actor_id is not None:
        query = query.where(AdminAuditEntry.actor_id == where.actor_id)
    if where.target_kind:
        query = query.where(AdminAuditEntry.target_kind == where.target_kind)
    if where.target_id is not None:
        query = query.where(AdminAuditEntry.target_id == where.target_id)
    if where.since is not None:
        query = query.where(AdminAuditEntry.at >= where.since)
    if where.until is not None:
        query = query.where(AdminAuditEntry.at < where.until)
    return query


def audit_entries(
    session: Session, where: AuditFilter, *, limit: int = 50
) -> Sequence[AdminAuditEntry]:
    """The newest ``limit`` entries ``where`` selects (a list's first page, for a check)."""
    return list(
        session.scalars(audit_query(where).order_by(AdminAuditEntry.id.desc()).limit(limit))
    )


def changed_by_since(
    session: Session, agent_id: int, target_kind: str, target_id: int, since: datetime
) -> bool:
    """Whether ``agent_id`` changed the people of this target at or after ``since``: a
    responsibility one gave oneself lately does not count as being responsible."""
    found = session.scalar(
        select(AdminAuditEntry.id)
        .where(
            AdminAuditEntry.target_kind == target_kind,
            AdminAuditEntry.target_id == target_id,
            AdminAuditEntry.actor_id == agent_id,
            AdminAuditEntry.at >= since,
        )
        .limit(1)
    )
    return found is not None


RECENT_SELF_CHANGE = timedelta(days=30)
"""How long a change one made to a record's people keeps "responsible" from counting."""
