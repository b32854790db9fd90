"""Events, their sessions and vendors onboarded without Python: an event's subject and its row
in one transaction; sessions and vendors imported under an event, by line, idempotently."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from spoc import Subject
from spoc.core.domain.models import Watch
from spoc.plugins.events.models import Event, EventSession, Vendor
from spoc.testing import issue_api_token
from tests.conftest import csrf_token, login
from tests.plugins.events.conftest import Expo, run_cli


def _csv(*lines: str) -> io.StringIO:
    return io.StringIO("\n".join(lines) + "\n")


def _count(expo: Expo, model: type) -> int:
    with expo.spoc.db.reader() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


EVENTS = "name,external_ref,spoc,venue,timezone,starts,ends,capacity,load_in_starts"


def test_hook_structures_of_the_events_plugin(expo: Expo) -> None:
    names = expo.spoc.host.structures.names()
    assert names == ["events.schedule", "events.session", "events.vendor"]


def test_an_event_imported_gets_its_row_in_the_subjects_transaction(expo: Expo) -> None:
    admin = expo.org.actor(expo.org.ada)
    lines = [
        EVENTS,
        "Summit,SUM26,dana@example.org,ExCeL London,Europe/London,"
        "2026-06-01T09:00,2026-06-01T17:00,800,2026-06-01T06:00",
    ]
    for _ in range(2):  # a rerun updates the same subject and row
        report = expo.spoc.onboarding.import_csv(admin, "events.event", _csv(*lines), dry_run=False)
        assert report.ok, report.errors
    with expo.spoc.db.reader() as session:
        event = session.scalar(select(Event).where(Event.code == "SUM26"))
        assert event is not None
        subject = session.get(Subject, event.subject_id)
        assert subject is not None and subject.attributes["timezone"] == "Europe/London"
        # 09:00 in London on 1 June is 08:00 UTC (summer time).
        assert event.starts_at == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
        assert (event.capacity, event.sequence) == (800, 0)  # the rerun changed nothing
    assert _count(expo, Event) == 2


def test_event_errors_name_the_line_and_the_field_and_nothing_is_written(expo: Expo) -> None:
    admin = expo.org.actor(expo.org.ada)
    stream = _csv(
        EVENTS,
        "Summit,SUM26,,ExCeL,Europe/London,2026-06-01T09:00,2026-06-01T17:00,800,",
        "Late,LATE1,,Hall,Mars/Olympus,2026-06-01T09:00,2026-06-01T17:00,10,",
        "Backwards,BACK1,,Hall,Europe/Paris,2026-06-01T17:00,2026-06-01T09:00,10,",
        "Nobody,NOB1,,Hall,Europe/Paris,2026-06-01T09:00,2026-06-01T17:00,0,",
    )
    report = expo.spoc.onboarding.import_csv(admin, "events.event", stream, dry_run=False)
    assert [(e.line, e.field) for e in report.errors] == [
        (3, "attributes.timezone"),
        (4, "details.ends"),
        (5, "details.capacity"),
    ]
    assert _count(expo, Event) == 1


def test_sessions_and_vendors_import_under_their_event_and_a_rerun_adds_nothing(
    expo: Expo,
) -> None:
    admin = expo.org.actor(expo.org.ada)
    sessions = [
        "parent,title,starts,ends,room,speaker",
        "EXPO26,Closing panel,2026-03-20T16:30,2026-03-20T17:30,Hall A,Grace Hopper",
        "EXPO26,Opening keynote,2026-03-20T09:30,2026-03-20T10:45,Hall A,Ada Lovelace",
    ]
    for _ in range(2):
        report = expo.spoc.structures.import_csv(
            admin, "events.session", _csv(*sessions), dry_run=False
        )
        assert (report.ok, report.created + report.updated) == (True, 2), report.errors
    assert _count(expo, EventSession) == 3  # the keynote was found again and moved, not doubled
    with expo.spoc.db.reader() as session:
        keynote = session.get(EventSession, expo.keynote.id)
        assert keynote is not None and keynote.sequence == 1  # its end moved: calendars update
    vendors = [
        "parent,code,name,onsite_email,insurance_expires_on",
        "EXPO26,CAT1,Good Food Co,chef@goodfood.example,2026-12-31",
        "EXPO26,AV1,Bright Stage AV,crew@brightstage.example,",
    ]
    first = expo.spoc.structures.import_csv(admin, "events.vendor", _csv(*vendors), dry_run=False)
    assert (first.created, first.updated) == (1, 1)
    assert _count(expo, Vendor) == 2
    with expo.spoc.db.reader() as session:
        caterer = session.scalar(select(Vendor).where(Vendor.code == "CAT1"))
        assert caterer is not None
        # A vendor imported is armed like one added by hand: its certificate trigger waits.
        causes = list(
            session.scalars(select(Watch.cause).where(Watch.cause.like("events:vendor:%")))
        )
    assert f"events:vendor:certificate_missing:{caterer.id}:0" in causes


def test_child_rows_report_errors_by_line_and_unknown_parents(expo: Expo) -> None:
    admin = expo.org.actor(expo.org.ada)
    stream = _csv(
        "parent,code,name,onsite_email",
        "EXPO26,CAT1,Good Food Co,chef@goodfood.example",
        "NOPE,CAT2,Other Food,x@example.com",
        "EXPO26,CAT3,Bad Mail,not-an-address",
        "EXPO26,CAT1,Good Food again,chef@goodfood.example",
    )
    report = expo.spoc.structures.import_csv(admin, "events.vendor", stream, dry_run=False)
    assert [(e.line, e.field) for e in report.errors] == [
        (3, "parent"),
        (4, "onsite_email"),
        (5, "code"),
    ]
    assert _count(expo, Vendor) == 1


def test_a_session_added_in_the_console_and_the_cli_and_api_import_vendors(
    expo: Expo, expo_app: Flask, tmp_path: Path
) -> None:
    client = expo_app.test_client()
    login(client, expo.spoc, expo.org.dana)
    url = f"/console/subjects/{expo.event.subject_id}/structures/events.session"
    page = client.get(f"/console/subjects/{expo.event.subject_id}").get_data(as_text=True)
    assert url in page and "Opening keynote" in page
    form = {"csrf_token": csrf_token(client), "title": "Lunch", "starts": "2026-03-20T12:00"}
    refused = client.post(url, data={**form, "ends": "2026-03-20T11:00"})
    assert refused.status_code == 422 and 'id="f-ends-error"' in refused.get_data(as_text=True)
    saved = client.post(url, data={**form, "ends": "2026-03-20T13:00", "room": "Foyer"})
    assert saved.status_code == 303
    assert _count(expo, EventSession) == 3
    file = tmp_path / "vendors.csv"
    file.write_text("parent,code,name,onsite_email\nEXPO26,SEC1,Guard Co,ops@guard.example\n")
    dry = run_cli(expo, "structures", "import", "events.vendor", str(file), "--dry-run")
    assert dry.exit_code == 0 and "would create 1" in dry.output
    assert _count(expo, Vendor) == 1
    headers = issue_api_token(expo.spoc, expo.org.ada).headers
    items = [
        {
            "parent": "EXPO26",
            "code": "SEC1",
            "name": "Guard Co",
            "onsite_email": "ops@guard.example",
        }
    ]
    done = client.post("/api/v1/structures/events.vendor", json=items, headers=headers)
    assert done.get_json() == {"dry_run": False, "created": 1, "updated": 0}
    assert _count(expo, Vendor) == 2
    missing = client.post("/api/v1/structures/events.nothing", json=items, headers=headers)
    assert missing.status_code == 404
