"""Event-day mode: minutes from the event's start in its own time zone; personal incidents go
to the safety lead and are never closed automatically; the live board."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from spoc import Actor, FrozenClock, IllegalTransition, Priority, Status
from spoc.core.domain.models import SlaClock
from tests.conftest import AppFactory, login
from tests.plugins.events.conftest import CLOSES, OPENS, PLUGINS, Expo, make_expo

INCIDENT = "events.incident"


def incident(expo: Expo, category: str = "facilities", severity: str = "medium", **kw: str) -> int:
    fields = {
        "location": kw.get("location", "Hall A"),
        "category": category,
        "severity": severity,
        "what_happened": kw.get("what", "A tap is leaking"),
    }
    return expo.file(INCIDENT, fields).id


def due(expo: Expo, request_id: int) -> dict[str, timedelta]:
    with expo.spoc.db.reader() as session:
        clocks = session.scalars(select(SlaClock).where(SlaClock.request_id == request_id))
        return {c.kind: c.due_at - c.started_at for c in clocks}


def test_targets_switch_to_minutes_at_the_start_in_the_events_time_zone(
    expo: Expo, clock: FrozenClock
) -> None:
    # 09:00 in London is not the event's start: New York is still at 08:59 an hour later.
    clock.set(OPENS - timedelta(minutes=1))
    before = incident(expo)
    clock.set(OPENS)
    during = incident(expo)
    clock.set(CLOSES)
    after = incident(expo)
    hours = {"first_response": timedelta(hours=8), "resolution": timedelta(hours=24)}
    assert due(expo, before) == hours
    assert due(expo, during) == {
        "first_response": timedelta(minutes=15),
        "resolution": timedelta(minutes=120),
    }
    assert due(expo, after) == hours


def test_event_day_targets_are_configurable(make_app: AppFactory, clock: FrozenClock) -> None:
    app = make_app(
        plugins=PLUGINS,
        plugin_settings={"events": {"event_day_first_response_minutes": {"P3": 3}}},
    )
    expo = make_expo(app)
    clock.set(OPENS)
    assert due(expo, incident(expo))["first_response"] == timedelta(minutes=3)


def test_personal_incidents_go_to_the_safety_lead_at_once(expo: Expo, clock: FrozenClock) -> None:
    clock.set(OPENS + timedelta(hours=1))
    medical = expo.get(incident(expo, "medical", what="A visitor collapsed"))
    ordinary = expo.get(incident(expo))
    assert (medical.owner_agent_id, medical.priority) == (expo.org.sam.id, Priority.P1)
    assert ordinary.owner_agent_id == expo.org.dana.id  # the event manager, the SPOC
    assert due(expo, medical.id)["first_response"] == timedelta(minutes=5)


def test_medical_safety_and_conduct_incidents_are_never_closed_automatically(
    expo: Expo, clock: FrozenClock
) -> None:
    clock.set(OPENS + timedelta(hours=1))
    sam, dana = expo.org.actor(expo.org.sam), expo.org.actor(expo.org.dana)
    kept = [incident(expo, category) for category in ("medical", "safety", "conduct")]
    closes = incident(expo, "lost_property")
    for rid in kept:
        expo.spoc.requests.post_message(rid, sam, "We are on it")
        expo.spoc.requests.transition(rid, Status.RESOLVED, sam)
    expo.spoc.requests.post_message(closes, dana, "Found it")
    expo.spoc.requests.transition(closes, Status.RESOLVED, dana)
    clock.advance(timedelta(days=30))
    expo.spoc.sweep()
    expo.spoc.sweep()
    assert expo.get(closes).status is Status.CLOSED
    assert [expo.get(rid).status for rid in kept] == [Status.RESOLVED] * 3
    for rid in kept:
        with pytest.raises(IllegalTransition, match="only a person"):
            expo.spoc.requests.transition(rid, Status.CLOSED, Actor.system("a plugin"))
    expo.spoc.requests.transition(kept[0], Status.CLOSED, sam)  # a person may


def test_the_live_board_shows_open_incidents_by_location_and_age(
    expo_app: Flask, expo: Expo, clock: FrozenClock
) -> None:
    clock.set(OPENS + timedelta(minutes=10))
    incident(expo, "security", location="Gate 3")
    clock.advance(timedelta(minutes=25))
    incident(expo, "facilities", location="Hall A")
    done = incident(expo, "other", location="Hall A", what="Done already")
    expo.spoc.requests.transition(done, Status.CANCELLED, expo.org.actor(expo.org.dana))
    client = expo_app.test_client()
    assert client.get("/p/events/board/EXPO26").status_code == 303  # sign in first
    login(client, expo.spoc, expo.org.lee)
    page = client.get("/p/events/board/EXPO26")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.index('<h2 id="loc-1">Gate 3') < html.index('<h2 id="loc-2">Hall A')
    assert "<td>25 min</td>" in html and "<td>0 min</td>" in html  # age
    assert html.count('<tr><td><a href="/console/requests/') == 2  # the cancelled one is gone
    assert 'http-equiv="refresh"' in html and 'aria-live="polite"' in html
    assert 'http-equiv="refresh"' not in client.get("/p/events/board/EXPO26?refresh=0").get_data(
        as_text=True
    )
    assert client.get("/p/events/board/NOPE").status_code == 404


def test_specialists_do_not_see_the_live_board(
    expo_app: Flask, expo: Expo, clock: FrozenClock
) -> None:
    clock.set(OPENS + timedelta(minutes=10))
    incident(expo, "conduct", location="Gate 3", what="Harassment at the gate")
    specialist = expo_app.test_client()
    login(specialist, expo.spoc, expo.org.kim)
    page = specialist.get("/p/events/board/EXPO26")
    assert page.status_code == 403
    assert "Gate 3" not in page.get_data(as_text=True)
    assert "/p/events/board/" not in specialist.get("/p/events/").get_data(as_text=True)
    # Nor the event page with its attendees' names and emails.
    assert specialist.get("/p/events/e/EXPO26/manage").status_code == 403
    for agent in (expo.org.val, expo.org.dana, expo.org.ada):
        client = expo_app.test_client()
        login(client, expo.spoc, agent)
        shown = client.get("/p/events/board/EXPO26")
        assert shown.status_code == 200 and "Gate 3" in shown.get_data(as_text=True)
