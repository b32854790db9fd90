"""Who may change who is responsible for a private subject, and what one's own changes count
for: the rules in ``spoc.core.domain.access`` and the services that enforce them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from spoc import Actor
from spoc.core.domain.access import (
    REASON_MIN,
    AccessReasonRequired,
    check_staff_access,
    clean_reason,
)
from spoc.core.domain.audit import RECENT_SELF_CHANGE, AuditAction
from spoc.core.domain.models import AdminAuditEntry, Request
from spoc.core.kernel.clock import FrozenClock
from spoc.core.kernel.errors import PermissionDenied, ValidationFailed
from spoc.plugins.healthcare.models import AccessEntry
from tests.conftest import AppFactory
from tests.plugins.healthcare.conftest import Hospital


def _audit(hospital: Hospital, action: str) -> list[AdminAuditEntry]:
    with hospital.spoc.db.reader() as session:
        return list(
            session.scalars(
                select(AdminAuditEntry)
                .where(AdminAuditEntry.action == action)
                .order_by(AdminAuditEntry.id)
            )
        )


def _read(hospital: Hospital, agent: Actor, request: Request, reason: str | None = None) -> None:
    check_staff_access(hospital.spoc, agent, "request", "console", request=request, reason=reason)


def test_a_break_glass_reason_is_trimmed_and_needs_ten_characters() -> None:
    assert clean_reason(None) is None and clean_reason("   ") is None
    assert clean_reason("  Night cover on ward 3  ") == "Night cover on ward 3"
    with pytest.raises(ValidationFailed) as short:
        clean_reason(" x" + " " * 20, field="SPOC-Access-Reason")
    assert "SPOC-Access-Reason" in short.value.errors
    with pytest.raises(ValidationFailed):
        clean_reason("a" * (REASON_MIN - 1))
    assert clean_reason("b" * 900) == "b" * 500


def test_an_agent_cannot_make_themselves_deputy_of_a_patient(hospital: Hospital) -> None:
    org, patient = hospital.org, hospital.patient
    with pytest.raises(PermissionDenied):
        hospital.spoc.directory.set_subject_people(
            org.actor(org.sam), patient.id, org.dana.id, [org.lee.id, org.sam.id]
        )
    assert _audit(hospital, AuditAction.SUBJECT_PEOPLE) == []
    # The patient's SPOC and an admin may; each change is in the audit trail.
    hospital.spoc.directory.set_subject_people(
        org.actor(org.dana), patient.id, org.dana.id, [org.lee.id, org.sam.id]
    )
    hospital.spoc.directory.set_subject_people(
        org.actor(org.ada), patient.id, org.dana.id, [org.lee.id]
    )
    entries = _audit(hospital, AuditAction.SUBJECT_PEOPLE)
    assert [(e.actor_name, e.after["deputies"]) for e in entries] == [
        ("Dana Reyes", [org.lee.id, org.sam.id]),
        ("Ada Admin", [org.lee.id]),
    ]


def test_an_agent_may_still_change_people_of_a_subject_that_is_not_private(
    hospital: Hospital,
) -> None:
    org = hospital.org
    hospital.spoc.directory.set_subject_people(
        org.actor(org.sam), org.account.id, org.dana.id, [org.sam.id]
    )
    assert _audit(hospital, AuditAction.SUBJECT_PEOPLE)[-1].actor_name == "Sam Patel"


def test_an_agent_cannot_assign_themselves_a_patients_request(hospital: Hospital) -> None:
    org = hospital.org
    request = hospital.book(reason="Chest pain")
    with pytest.raises(PermissionDenied):
        hospital.spoc.requests.assign(request.id, org.actor(org.sam), agent_id=org.sam.id)
    assert hospital.get(request.id).owner_agent_id != org.sam.id
    assert _audit(hospital, AuditAction.REQUEST_OWNER) == []
    hospital.spoc.requests.assign(request.id, org.actor(org.dana), agent_id=org.lee.id)
    (entry,) = _audit(hospital, AuditAction.REQUEST_OWNER)
    assert entry.target_kind == "request" and entry.target_id == request.id
    assert entry.actor_name == "Dana Reyes"
    assert entry.before["owner_agent_id"] == org.dana.id
    assert entry.after["owner_agent_id"] == org.lee.id


def test_a_responsibility_an_admin_gave_themselves_still_needs_a_reason(
    hospital: Hospital, clock: FrozenClock
) -> None:
    org = hospital.org
    request = hospital.book(reason="Chest pain")
    admin = org.actor(org.ada)
    with pytest.raises(AccessReasonRequired):
        _read(hospital, admin, request)
    hospital.spoc.directory.set_subject_people(
        admin, hospital.patient.id, org.dana.id, [org.lee.id, org.ada.id]
    )
    with pytest.raises(AccessReasonRequired):
        _read(hospital, admin, hospital.get(request.id))
    _read(hospital, admin, hospital.get(request.id), reason="Covering the ward tonight")
    with hospital.spoc.db.reader() as session:
        flagged = session.scalars(select(AccessEntry.break_glass)).all()
    assert flagged == [True]
    # Someone else's change (Dana adds Lee back) does count: Lee reads as responsible.
    _read(hospital, org.actor(org.lee), hospital.get(request.id))
    # After RECENT_SELF_CHANGE the deputy role counts as the admin's own.
    clock.advance(RECENT_SELF_CHANGE + timedelta(minutes=1))
    _read(hospital, admin, hospital.get(request.id))


def test_the_spoc_taking_their_patients_request_stays_responsible(hospital: Hospital) -> None:
    org = hospital.org
    request = hospital.book(reason="Chest pain")
    hospital.spoc.requests.assign(request.id, org.actor(org.dana), agent_id=org.lee.id)
    hospital.spoc.requests.assign(request.id, org.actor(org.dana), agent_id=org.dana.id)
    _read(hospital, org.actor(org.dana), hospital.get(request.id))


def test_break_glass_is_in_the_audit_trail_once_per_reason(
    hospital: Hospital, clock: FrozenClock
) -> None:
    org = hospital.org
    request = hospital.book(reason="Chest pain")
    sam = org.actor(org.sam)
    for _ in range(3):
        _read(hospital, sam, request, reason="Patient on the phone")
    _read(hospital, sam, request, reason="Second call, asks for results")
    # Dana is responsible: her reads are not break-glass even with a reason.
    _read(hospital, org.actor(org.dana), request, reason="Just checking the file")
    entries = _audit(hospital, AuditAction.BREAK_GLASS)
    assert [(e.actor_name, e.target_kind, e.target_id, e.after["reason"]) for e in entries] == [
        ("Sam Patel", "request", request.id, "Patient on the phone"),
        ("Sam Patel", "request", request.id, "Second call, asks for results"),
    ]
    clock.advance(timedelta(hours=1))
    _read(hospital, sam, request, reason="Patient on the phone")
    assert len(_audit(hospital, AuditAction.BREAK_GLASS)) == 3


def test_a_refused_read_leaves_no_break_glass_entry(hospital: Hospital) -> None:
    request = hospital.book(reason="Chest pain")
    with pytest.raises(AccessReasonRequired):
        _read(hospital, hospital.org.actor(hospital.org.sam), request)
    assert _audit(hospital, AuditAction.BREAK_GLASS) == []


@pytest.fixture
def hospital(hospital_app: Flask) -> Hospital:
    from tests.plugins.healthcare.conftest import make_hospital

    return make_hospital(hospital_app)


@pytest.fixture
def hospital_app(make_app: AppFactory) -> Flask:
    return make_app(plugins=["generic", "healthcare"])
