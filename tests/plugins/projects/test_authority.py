"""Who may do what: only a workstream's lead sends its status update; only the project's
manager, a deputy or an admin logs a decision or reassesses a risk."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from spoc import ValidationFailed
from tests.plugins.projects.conftest import FULL, Office, mails_to

CLOSES = datetime(2026, 3, 31, 23, 0, tzinfo=UTC)


def _update_fields(period: str = "2026-03", overall: str = "green") -> dict[str, Any]:
    return {
        "period": period,
        "overall": overall,
        "schedule": overall,
        **FULL,
        "percent_complete": 40,
        "done": "Built the thing",
        "next": "Test the thing",
    }


def _updates(office: Office) -> int:
    from spoc.plugins.projects.models import StatusUpdate

    with office.spoc.db.reader() as session:
        return session.scalar(select(func.count()).select_from(StatusUpdate)) or 0


def test_a_status_update_from_anyone_but_the_lead_is_refused_at_intake(office: Office) -> None:
    with pytest.raises(ValidationFailed) as refused:
        office.spoc.requests.create(
            type_key="projects.status_update",
            fields=_update_fields(overall="green"),
            requester={"name": "Ivo Marsh", "email": "mallory@example.com"},
            subject_id=office.backend.id,
        )
    assert "fields.requester_email" in refused.value.errors
    assert _updates(office) == 0
    # The lead's own address is compared without regard to case.
    office.spoc.requests.create(
        type_key="projects.status_update",
        fields=_update_fields(overall="green"),
        requester={"name": "Ivo", "email": "IVO@Example.com"},
        subject_id=office.backend.id,
    )
    assert _updates(office) == 1


def test_a_stranger_with_the_leads_link_cannot_close_the_chase(
    office_app: Flask, office: Office
) -> None:
    from spoc.plugins.projects.models import Chase

    office.clock.set(CLOSES)
    office.spoc.sweep()
    [asked] = mails_to(office, "ivo@example.com")
    link = re.search(r"http://\S+", asked.body_text)
    assert link is not None
    path = link.group(0).removeprefix("http://127.0.0.1:5000")
    client = office_app.test_client()
    form = client.get(path).get_data(as_text=True)
    intake = re.search(r'name="intake" value="([^"]+)"', form)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert intake is not None and csrf is not None
    payload = {
        **_update_fields(),
        "requester_name": "Mallory",
        "requester_email": "mallory@example.com",
        "intake": intake.group(1),
        "csrf_token": csrf.group(1),
    }
    page = client.post("/new/projects.status_update", data=payload)
    assert page.status_code == 422
    assert "come from its lead" in page.get_data(as_text=True)
    assert _updates(office) == 0
    with office.spoc.db.reader() as session:
        chase = session.scalar(select(Chase).where(Chase.workstream_id == office.backend.id))
        assert chase is not None and chase.received_at is None


def _risk_and_decision(office: Office) -> tuple[int, int]:
    risk = office.spoc.requests.create(
        type_key="projects.risk",
        fields={
            "summary": "Supplier may fail",
            "cause": "Small supplier",
            "event": "Bankruptcy",
            "effect": "No parts",
            "probability": 4,
            "impact": 4,
            "proximity": "2026-03-20",
            "owner": "Ivo Marsh",
        },
        requester={"name": "Ivo Marsh", "email": "ivo@example.com"},
        subject_id=office.apollo.id,
    )
    decision = office.spoc.requests.create(
        type_key="projects.decision",
        fields={"summary": "Pick the vendor", "owner": "Ivo", "needed_by": "2026-03-10"},
        requester={"name": "Ivo Marsh", "email": "ivo@example.com"},
        subject_id=office.apollo.id,
    )
    return risk.id, decision.id


def _decision_and_risk_rows(office: Office, risk_id: int, decision_id: int) -> tuple[Any, Any]:
    from spoc.plugins.projects.models import Decision, Risk

    with office.spoc.db.reader() as session:
        return (
            session.scalar(select(Decision).where(Decision.request_id == decision_id)),
            session.scalar(select(Risk).where(Risk.request_id == risk_id)),
        )


def test_only_a_manager_logs_a_decision_or_reassesses_a_risk(office: Office) -> None:
    from datetime import date

    from spoc import PermissionDenied
    from spoc.plugins.projects.records import reassess_risk, record_decision

    org = office.org
    risk_id, decision_id = _risk_and_decision(office)
    for outsider in (org.sam, org.kim):  # Sam manages another project; Kim is a specialist
        with pytest.raises(PermissionDenied):
            record_decision(office.spoc, org.actor(outsider), decision_id, "Vendor B, cheapest")
        with pytest.raises(PermissionDenied):
            reassess_risk(office.spoc, org.actor(outsider), risk_id, 1, 1, date(2026, 3, 20))
    decision, risk = _decision_and_risk_rows(office, risk_id, decision_id)
    assert decision.decided_at is None and risk.score == 16
    reassess_risk(office.spoc, org.actor(org.lee), risk_id, 3, 5, date(2026, 3, 20))  # deputy
    record_decision(office.spoc, org.actor(org.dana), decision_id, "Vendor A, the safe one")
    decision, risk = _decision_and_risk_rows(office, risk_id, decision_id)
    assert decision.outcome == "Vendor A, the safe one" and decision.decided_by == "Dana Reyes"
    assert risk.score == 15


def test_the_request_page_actions_refuse_an_agent_who_does_not_manage_the_project(
    office_app: Flask, office: Office
) -> None:
    from tests.conftest import csrf_token, login

    risk_id, decision_id = _risk_and_decision(office)
    client = office_app.test_client()
    login(client, office.spoc, office.org.sam)
    token = csrf_token(client, f"/console/requests/{decision_id}")
    client.post(
        f"/p/projects/requests/{decision_id}/decision",
        data={"outcome": "Vendor B, cheapest", "csrf_token": token},
    )
    client.post(
        f"/p/projects/requests/{risk_id}/risk",
        data={"probability": 1, "impact": 1, "proximity": "2026-03-20", "csrf_token": token},
    )
    decision, risk = _decision_and_risk_rows(office, risk_id, decision_id)
    assert decision.decided_at is None and decision.outcome is None
    assert risk.score == 16
