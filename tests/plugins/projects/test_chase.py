"""The reporting cycle: a missing update is requested when the period closes, reminded at the
deadline and escalated to the workstream's owner one business day later — each exactly once."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy.orm import joinedload

from spoc.core.domain.models import Request
from tests.plugins.projects.conftest import Office, escalations, mails_to, team_key

# March closes at midnight London time on 1 April (BST: 23:00 UTC on 31 March).
CLOSES = datetime(2026, 3, 31, 23, 0, tzinfo=UTC)
# Two business days later (09:00-17:00 London): Thursday 2 April 17:00 BST.
DEADLINE = datetime(2026, 4, 2, 16, 0, tzinfo=UTC)
# One business day after the deadline: Friday 3 April 17:00 BST.
ESCALATES = datetime(2026, 4, 3, 16, 0, tzinfo=UTC)
MINUTE = datetime(2026, 1, 1, 0, 1, tzinfo=UTC) - datetime(2026, 1, 1, tzinfo=UTC)


def chases(office: Office) -> list[Request]:
    with office.spoc.db.reader() as session:
        return list(
            session.query(Request)
            .options(joinedload(Request.contact))
            .filter_by(type_key="projects.update_due")
            .order_by(Request.id)
            .all()
        )


def chase_for(office: Office, stream_id: int) -> Request:
    [found] = [c for c in chases(office) if c.subject_id == stream_id]
    return found


def test_a_missing_update_is_requested_reminded_and_escalated_each_once(office: Office) -> None:
    office.update(office.backend, "2026-03", "green")
    office.update(office.fitout, "2026-03", "green")
    office.clock.set(CLOSES - MINUTE)
    office.spoc.sweep()
    assert chases(office) == []  # the period is still open
    office.clock.set(CLOSES)
    office.spoc.sweep()
    office.spoc.sweep()
    chase = chase_for(office, office.frontend.id)
    assert len(chases(office)) == 1  # only Frontend is missing, asked once
    assert chase.contact.email == "rita@example.com"
    assert chase.owner_agent_id == office.org.dana.id  # the project's manager is its SPOC
    [asked] = mails_to(office, "rita@example.com")
    assert "is due by Thu 02 Apr 2026 17:00" in asked.body_text
    assert "/new/projects.status_update?intake=" in asked.body_text

    office.clock.set(DEADLINE - MINUTE)
    office.spoc.sweep()
    assert len(mails_to(office, "rita@example.com")) == 1
    office.clock.set(DEADLINE)
    office.spoc.sweep()
    office.spoc.sweep()
    mails = mails_to(office, "rita@example.com")
    assert len(mails) == 2 and "has not arrived" in mails[1].body_text
    reminders = [e for e in office.timeline(chase.id) if e.kind == "projects.update_reminded"]
    assert len(reminders) == 1

    office.clock.set(ESCALATES - MINUTE)
    office.spoc.sweep()
    assert escalations(office, chase.id) == []
    office.clock.set(ESCALATES)
    office.spoc.sweep()
    office.spoc.sweep()
    [escalated] = escalations(office, chase.id)
    assert team_key(office, escalated.to_team_id) == "workstream_owners"
    assert escalated.trigger == "plugin:projects:update_missing"
    # Still missing: Amber, never Green, although Backend reported Green.
    assert office.period(office.apollo, "2026-03").computed_rag == "amber"


def test_an_update_that_arrives_stops_the_chase(office: Office) -> None:
    office.clock.set(CLOSES)
    office.spoc.sweep()
    chase = chase_for(office, office.frontend.id)
    office.update(office.frontend, "2026-03", "green")
    assert office.get(chase.id).status.value == "resolved"
    office.clock.set(ESCALATES)
    office.spoc.sweep()
    office.spoc.sweep()
    assert escalations(office, chase.id) == []
    subjects = [m.subject for m in mails_to(office, "rita@example.com")]
    assert not any("Reminder" in s for s in subjects)  # asked and thanked, never reminded
    assert any("Status update due" in s for s in subjects)
    statuses = office.period(office.apollo, "2026-03")
    assert statuses.chased_at is not None


def test_the_leads_link_opens_the_form_with_workstream_and_period_filled_in(
    office_app: Flask, office: Office
) -> None:
    office.clock.set(CLOSES)
    office.spoc.sweep()
    [asked] = mails_to(office, "ivo@example.com")
    link = re.search(r"http://\S+", asked.body_text)
    assert link is not None
    page = office_app.test_client().get(link.group(0).removeprefix("http://127.0.0.1:5000"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "About: <strong>Backend</strong>" in html
    assert 'value="2026-03"' in html


def test_the_portal_cannot_file_the_project_offices_own_requests(
    office_app: Flask, office: Office
) -> None:
    import pytest

    from spoc import ValidationFailed

    with pytest.raises(ValidationFailed):
        office.spoc.requests.create(
            type_key="projects.update_due",
            fields={"summary": "Fake chase", "period": "2026-03"},
            requester={"name": "Mallory", "email": "mallory@example.com"},
            subject_id=office.backend.id,
        )


def test_an_update_for_a_period_that_is_not_open_is_refused(office: Office) -> None:
    import pytest

    from spoc import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        office.update(office.backend, "2026-09", "green")
    assert "fields.period" in refused.value.errors


def _chase_link(office: Office, address: str) -> str:
    asked = next(m for m in mails_to(office, address) if "Status update due" in m.subject)
    link = re.search(r"http://\S+", asked.body_text)
    assert link is not None
    token = re.search(r"intake=([\w-]+)", link.group(0))
    assert token is not None
    return token.group(1)


def _live_links(office: Office, stream_id: int) -> int:
    from spoc.core.domain.models import SubjectIntakeLink

    with office.spoc.db.reader() as session:
        return (
            session.query(SubjectIntakeLink)
            .filter_by(subject_id=stream_id, revoked_at=None)
            .count()
        )


def test_the_chase_link_stops_working_once_the_update_arrives(
    office_app: Flask, office: Office
) -> None:
    office.clock.set(CLOSES)
    office.spoc.sweep()
    token = _chase_link(office, "rita@example.com")
    client = office_app.test_client()
    assert client.get(f"/s/{token}").status_code == 200
    office.update(office.frontend, "2026-03", "green")
    assert client.get(f"/s/{token}").status_code == 404
    assert office.spoc.links.subject_for_intake(token) is None
    # Ivo's chase is still open: his link still works.
    assert client.get(f"/s/{_chase_link(office, 'ivo@example.com')}").status_code == 200


def test_the_sweep_revokes_the_link_of_a_chase_that_ended_without_the_after_commit_step(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spoc.plugins.projects import records

    office.clock.set(CLOSES)
    office.spoc.sweep()
    ivo, rita = _chase_link(office, "ivo@example.com"), _chase_link(office, "rita@example.com")
    # The after-commit step never ran.
    monkeypatch.setattr(records, "end_links", lambda *args: None, raising=False)
    office.update(office.backend, "2026-03", "green")
    monkeypatch.undo()
    assert office.spoc.links.subject_for_intake(ivo) is not None
    # Rita's chase is cancelled by the manager without an update (she is away).
    chase = chase_for(office, office.frontend.id)
    office.spoc.requests.transition(
        chase.id, "cancelled", office.org.actor(office.org.dana), reason="lead away"
    )
    office.spoc.sweep()
    assert office.spoc.links.subject_for_intake(ivo) is None
    assert office.spoc.links.subject_for_intake(rita) is None


def test_a_second_worker_opening_the_same_chase_leaves_no_link_behind(office: Office) -> None:
    from spoc.plugins.projects.cycle import open_chase
    from spoc.plugins.projects.models import Workstream

    office.clock.set(CLOSES)
    office.spoc.sweep()
    assert _live_links(office, office.frontend.id) == 1
    period = office.period(office.apollo, "2026-03")
    with office.spoc.db.reader() as session:
        stream = session.get(Workstream, office.frontend.id)
        assert stream is not None
    assert open_chase(office.spoc, period, stream, "Apollo / Frontend") == 0
    assert _live_links(office, office.frontend.id) == 1
