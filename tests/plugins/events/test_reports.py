"""The events section of Reports: incidents by location and category, first responses."""

from __future__ import annotations

from spoc import Actor, Figure
from tests.plugins.events.conftest import Expo

INCIDENT = "events.incident"


def test_incidents_are_counted_by_location_and_category(expo: Expo) -> None:
    fields = {"location": "Hall A", "category": "facilities", "severity": "medium"}
    for n in range(3):
        expo.file(INCIDENT, {**fields, "what_happened": f"Leak {n}"})
    expo.file(INCIDENT, {**fields, "location": "Gate 2", "what_happened": "A broken door"})
    spoc = expo.spoc
    sections = spoc.reports.report(Actor.system(), spoc.reports.parse({}))
    desk = next(s for s in sections if s.key == "events-event-desk")
    rows = {(r[0], r[1]): r[2] for r in desk.tables[0].rows}
    assert rows[("Hall A", "facilities")] == Figure.count(3)
    assert rows[("Gate 2", "facilities")].shown == "fewer than 3"
    assert {h.label: h.figure for h in desk.headlines}["Incidents reported"].value == 4
