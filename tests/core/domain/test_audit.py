"""The admin audit trail records every change of who may do or see what, before and after."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from spoc import Role
from spoc.core.domain.audit import AuditAction, AuditFilter, audit_entries
from spoc.core.domain.models import AdminAuditEntry
from spoc.core.kernel.errors import ValidationFailed
from tests.conftest import Org


def _entries(org: Org, **where: object) -> list[AdminAuditEntry]:
    with org.spoc.db.reader() as session:
        return list(audit_entries(session, AuditFilter(**where)))  # type: ignore[arg-type]


def test_changing_a_subjects_deputies_is_audited_with_before_and_after(org: Org) -> None:
    org.spoc.directory.set_subject_people(
        org.actor(org.ada), org.account.id, org.dana.id, [org.sam.id]
    )
    [entry] = _entries(org, action=AuditAction.SUBJECT_PEOPLE)
    assert entry.actor_id == org.ada.id
    assert (entry.target_kind, entry.target_id) == ("subject", org.account.id)
    assert entry.before == {"spoc": org.dana.id, "deputies": [org.lee.id, org.sam.id]}
    assert entry.after == {"spoc": org.dana.id, "deputies": [org.sam.id]}


def test_a_refused_change_leaves_no_audit_entry(org: Org) -> None:
    before = len(_entries(org))
    with pytest.raises(ValidationFailed):
        org.spoc.directory.set_subject_people(
            org.actor(org.ada), org.account.id, org.dana.id, [org.dana.id]
        )
    assert len(_entries(org)) == before


def test_roles_teams_tokens_and_absences_are_audited(org: Org) -> None:
    admin = org.actor(org.ada)
    org.spoc.directory.update_agent(admin, org.val.id, role=Role.AGENT)
    org.spoc.directory.set_team_members(admin, org.specialists.id, [org.kim.id, org.lee.id])
    token, _ = org.spoc.tokens.create(admin, org.dana.email, "reporting")
    org.spoc.tokens.revoke(admin, token.id)
    org.spoc.tokens.revoke(admin, token.id)  # already revoked: nothing more to say
    absence = org.spoc.directory.record_absence(
        org.actor(org.dana), org.dana.id, date(2026, 3, 9), date(2026, 3, 13)
    )
    org.spoc.directory.remove_absence(admin, absence.id)
    actions = [e.action for e in reversed(_entries(org)) if e.action != AuditAction.AGENT_ADDED]
    assert actions == [
        AuditAction.AGENT_CHANGED,
        AuditAction.TEAM_MEMBERS,
        AuditAction.TOKEN_CREATED,
        AuditAction.TOKEN_REVOKED,
        AuditAction.ABSENCE_ADDED,
        AuditAction.ABSENCE_REMOVED,
    ]
    role_change = _entries(org, action=AuditAction.AGENT_CHANGED)[0]
    assert role_change.before["role"] == "viewer"
    assert role_change.after["role"] == "agent"
    team = _entries(org, action=AuditAction.TEAM_MEMBERS)[0]
    assert team.before == {"members": [org.kim.id]}
    assert team.after == {"members": sorted([org.kim.id, org.lee.id])}
    assert _entries(org, action=AuditAction.ABSENCE_ADDED)[0].actor_id == org.dana.id


def test_new_agents_are_audited_as_added_by_the_system_from_the_cli(org: Org) -> None:
    with org.spoc.db.reader() as session:
        added = session.scalars(
            select(AdminAuditEntry).where(AdminAuditEntry.action == AuditAction.AGENT_ADDED)
        ).all()
    assert len(added) == 6  # the six agents of the test organisation
    assert {e.actor_kind.value for e in added} == {"system"}
