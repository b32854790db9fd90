"""Tracking ingest and proactive sweep at scale.

    .venv/bin/python bench/tracking.py                      # 1M events, scratch PostgreSQL
    .venv/bin/python bench/tracking.py --events 100000      # a quicker run

Creates a scratch PostgreSQL database (dropped at the end), loads 100,000 shipments (one per
10 events) with SQL, then POSTs the events in batches of 1,000 to /api/v1/logistics/events
through the in-process Flask test client, with a bearer token: JSON parsing, pydantic
validation of every event, row locks on the batch's shipments, INSERT ... ON CONFLICT DO
NOTHING RETURNING, and the shipments' projection updated by event time. Events arrive
interleaved (each batch touches 1,000 different shipments), the worst case for the
projection. 1 % of the shipments had their last scan 40 h ago: then it times the core sweep
passes (``spoc.sweep()``, what ``spoc worker`` runs) that open one proactive request per stale
shipment (the plugin's ``spoc_sweep_tasks``) and escalate them to the carrier desk (its
escalation checks), and a sweep pass over the same million events with nothing due.
A replay of the first 10 batches measures the duplicate path.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from spoc import Actor, FrozenClock, Role, create_app
from spoc.core.services import Spoc, spoc_of

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
EVENTS_PER_SHIPMENT = 10
BATCH = 1000
STALE_EVERY = 100  # 1 %
SWEEP_BATCH = 500


def load_shipments(spoc: Spoc, shipments: int, account_id: int) -> None:
    with spoc.db.engine.begin() as connection:
        connection.execute(
            text(
                """
                INSERT INTO logistics_orders (order_number, account_id, customer_name,
                    customer_email, created_at)
                SELECT 'PO-' || g, :account, 'Customer ' || g, 'c' || g || '@example.com',
                    :created
                FROM generate_series(1, :n) AS g
                """
            ),
            {"account": account_id, "n": shipments, "created": NOW - timedelta(days=3)},
        )
        connection.execute(
            text(
                """
                INSERT INTO logistics_shipments (order_id, carrier, tracking_number, mode,
                    domestic, promised_by, origin_city, origin_country, destination_city,
                    destination_country, destination_address, consignee_name, status,
                    failed_attempts, damage_reported, loss_reported, customs_hold,
                    stale_watch, exception_due, revision, created_at)
                SELECT g, 'DHL', 'T' || g, 'road', true, :promised, 'Hamburg', 'DE',
                    'Munich', 'DE', 'Street ' || g, 'Consignee ' || g, 'pending',
                    0, false, false, false, false, false, 0, :created
                FROM generate_series(1, :n) AS g
                """
            ),
            {"n": shipments, "promised": NOW + timedelta(days=2), "created": NOW},
        )
        connection.execute(text("ANALYZE logistics_shipments"))


def event_batches(shipments: int, total: int) -> list[list[dict[str, object]]]:
    """Round r carries event r of every shipment, so each batch spans 1,000 shipments."""
    events: list[dict[str, object]] = []
    for r in range(EVENTS_PER_SHIPMENT):
        for s in range(1, shipments + 1):
            stale = s % STALE_EVERY == 0
            base = NOW - (timedelta(hours=40) if stale else timedelta(hours=12))
            events.append(
                {
                    "event_id": f"E{s}-{r}",
                    "carrier": "DHL",
                    "tracking_number": f"T{s}",
                    "occurred_at": (base + timedelta(minutes=60 * r)).isoformat(),
                    "status": "in_transit",
                    "raw_code": "AF",
                    "code_system": "DHL",
                    "city": "Kassel",
                    "country": "DE",
                }
            )
            if len(events) == total:
                break
        if len(events) == total:
            break
    return [events[i : i + BATCH] for i in range(0, len(events), BATCH)]


def run(url: str, total: int) -> None:
    shipments = total // EVENTS_PER_SHIPMENT
    app = create_app(
        env="test",
        database_url=url,
        plugins=["generic", "logistics"],
        clock=FrozenClock(NOW),
        calendars={"default": {"always_open": True}},
        plugin_settings={"logistics": {"detect_batch": SWEEP_BATCH}},
        api_limit="1000000 per minute",
    )
    spoc = spoc_of(app)
    spoc.upgrade_database()
    agent = spoc.directory.add_agent(email="bench@example.org", name="Bench", role=Role.AGENT)
    spoc.directory.add_team(key="carrier_desk", name="Carrier desk")
    account = spoc.directory.add_subject(
        kind="logistics.account", name="Bench account", spoc_agent_id=agent.id
    )
    _, secret = spoc.tokens.create(Actor.system(), "bench@example.org", "bench")
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    load_shipments(spoc, shipments, account.id)
    batches = event_batches(shipments, total)
    client = app.test_client()

    in_requests = 0.0
    started = time.perf_counter()
    for batch in batches:
        body = json.dumps({"events": batch})
        t0 = time.perf_counter()
        response = client.post("/api/v1/logistics/events", data=body, headers=headers)
        in_requests += time.perf_counter() - t0
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        assert response.get_json()["accepted"] == len(batch)
    wall = time.perf_counter() - started
    print(f"ingest: {total:,} events in {len(batches):,} batches of {BATCH}")
    print(f"  {total / in_requests:,.0f} events/s in the endpoint ({in_requests:.1f} s)")
    print(f"  {total / wall:,.0f} events/s with client-side JSON encoding ({wall:.1f} s)")

    t0 = time.perf_counter()
    for batch in batches[:10]:
        response = client.post("/api/v1/logistics/events", json={"events": batch}, headers=headers)
        assert response.get_json()["duplicates"] == len(batch)
    replay = time.perf_counter() - t0
    print(f"  replay of 10 batches: {10 * BATCH / replay:,.0f} duplicate events/s")

    with spoc.db.engine.begin() as connection:
        connection.execute(text("ANALYZE logistics_shipments"))
        connection.execute(text("ANALYZE logistics_tracking_events"))
    stale = shipments // STALE_EVERY
    t0 = time.perf_counter()
    opened, escalated, passes = 0, 0, 0
    while True:
        swept = spoc.sweep(limit=SWEEP_BATCH)
        passes += 1
        opened += swept.plugin_tasks
        escalated += swept.plugin_triggers
        assert not swept.errors, swept.errors
        if swept.plugin_tasks == 0 and swept.plugin_triggers == 0:
            break
    sweep_time = time.perf_counter() - t0
    print(
        f"sweep: {opened:,} proactive requests opened for {stale:,} stale of {shipments:,} "
        f"shipments and {escalated:,} escalated to the carrier desk in {passes} passes of "
        f"<= {SWEEP_BATCH}: {sweep_time:.2f} s ({sweep_time / max(opened, 1) * 1000:.1f} ms "
        "per proactive request, opened and escalated)"
    )
    t0 = time.perf_counter()
    idle = spoc.sweep(limit=SWEEP_BATCH)
    print(
        f"idle sweep pass over {total:,} events: "
        f"{(time.perf_counter() - t0) * 1000:.1f} ms "
        f"(tasks {idle.plugin_tasks}, triggers {idle.plugin_triggers})"
    )
    spoc.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--server",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server URL; a scratch database is created on it and dropped",
    )
    args = parser.parse_args()
    base = make_url(args.server)
    name = f"spoc_bench_tracking_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        run(base.set(database=name).render_as_string(hide_password=False), args.events)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
