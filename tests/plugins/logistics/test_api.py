"""POST /api/v1/logistics/events and friends: idempotent batches and who is refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask

from spoc import AccessRefused, Actor, Role, StaffAccess, hookimpl
from tests.plugins.logistics.conftest import AIR, ROAD, Tower


def headers(tower: Tower, email: str) -> dict[str, str]:
    _, secret = tower.spoc.tokens.create(Actor.system(), email, "test")
    return {"Authorization": f"Bearer {secret}"}


def batch(tower: Tower, n: int, start: int = 0) -> dict[str, Any]:
    now = tower.clock.now()
    return {
        "events": [
            {
                "event_id": f"api-{i}",
                "carrier": "DHL",
                "tracking_number": ROAD,
                "occurred_at": (now + timedelta(minutes=i)).isoformat(),
                "status": "in_transit",
                "raw_code": "PU",
                "code_system": "DHL",
                "city": "Kassel",
                "country": "de",
            }
            for i in range(start, start + n)
        ]
    }


def test_a_replayed_batch_reports_duplicates_and_changes_nothing(
    logistics_app: Flask, tower: Tower
) -> None:
    client, auth = logistics_app.test_client(), headers(tower, "dana@example.org")
    first = client.post("/api/v1/logistics/events", json=batch(tower, 5), headers=auth)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json() == {"accepted": 5, "duplicates": 0, "rejected": []}
    revision = tower.shipment().revision
    again = client.post("/api/v1/logistics/events", json=batch(tower, 5), headers=auth)
    assert (again.get_json()["accepted"], again.get_json()["duplicates"]) == (0, 5)
    assert tower.shipment().revision == revision
    overlap = client.post("/api/v1/logistics/events", json=batch(tower, 5, start=3), headers=auth)
    assert (overlap.get_json()["accepted"], overlap.get_json()["duplicates"]) == (3, 2)


def test_the_next_sweep_pass_opens_and_escalates_what_ingest_flagged(
    logistics_app: Flask, tower: Tower
) -> None:
    body = batch(tower, 1)
    body["events"][0].update(tracking_number=AIR, carrier="LH Cargo", reason_code="CUSTOMS")
    response = logistics_app.test_client().post(
        "/api/v1/logistics/events", json=body, headers=headers(tower, "dana@example.org")
    )
    assert response.status_code == 200
    assert tower.requests() == []  # the carrier's feed never waits for request handling
    report = tower.spoc.sweep()  # what `spoc worker` runs, and nothing else
    assert (report.plugin_tasks, report.plugin_triggers, report.errors) == (1, 1, [])
    [request] = tower.requests()
    assert tower.escalations(request.id) == [(1, "carrier_desk", "plugin:logistics:customs_hold")]


def test_refusals(logistics_app: Flask, tower: Tower) -> None:
    client = logistics_app.test_client()
    url = "/api/v1/logistics/events"
    anonymous = client.post(url, json=batch(tower, 1))
    assert anonymous.status_code == 401
    assert anonymous.mimetype == "application/problem+json"
    bad = client.post(url, json=batch(tower, 1), headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    viewer = client.post(url, json=batch(tower, 1), headers=headers(tower, "val@example.org"))
    assert viewer.status_code == 403
    dana = headers(tower, "dana@example.org")
    too_many = client.post(url, json=batch(tower, 1001), headers=dana)
    assert too_many.status_code == 422
    naive = batch(tower, 1)
    naive["events"][0]["occurred_at"] = "2026-03-02T09:00:00"
    invalid = client.post(url, json=naive, headers=dana)
    assert invalid.status_code == 422
    assert "occurred_at" in invalid.get_data(as_text=True)
    assert client.get(f"/api/v1/logistics/tracking/{ROAD}").status_code == 401


class ReadLog:
    """A plugin that logs staff reads and wants a reason from readers not responsible."""

    def __init__(self) -> None:
        self.reads: list[StaffAccess] = []

    @hookimpl
    def spoc_staff_access(self, access: StaffAccess) -> AccessRefused | None:
        if not access.own and access.reason is None:
            return AccessRefused("This account is not yours.")
        self.reads.append(access)
        return None


def test_staff_tracking_shows_everything_to_agents_and_reports_the_read(
    logistics_app: Flask, tower: Tower
) -> None:
    log = ReadLog()
    tower.spoc.host.pm.register(log, name="readlog")
    tower.feed(tower.event(description="Left with neighbour at no. 14"))
    client, url = logistics_app.test_client(), f"/api/v1/logistics/tracking/{ROAD}"
    response = client.get(url, headers=headers(tower, "dana@example.org"))
    [item] = response.get_json()["items"]
    assert item["destination_address"] == "Leopoldstr. 12, 80802 Munich"
    assert item["events"][0]["description"] == "Left with neighbour at no. 14"
    [read] = log.reads
    assert (read.actor.id, read.channel, read.subject_id, read.own) == (
        tower.dana.id,
        "api",
        tower.account.id,
        True,
    )
    # An agent who is not responsible gives a break-glass reason.
    other = tower.spoc.directory.add_agent(email="ole@example.org", name="Ole", role=Role.AGENT)
    refused = client.get(url, headers=headers(tower, other.email))
    assert refused.status_code == 403 and refused.get_json()["reason_required"] is True
    reason = {**headers(tower, other.email), "SPOC-Access-Reason": "customer on the phone"}
    assert client.get(url, headers=reason).get_json()["items"][0]["consignee_name"]
    assert log.reads[-1].reason == "customer on the phone"


def test_viewers_get_the_tracking_number_holders_view(logistics_app: Flask, tower: Tower) -> None:
    tower.feed(tower.event(status="delivered", signed_by="K. Huber", description="neighbour"))
    response = logistics_app.test_client().get(
        f"/api/v1/logistics/tracking/{ROAD}", headers=headers(tower, "val@example.org")
    )
    [item] = response.get_json()["items"]
    assert item["verified"] is False and item["events"][0]["city"] == "Hanover"
    assert (item["destination_address"], item["consignee_name"], item["proof_of_delivery"]) == (
        None,
        None,
        None,
    )
    assert item["events"][0]["description"] is None


def test_orders_through_the_api(logistics_app: Flask, tower: Tower) -> None:
    client, auth = logistics_app.test_client(), headers(tower, "dana@example.org")
    body = {
        "order_number": "PO-2",
        "account_id": tower.account.id,
        "customer_name": "Petra Weiss",
        "customer_email": "petra@acme.example",
        "shipments": [{"carrier": "UPS", "tracking_number": "1Z999", "mode": "parcel"}],
    }
    assert client.post("/api/v1/logistics/orders", json=body, headers=auth).status_code == 201
    assert client.post("/api/v1/logistics/orders", json=body, headers=auth).status_code == 422


def test_the_endpoints_are_in_the_openapi_document(logistics_app: Flask) -> None:
    paths = logistics_app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    assert "/logistics/events" in paths and "post" in paths["/logistics/events"]
