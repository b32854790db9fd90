"""An expo in New York: an event manager (Dana, deputy Lee), an accessibility coordinator
(Lee, also the deputy), a safety lead (Sam), two sessions and a vendor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

import spoc.testing as spoc_testing
from spoc import Actor, Request, Spoc, spoc_of
from spoc.plugins.events import program, vendors
from spoc.plugins.events.models import Event, EventSession, Vendor
from spoc.plugins.events.settings import EventsSettings
from spoc.testing import AppFactory
from tests.conftest import Org, build_org

PLUGINS = ["generic", "events"]
# 09:00 on Friday 20 March 2026 in New York is 13:00 UTC (daylight saving began 8 March).
OPENS = datetime(2026, 3, 20, 13, 0, tzinfo=UTC)
CLOSES = datetime(2026, 3, 20, 22, 0, tzinfo=UTC)
LOAD_IN = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)


@dataclass
class Expo:
    org: Org
    event: Event
    keynote: EventSession
    workshop: EventSession
    vendor: Vendor

    @property
    def spoc(self) -> Spoc:
        return self.org.spoc

    @property
    def settings(self) -> EventsSettings:
        return self.spoc.plugin_settings("events", EventsSettings)

    def file(self, type_key: str, fields: dict[str, Any], **kw: Any) -> Request:
        return self.spoc.requests.create(
            type_key=type_key,
            fields=fields,
            requester=kw.pop("requester", {"name": "Nora Quinn", "email": "nora@example.com"}),
            subject_id=kw.pop("subject_id", self.event.subject_id),
            **kw,
        )

    def get(self, request_id: int) -> Request:
        return self.spoc.requests.get(request_id, Actor.system())


def make_expo(app: Flask) -> Expo:
    spoc = spoc_of(app)
    org = build_org(spoc)
    settings = spoc.plugin_settings("events", EventsSettings)
    spoc.directory.add_team(
        key=settings.accessibility_team, name="Accessibility", members=[org.lee.id]
    )
    spoc.directory.add_team(key=settings.vendor_team, name="Vendors", members=[org.kim.id])
    event = program.create_event(
        spoc,
        settings,
        Actor.system("test"),
        program.EventPlan(
            "EXPO26",
            "Service Desk Expo",
            "Javits Center, New York",
            "America/New_York",
            datetime(2026, 3, 20, 9, 0),
            datetime(2026, 3, 20, 18, 0),
            1200,
            load_in_starts=datetime(2026, 3, 20, 6, 0),
            manager_id=org.dana.id,
            deputies=(org.lee.id,),
            safety_lead_id=org.sam.id,
        ),
    )
    keynote = program.add_session(
        spoc,
        event.id,
        title="Opening keynote",
        room="Hall A",
        starts=datetime(2026, 3, 20, 9, 30),
        ends=datetime(2026, 3, 20, 10, 30),
        speaker="Ada Lovelace",
    )
    workshop = program.add_session(
        spoc,
        event.id,
        title="Hands-on workshop",
        room="Room 1E",
        starts=datetime(2026, 3, 20, 14, 0),
        ends=datetime(2026, 3, 20, 16, 0),
    )
    vendor = vendors.add_vendor(
        spoc,
        settings,
        event.id,
        vendors.VendorPlan(
            "AV1", "Bright Stage AV", "crew@brightstage.example", "Mia Klein", budget_tolerance=500
        ),
    )
    return Expo(org, event, keynote, workshop, vendor)


@pytest.fixture
def expo_app(make_app: AppFactory) -> Flask:
    return make_app(plugins=PLUGINS)


@pytest.fixture
def expo(expo_app: Flask) -> Expo:
    return make_expo(expo_app)


def run_cli(expo: Expo, *args: str) -> Any:
    """``spoc <args>`` as an operator runs it: a fresh app from the environment."""
    return spoc_testing.run_cli(expo.spoc, *args)
