"""Attendees and special-category data: CSV import, matching by email, the coordinator-only
view, refusal elsewhere, and erasure after the retention period."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from spoc import FrozenClock, Request
from spoc.plugins.events.models import AccessNeed, Attendee, NeedPerSession, RequestLink
from tests.conftest import login
from tests.plugins.events.conftest import CLOSES, Expo, run_cli

NEED = {
    "needs": ["sign_language_interpreter", "dietary"],
    "sessions": "all",
    "details": "ASL; severe nut allergy",
    "consent": True,
}


def test_the_csv_import_lands_good_rows_and_reports_bad_ones_by_line(
    expo: Expo, tmp_path: Path
) -> None:
    csv = tmp_path / "attendees.csv"
    csv.write_text(
        "name,email,order_code,ticket_type\n"
        "Nora Quinn,nora@example.com,ORD-1,Full\n"
        "No Email,,ORD-2,Full\n"
        "Omar Haddad,OMAR@example.com,ORD-3,Day\n"
        ",blank@example.com,ORD-4,Day\n"
        "Nora Again,nora@example.com,ORD-5,Day\n"
        "Too,many@example.com,ORD-6,Day,extra\n",
        encoding="utf-8",
    )
    result = run_cli(expo, "events", "import-attendees", "EXPO26", str(csv))
    assert result.exit_code == 1, result.output
    assert "2 added, 0 updated, 4 with errors." in result.output
    assert "Importing attendees" in result.output  # the progress bar
    errors = [line for line in result.output.splitlines() if line.startswith("line ")]
    assert errors[0].startswith("line 3: email:")
    assert errors[1].startswith("line 5: name:")
    assert errors[2] == "line 6: email nora@example.com is already on line 2"
    assert errors[3] == "line 7: 1 more value(s) than columns"
    with expo.spoc.db.reader() as session:
        emails = sorted(session.scalars(select(Attendee.email)))
    assert emails == ["nora@example.com", "omar@example.com"]
    # Importing again updates instead of duplicating.
    again = run_cli(expo, "events", "import-attendees", "EXPO26", str(csv))
    assert "0 added, 2 updated, 4 with errors." in again.output
    missing = run_cli(expo, "events", "import-attendees", "NOPE", str(csv))
    assert missing.exit_code != 0 and "no event NOPE" in missing.output


def test_questions_are_matched_to_the_registration_by_email(expo: Expo, tmp_path: Path) -> None:
    csv = tmp_path / "a.csv"
    csv.write_text("name,email,order_code\nNora Quinn,Nora@Example.com,ORD-9\n", encoding="utf-8")
    run_cli(expo, "events", "import-attendees", "EXPO26", str(csv))
    asked = expo.file(
        "events.registration",
        {"summary": "Can I bring a colleague?"},
        requester={"name": "Nora", "email": "NORA@example.com"},
    )
    stranger = expo.file(
        "events.registration",
        {"summary": "Tickets left?"},
        requester={"name": "Pat", "email": "pat@example.com"},
    )
    with expo.spoc.db.reader() as session:
        nora = session.scalar(select(Attendee.id).where(Attendee.email == "nora@example.com"))
        assert session.get(RequestLink, asked.id).attendee_id == nora  # type: ignore[union-attr]
        assert session.get(RequestLink, stranger.id).attendee_id is None  # type: ignore[union-attr]


def test_needs_are_stored_only_with_consent(expo: Expo) -> None:
    from spoc import ValidationFailed

    with pytest.raises(ValidationFailed, match="form has errors") as caught:
        expo.file("events.access_need", {**NEED, "consent": False})
    assert "consent" in str(caught.value.errors)
    with expo.spoc.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(AccessNeed)) == 0


def test_only_the_coordinator_sees_needs(expo_app: Flask, expo: Expo) -> None:
    filed = expo.file("events.access_need", NEED)
    assert filed.owner_team_id is not None  # routed to the accessibility team
    coordinator, manager = expo_app.test_client(), expo_app.test_client()
    login(coordinator, expo.spoc, expo.org.lee)
    login(manager, expo.spoc, expo.org.dana)  # the event's SPOC, yet not the coordinator
    page = coordinator.get("/p/events/e/EXPO26/needs")
    assert page.status_code == 200 and "severe nut allergy" in page.get_data(as_text=True)
    assert manager.get("/p/events/e/EXPO26/needs").status_code == 403
    refused = manager.get(f"/console/requests/{filed.id}")
    assert refused.status_code == 403
    assert "nut allergy" not in refused.get_data(as_text=True)
    # A break-glass reason does not open it either.
    from tests.conftest import csrf_token

    token = csrf_token(manager, f"/console/requests/{filed.id}")
    manager.post(
        "/console/break-glass",
        data={
            "csrf_token": token,
            "target": f"request:{filed.id}",
            "reason": "I am the event manager and want to help",
            "next": "/console/",
        },
    )
    assert manager.get(f"/console/requests/{filed.id}").status_code == 403
    opened = coordinator.get(f"/console/requests/{filed.id}")
    assert opened.status_code == 200


def test_needs_are_erased_after_the_retention_period(expo: Expo, clock: FrozenClock) -> None:
    filed = expo.file("events.access_need", NEED)
    erase_at = CLOSES + timedelta(days=expo.settings.retention_days)
    clock.set(erase_at - timedelta(minutes=1))
    expo.spoc.sweep()
    with expo.spoc.db.reader() as session:
        need = session.scalar(select(AccessNeed))
        assert need is not None and need.erased_at is None and need.details
    clock.set(erase_at)
    expo.spoc.sweep()
    expo.spoc.sweep()
    with expo.spoc.db.reader() as session:
        need = session.scalar(select(AccessNeed))
        assert need is not None
        assert (need.need_types, need.details, need.erased_at) == ([], "", erase_at)
        assert session.scalar(select(func.count()).select_from(NeedPerSession)) == 0
    request = expo.get(filed.id)
    assert request.fields == {}
    assert request.contact_id is not None  # the attendee stays; what they told us goes


def test_a_need_about_no_event_is_refused(expo: Expo) -> None:
    from spoc import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        expo.file("events.access_need", NEED, subject_id=None)
    assert "reference" in caught.value.errors
    with expo.spoc.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(AccessNeed)) == 0
        assert session.scalar(select(func.count()).select_from(Request)) == 0


def test_a_need_filed_after_its_event_was_erased_is_erased_too(
    expo: Expo, clock: FrozenClock
) -> None:
    erase_at = CLOSES + timedelta(days=expo.settings.retention_days)
    first = expo.file("events.access_need", NEED)
    clock.set(erase_at)
    expo.spoc.sweep()
    clock.advance(timedelta(days=1))
    late = expo.file(
        "events.access_need", NEED, requester={"name": "Pat", "email": "pat@example.com"}
    )
    expo.spoc.sweep()
    with expo.spoc.db.reader() as session:
        rows = dict(session.execute(select(AccessNeed.request_id, AccessNeed.details)).all())
    assert rows == {first.id: "", late.id: ""}
    assert expo.get(late.id).fields == {}


def test_the_portal_asks_for_the_event_of_a_need(expo_app: Flask, expo: Expo) -> None:
    from tests.conftest import csrf_token

    client = expo_app.test_client()
    form = {
        "csrf_token": csrf_token(client, "/new/events.access_need"),
        "requester_name": "Nora Quinn",
        "requester_email": "nora@example.com",
        "reference": "",
        "needs": "dietary",
        "sessions": "all",
        "details": "coeliac",
        "consent": "on",
    }
    response = client.post("/new/events.access_need", data=form)
    assert response.status_code == 422
    assert "give the event&#39;s code" in response.get_data(as_text=True)
    form["reference"] = "EXPO26"
    assert client.post("/new/events.access_need", data=form).status_code == 303
    with expo.spoc.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(AccessNeed)) == 1


def test_erasure_is_bounded_by_the_sweeps_limit(expo: Expo, clock: FrozenClock) -> None:
    from spoc.plugins.events import attendees

    for n in range(3):
        expo.file(
            "events.access_need", NEED, requester={"name": f"P{n}", "email": f"p{n}@example.com"}
        )
    clock.set(CLOSES + timedelta(days=expo.settings.retention_days))
    assert attendees.erase_due(expo.spoc, clock.now(), 2) == 2
    assert attendees.erase_due(expo.spoc, clock.now(), 2) == 1
    assert attendees.erase_due(expo.spoc, clock.now(), 2) == 0
