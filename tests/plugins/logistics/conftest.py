"""A control tower: a customer account whose SPOC is Dana, an order with a domestic road
shipment and an international air shipment, and helpers to feed carrier events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from spoc import Actor, FrozenClock, Role, Spoc, spoc_of
from spoc.core.domain.models import Agent, Escalation, Request, Subject, Team
from spoc.plugins.logistics.ingest import IngestReport, TrackingEventIn, ingest
from spoc.plugins.logistics.models import Shipment
from spoc.plugins.logistics.services import OrderIn, add_order
from spoc.testing import START, AppFactory

H = timedelta(hours=1)
D = timedelta(days=1)
ROAD = "JD0001"
AIR = "AWB-777"


@dataclass
class Tower:
    spoc: Spoc
    clock: FrozenClock
    dana: Agent
    viewer: Agent
    account: Subject
    seq: int = 0

    def event(
        self, tracking: str = ROAD, at: datetime | None = None, **fields: Any
    ) -> TrackingEventIn:
        self.seq += 1
        payload: dict[str, Any] = {
            "event_id": f"ev-{self.seq}",
            "carrier": "DHL" if tracking == ROAD else "LH Cargo",
            "tracking_number": tracking,
            "occurred_at": at or self.clock.now(),
            "status": "in_transit",
            "city": "Hanover",
            "country": "DE",
        }
        payload.update(fields)
        return TrackingEventIn.model_validate(payload)

    def feed(self, *events: TrackingEventIn) -> IngestReport:
        return ingest(self.spoc, list(events))

    def shipment(self, tracking: str = ROAD) -> Shipment:
        with self.spoc.db.reader() as session:
            found = session.scalar(select(Shipment).where(Shipment.tracking_number == tracking))
            assert found is not None
            return found

    def requests(self) -> list[Request]:
        with self.spoc.db.reader() as session:
            return list(
                session.scalars(
                    select(Request).where(Request.type_key.like("logistics.%")).order_by(Request.id)
                )
            )

    def escalations(self, request_id: int) -> list[tuple[int, str, str]]:
        with self.spoc.db.reader() as session:
            rows = session.execute(
                select(Escalation.level, Team.key, Escalation.trigger)
                .join(Team, Team.id == Escalation.to_team_id)
                .where(Escalation.request_id == request_id)
                .order_by(Escalation.id)
            )
            return [tuple(row) for row in rows]  # type: ignore[misc]


def make_tower(app: Flask, clock: FrozenClock) -> Tower:
    spoc = spoc_of(app)
    d = spoc.directory
    dana = d.add_agent(email="dana@example.org", name="Dana Reyes", role=Role.AGENT)
    viewer = d.add_agent(email="val@example.org", name="Val Ortiz", role=Role.VIEWER)
    d.add_team(key="carrier_desk", name="Carrier desk")
    d.add_team(key="account_management", name="Account management")
    account = d.add_subject(
        kind="logistics.account", name="Acme Retail", spoc_agent_id=dana.id, external_ref="ACME"
    )
    add_order(
        spoc,
        Actor.system(),
        OrderIn.model_validate(
            {
                "order_number": "PO-1",
                "account_id": account.id,
                "customer_name": "Petra Weiss",
                "customer_email": "petra@acme.example",
                "shipments": [
                    {
                        "carrier": "DHL",
                        "tracking_number": ROAD,
                        "mode": "road",
                        "domestic": True,
                        "promised_by": START + 2 * D,
                        "origin_city": "Hamburg",
                        "origin_country": "DE",
                        "destination_city": "Munich",
                        "destination_country": "DE",
                        "destination_address": "Leopoldstr. 12, 80802 Munich",
                        "consignee_name": "Klara Huber",
                    },
                    {
                        "carrier": "LH Cargo",
                        "tracking_number": AIR,
                        "mode": "air",
                        "domestic": False,
                        "promised_by": START + 5 * D,
                        "origin_city": "Shanghai",
                        "origin_country": "CN",
                        "destination_city": "Frankfurt",
                        "destination_country": "DE",
                        "destination_address": "Cargo City Süd 5, 60549 Frankfurt",
                        "consignee_name": "Acme import desk",
                    },
                ],
            }
        ),
    )
    return Tower(spoc, clock, dana, viewer, account)


@pytest.fixture
def logistics_app(make_app: AppFactory) -> Flask:
    return make_app(plugins=["generic", "logistics"])


@pytest.fixture
def tower(logistics_app: Flask, clock: FrozenClock) -> Tower:
    return make_tower(logistics_app, clock)
