"""The event as iCalendar (parsed with icalendar) and as schema.org JSON-LD (expanded with
PyLD, a real JSON-LD processor)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from flask import Flask
from icalendar import Calendar
from pyld import jsonld

from spoc.plugins.events import program
from tests.conftest import login
from tests.plugins.events.conftest import OPENS, Expo

SCHEMA = "http://schema.org/"
# schema.org's context, served locally: tests never fetch from the network. It is what
# https://schema.org/docs/jsonldcontext.jsonld says for the terms used here.
CONTEXT = {
    "@context": {
        "@vocab": SCHEMA,
        "startDate": {"@id": "schema:startDate", "@type": "schema:DateTime"},
        "endDate": {"@id": "schema:endDate", "@type": "schema:DateTime"},
        "url": {"@id": "schema:url", "@type": "@id"},
        "eventStatus": {"@id": "schema:eventStatus", "@type": "@id"},
        "eventAttendanceMode": {"@id": "schema:eventAttendanceMode", "@type": "@id"},
        "schema": SCHEMA,
    }
}


def local_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    assert url.rstrip("/") in ("https://schema.org", "http://schema.org"), url
    return {"contextUrl": None, "documentUrl": url, "document": CONTEXT}


def calendar(client: Any) -> Calendar:
    response = client.get("/p/events/e/EXPO26/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data)


def vevents(parsed: Calendar) -> dict[str, Any]:
    return {str(c["uid"]): c for c in parsed.walk("VEVENT")}


def test_the_calendar_parses_and_a_moved_session_keeps_its_uid(expo_app: Flask, expo: Expo) -> None:
    client = expo_app.test_client()
    first = vevents(calendar(client))
    assert len(first) == 3  # the event and its two sessions
    uid = next(u for u, c in first.items() if str(c["summary"]) == "Hands-on workshop")
    assert int(first[uid]["sequence"]) == 0
    program.move_session(
        expo.spoc,
        expo.workshop.id,
        starts=datetime(2026, 3, 20, 15, 0),
        ends=datetime(2026, 3, 20, 17, 0),
    )
    program.cancel_session(expo.spoc, expo.keynote.id)
    parsed = calendar(client)
    assert not parsed.errors and all(not c.errors for c in parsed.walk())
    moved = vevents(parsed)
    assert set(moved) == set(first)
    assert int(moved[uid]["sequence"]) == 1
    assert moved[uid].decoded("dtstart") == datetime(2026, 3, 20, 19, 0, tzinfo=OPENS.tzinfo)
    keynote = next(c for c in moved.values() if str(c["summary"]) == "Opening keynote")
    assert (str(keynote["status"]), int(keynote["sequence"])) == ("CANCELLED", 1)
    assert client.get("/p/events/e/NOPE/calendar.ics").status_code == 404


def test_the_event_page_carries_schema_org_event_json_ld(expo_app: Flask, expo: Expo) -> None:
    html = expo_app.test_client().get("/p/events/e/EXPO26").get_data(as_text=True)
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert found
    document = json.loads(found.group(1))
    expanded = jsonld.expand(document, {"documentLoader": local_loader})
    assert len(expanded) == 1
    event = expanded[0]
    assert event["@type"] == [f"{SCHEMA}Event"]
    assert event[f"{SCHEMA}name"] == [{"@value": "Service Desk Expo"}]
    start = event[f"{SCHEMA}startDate"][0]
    assert start["@type"] == f"{SCHEMA}DateTime"
    assert datetime.fromisoformat(start["@value"]) == OPENS
    assert start["@value"].endswith("-04:00")  # in the event's own zone
    place = event[f"{SCHEMA}location"][0]
    assert place["@type"] == [f"{SCHEMA}Place"]
    assert place[f"{SCHEMA}name"] == [{"@value": "Javits Center, New York"}]
    assert len(event[f"{SCHEMA}subEvent"]) == 2


def test_a_request_about_the_event_offers_the_calendar(expo_app: Flask, expo: Expo) -> None:
    filed = expo.file("events.schedule", {"summary": "When is the keynote?"})
    client = expo_app.test_client()
    login(client, expo.spoc, expo.org.dana)
    response = client.get(f"/console/requests/{filed.id}/exports/event.ics")
    assert response.status_code == 200
    assert not Calendar.from_ical(response.data).errors
